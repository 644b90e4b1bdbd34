"""Form list, form download, manifest, media, entity list, integrity: as ODK Collect reads them."""

from __future__ import annotations

import csv
import hashlib
import io

from forms.library import VISIT_VERSION
from forms.load import load_form
from server.db import db
from server.models import FormMedia, Role
from server.services.forms import publishing as forms
from server.services.programme import units as admin_units
from tests.integration.openrosa.documents import (
    REQUIRED_HEADERS,
    form_entries,
    media_entries,
    parse,
    path_of,
)
from tests.integration.openrosa.world import OPENROSA, household, registration_xml, visit_xml

SHIPPED = {"giupho_household_registration", "giupho_household_visit"}


def get(client, world, username: str, path: str, **headers):
    return client.get(world.key_url(username, path), headers={**OPENROSA, **headers})


def test_form_list_has_every_field_collect_requires(client, world):
    response = get(client, world, "cadre_a", "/formList")

    assert response.status_code == 200
    assert response.content_type == "text/xml; charset=utf-8"
    assert all(response.headers.get(h) for h in REQUIRED_HEADERS)
    entries = {e["formID"]: e for e in form_entries(response.data)}
    assert set(entries) == SHIPPED
    visit = entries["giupho_household_visit"]
    assert visit["version"] == VISIT_VERSION and visit["name"].startswith("Thăm hộ gia đình")
    assert "manifestUrl" in visit  # it reads the households entity list
    assert "manifestUrl" in entries["giupho_household_registration"]  # the places it offers


def test_form_list_honours_form_id_and_the_caller_s_forms(client, world, app, make_user):
    only = get(client, world, "cadre_a", "/formList?formID=giupho_household_visit")
    assert [e["formID"] for e in form_entries(only.data)] == ["giupho_household_visit"]

    # A form bound to commune b is not listed to a cadre of commune a.
    with app.app_context():
        xform = parse_form_with_id("commune_b_only")
        forms.upload(xform, "commune_b_only.xml", None, unit=_unit("11/03316"))
        forms.publish(None, "commune_b_only", "1")
    listed_a = {e["formID"] for e in form_entries(get(client, world, "cadre_a", "/formList").data)}
    listed_b = {e["formID"] for e in form_entries(get(client, world, "cadre_b", "/formList").data)}
    assert "commune_b_only" not in listed_a and "commune_b_only" in listed_b


def test_downloaded_xform_has_the_listed_md5(client, world):
    entries = form_entries(get(client, world, "cadre_a", "/formList").data)
    for entry in entries:
        response = client.get(path_of(entry["downloadUrl"]), headers=OPENROSA)
        assert response.status_code == 200 and response.content_type.startswith("text/xml")
        assert entry["hash"] == "md5:" + hashlib.md5(response.data).hexdigest()
        assert parse(response.data).tag == "{http://www.w3.org/1999/xhtml}html"


def test_manifest_offers_the_households_entity_list_with_an_integrity_url(client, world):
    response = client.get(path_of(_visit_entry(client, world)["manifestUrl"]), headers=OPENROSA)

    assert response.status_code == 200 and all(response.headers.get(h) for h in REQUIRED_HEADERS)
    (entry,) = [e for e in media_entries(response.data) if e["filename"] != "poverty_lines.csv"]
    assert (entry["filename"], entry["@type"]) == ("households.csv", "entityList")
    assert "/datasets/households/integrity" in entry["integrityUrl"]
    csv = client.get(path_of(entry["downloadUrl"]), headers=OPENROSA)
    assert csv.content_type == "text/csv; charset=utf-8"
    assert entry["hash"] == "md5:" + hashlib.md5(csv.data).hexdigest()
    assert csv.data.decode().startswith("name,label,__version")


def test_the_entity_list_holds_the_caller_s_households_and_its_hash_follows_them(client, world):
    home_a, home_b = household(village="03325_01"), household(village="03316_01")
    submit(client, world, "cadre_a", registration_xml(home_a))
    submit(client, world, "cadre_b", registration_xml(home_b))
    before_a, before_b = (
        _entity_list_hash(client, world, "cadre_a"),
        _entity_list_hash(client, world, "cadre_b"),
    )

    rows = _entity_list_rows(client, world, "cadre_a")
    assert [r["name"] for r in rows] == [home_a.id] and rows[0]["__version"] == "1"
    assert rows[0]["head_name"] == "Lò Văn Minh" and rows[0]["village"] == "03325_01"

    assert submit(client, world, "cadre_b", visit_xml(home_b.id, 1)).status_code == 201
    assert _entity_list_hash(client, world, "cadre_a") == before_a  # unchanged for cadre_a
    assert _entity_list_hash(client, world, "cadre_b") != before_b
    assert _entity_list_rows(client, world, "cadre_b")[0]["__version"] == "2"


def test_integrity_answers_for_every_requested_id(client, world):
    home = household()
    submit(client, world, "cadre_a", registration_xml(home))
    response = get(
        client, world, "cadre_a", f"/datasets/households/integrity?id={home.id},offline-only-id"
    )

    assert response.status_code == 200
    root = parse(response.data)
    assert root.tag == "data" and [c.tag for c in root] == ["entities"]
    found = {e.get("id"): e.find("deleted").text for e in root.find("entities")}
    assert found == {home.id: "false", "offline-only-id": "false"}
    assert b"\n" not in response.data.split(b"?>", 1)[1]  # Collect's parser: no whitespace


def test_a_form_the_caller_may_not_see_is_not_found(client, world, app):
    with app.app_context():
        forms.upload(parse_form_with_id("commune_b_only"), "b.xml", None, unit=_unit("11/03316"))
        forms.publish(None, "commune_b_only", "1")
    for path in (
        "/forms/commune_b_only/versions/1/form.xml",
        "/forms/commune_b_only/versions/1/manifest",
    ):
        response = get(client, world, "cadre_a", path, **{"Accept-Language": "en"})
        assert response.status_code == 404
        assert b"commune_b_only" in response.data and b"OpenRosaResponse" in response.data


def test_uploaded_media_is_listed_and_served(client, world, app):
    with app.app_context():
        version = forms.find_version("giupho_household_visit", VISIT_VERSION)
        data = "tên,giá trị\n".encode()
        db.session.add(
            FormMedia(
                form_version=version,
                filename="lists.csv",
                content_type="text/csv",
                size=len(data),
                md5=hashlib.md5(data).hexdigest(),
                data=data,
            )
        )
        db.session.commit()
    entries = {
        e["filename"]: e
        for e in media_entries(
            client.get(path_of(_visit_entry(client, world)["manifestUrl"]), headers=OPENROSA).data
        )
    }
    assert set(entries) == {"households.csv", "lists.csv", "poverty_lines.csv"}
    assert "@type" not in entries["lists.csv"]
    served = client.get(path_of(entries["lists.csv"]["downloadUrl"]), headers=OPENROSA)
    assert served.data == "tên,giá trị\n".encode()
    assert entries["lists.csv"]["hash"] == "md5:" + hashlib.md5(served.data).hexdigest()


def test_a_commune_official_lists_the_whole_commune(client, world, make_user):
    make_user("official_b", Role.COMMUNE_OFFICIAL, "11/03316")
    submit(client, world, "cadre_a", registration_xml(household(village="03325_01")))
    submit(client, world, "cadre_a", registration_xml(household(village="03325_02")))
    assert len(_entity_list_rows(client, world, "official_a")) == 2


# -- helpers ---------------------------------------------------------------------------------


def submit(client, world, username: str, xml: bytes):
    files = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    return client.post(world.key_url(username, "/submission"), data=files, headers=OPENROSA)


def _visit_entry(client, world, username: str = "cadre_a") -> dict[str, str]:
    entries = form_entries(get(client, world, username, "/formList").data)
    return next(e for e in entries if e["formID"] == "giupho_household_visit")


def _entity_list_entry(client, world, username: str) -> dict[str, str]:
    manifest = client.get(
        path_of(_visit_entry(client, world, username)["manifestUrl"]), headers=OPENROSA
    )
    return next(e for e in media_entries(manifest.data) if e.get("@type") == "entityList")


def _entity_list_hash(client, world, username: str) -> str:
    return _entity_list_entry(client, world, username)["hash"]


def _entity_list_rows(client, world, username: str) -> list[dict[str, str]]:
    url = _entity_list_entry(client, world, username)["downloadUrl"]
    text = client.get(path_of(url), headers=OPENROSA).data.decode()
    return list(csv.DictReader(io.StringIO(text)))


def _unit(path: str):
    return admin_units.find(path)


def parse_form_with_id(form_id: str) -> bytes:
    """The XForm of a one-question form called `form_id`."""
    markdown = f"""
| survey |        |       |              |
|        | type   | name  | label        |
|        | text   | note_text | Ghi chú  |
| settings |            |         |
|          | form_id    | version |
|          | {form_id}  | 1       |
"""
    return load_form(markdown, "form.md").xform
