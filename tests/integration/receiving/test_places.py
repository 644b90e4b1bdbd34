"""Every submission of every form gets a place, and refusals name places, not codes.

A form uploaded through the API that asks no commune or village (issue 14) is placed from its
sender: their one village, else the one commune their units are in; a sender working in
several communes leaves it without a place, waiting in the queue of each of their communes.
It is never nowhere: the right commune's official sees it, on the site and through the API,
and another commune's official does not.
"""

from __future__ import annotations

import io
import json
import uuid

import openpyxl
import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit, Household, Pair, Role, Submission
from server.services.access import scope, users
from server.services.forms import places as submission_places
from server.services.programme import units as admin_units
from server.services.sync import changes
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import registration, visit
from tests.integration.helpers import PASSWORD, basic, bearer
from tests.integration.live import FormPlaces, World, populate_world, publish_shipped_xforms
from tests.integration.web.site import SiteClient

FORM_ID = "giupho_khao_sat_nhanh"


@pytest.fixture
def world(app, make_user, make_device) -> World:
    with app.app_context():
        made = populate_world(publish_shipped_xforms)
    make_user("official_b", Role.COMMUNE_OFFICIAL, made.places.commune_b)
    # Working in both communes: a form that names no place cannot say which is theirs.
    make_user("cadre_ab", Role.CADRE, made.places.village_a1, made.places.village_b1)
    made.tokens["cadre_ab"] = make_device("cadre_ab")
    return made


def survey_xlsx() -> bytes:
    """An XLSForm as a coordinator writes one: a question, no commune, no village."""
    book = openpyxl.Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label"])
    survey.append(["text", "remark", "Nhận xét"])
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version", "form_title"])
    settings.append([FORM_ID, "1", "Khảo sát nhanh"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def survey(client, world):
    """The XLSForm uploaded and published through the JSON API."""
    upload = client.post(
        "/api/v1/forms",
        data={"file": (io.BytesIO(survey_xlsx()), "khao_sat.xlsx")},
        headers=basic("admin"),
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    published = client.post(f"/api/v1/forms/{FORM_ID}/versions/1/publish", headers=basic("admin"))
    assert published.status_code == 200, published.get_json()
    return FORM_ID


def send_openrosa(client, world: World, username: str) -> str:
    iid = f"uuid:{uuid.uuid4()}"
    xml = (
        f'<data id="{FORM_ID}" version="1"><remark>Nhà dột</remark>'
        f"<meta><instanceID>{iid}</instanceID></meta></data>"
    ).encode()
    response = client.post(
        f"/key/{world.tokens[username]}/submission",
        data={"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")},
        headers={"X-OpenRosa-Version": "1.0"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return iid


def send_json(client, world: World, username: str) -> str:
    iid = f"uuid:{uuid.uuid4()}"
    item = {
        "instance_id": iid,
        "form_id": FORM_ID,
        "version": "1",
        "answers": {"remark": "Nhà dột", "meta": {"instanceID": iid}},
    }
    response = client.post(
        "/api/v1/sync/push",
        data=json.dumps({"items": [item]}),
        headers={"Content-Type": "application/json", **bearer(world.tokens[username])},
    )
    assert response.status_code == 200, response.get_json()
    assert response.json["results"][0]["status"] == 201, response.json
    return iid


SENDERS = {"openrosa": send_openrosa, "json": send_json}


def place_of(app, iid: str) -> tuple[str | None, str | None]:
    with app.app_context():
        row = db.session.execute(
            sa.select(Submission.commune_id, Submission.village_id).where(
                Submission.instance_id == iid
            )
        ).one()
        path = {u.id: u.path for u in db.session.scalars(sa.select(AdminUnit))}
        return path.get(row.commune_id), path.get(row.village_id)


def api_queue(client, username: str, **query) -> list[str]:
    response = client.get("/api/v1/submissions", query_string=query, headers=basic(username))
    assert response.status_code == 200, response.get_json()
    return [s["instance_id"] for s in response.json["submissions"]]


def site_queue(app, username: str, commune_path: str) -> str:
    browser = SiteClient(app)
    assert browser.sign_in(username, PASSWORD).status_code == 302
    with app.app_context():
        commune = admin_units.find(commune_path).id
    page = browser.get("/review/submissions", query_string={"commune": commune})
    assert page.status_code == 200
    return page.get_data(as_text=True)


@pytest.mark.parametrize("protocol", ["openrosa", "json"])
def test_a_form_naming_no_place_is_placed_at_its_senders_only_village(
    app, client, world, survey, protocol
):
    iid = SENDERS[protocol](client, world, "cadre_b")

    assert place_of(app, iid) == (world.places.commune_b, world.places.village_b1)
    assert iid in api_queue(client, "official_b")
    assert iid not in api_queue(client, "official_a")
    assert iid in site_queue(app, "official_b", world.places.commune_b)
    assert iid not in site_queue(app, "official_a", world.places.commune_a)


@pytest.mark.parametrize("protocol", ["openrosa", "json"])
def test_a_sender_of_one_commune_s_villages_places_it_in_that_commune(
    app, client, world, survey, protocol
):
    iid = SENDERS[protocol](client, world, "cadre_a")  # villages a1 and a2

    assert place_of(app, iid) == (world.places.commune_a, None)
    assert iid in api_queue(client, "official_a", commune=world.places.commune_a)
    assert iid not in api_queue(client, "official_b")


@pytest.mark.parametrize("protocol", ["openrosa", "json"])
def test_a_sender_of_several_communes_leaves_it_waiting_in_each_of_their_communes(
    app, client, world, survey, protocol
):
    iid = SENDERS[protocol](client, world, "cadre_ab")

    assert place_of(app, iid) == (None, None)
    assert iid in api_queue(client, "official_a", commune=world.places.commune_a)
    assert iid in api_queue(client, "official_b", commune=world.places.commune_b)
    assert iid in site_queue(app, "official_b", world.places.commune_b)
    assert iid not in api_queue(client, "coordinator_other")  # another province
    assert iid in api_queue(client, "coordinator")  # the province's coordinator


def test_an_official_cannot_list_another_communes_queue(client, world, survey):
    response = client.get(
        "/api/v1/submissions",
        query_string={"commune": world.places.commune_b},
        headers=basic("official_a"),
    )
    assert response.status_code == 404


# -- refusals name places --------------------------------------------------------------------


def test_a_village_outside_the_area_is_refused_by_its_names(client, world):
    root = registration(village=FormPlaces.answer(world.places.village_b1))
    response = client.post(
        "/api/v1/sync/push",
        json={"items": [answers_item(root)]},
        headers=bearer(world.tokens["cadre_a"]),
    )
    (result,) = response.json["results"]
    assert (result["status"], result["code"]) == (403, "403.3")
    assert "Bản 1, Xã Nà Tấu" in result["message"] and "03316" not in result["message"]


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_an_unknown_village_is_refused_by_its_names_and_says_what_to_do(client, world, lang):
    root = registration(village="03334_01")  # in the form's list, not on the server
    response = client.post(
        "/api/v1/sync/push",
        json={"items": [answers_item(root)]},
        headers=bearer(world.tokens["cadre_a"]) | {"Accept-Language": lang},
    )
    (result,) = response.json["results"]
    assert (result["status"], result["code"]) == (403, "403.30")
    message = result["message"]
    assert "Tổ dân phố 1, Phường Mường Thanh" in message and "03334_01" in message
    advice = {"vi": "đề nghị cán bộ điều phối thêm", "en": "ask your coordinator to add"}
    assert advice[lang] in message


def test_openrosa_refusals_name_the_place_too(client, world):
    from forms.instance import to_xml

    root = registration(village=FormPlaces.answer(world.places.village_b1))
    response = client.post(
        f"/key/{world.tokens['cadre_a']}/submission",
        data={"xml_submission_file": (io.BytesIO(to_xml(root)), "s.xml", "text/xml")},
        headers={"X-OpenRosa-Version": "1.0", "Accept-Language": "vi"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 403
    body = response.get_data(as_text=True)
    assert "Bản 1, Xã Nà Tấu" in body and "03316_01" not in body


# -- paired households -------------------------------------------------------------------------


def test_a_cadre_may_update_a_household_paired_with_them_outside_their_villages(app, client, world):
    root = registration(village=FormPlaces.answer(world.places.village_b1))
    item = answers_item(root)
    hid = item["answers"]["meta"]["entity"]["@id"]
    push = {"Content-Type": "application/json"}
    sent = client.post(
        "/api/v1/sync/push",
        data=json.dumps({"items": [item]}),
        headers=push | bearer(world.tokens["cadre_b"]),
    )
    assert sent.json["results"][0]["status"] == 201

    def visit_by_cadre_a() -> dict:
        again = answers_item(visit(hid, base_version=1))
        response = client.post(
            "/api/v1/sync/push",
            data=json.dumps({"items": [again]}),
            headers=push | bearer(world.tokens["cadre_a"]),
        )
        return response.json["results"][0]

    assert visit_by_cadre_a()["status"] == 403  # not theirs yet
    with app.app_context():
        paired = Pair(
            household_id=hid, helper_user_id=users.find("cadre_a").id, starts_on=scope.today()
        )
        db.session.add(paired)
        changes.pair_changed(paired)
        db.session.commit()
    assert visit_by_cadre_a()["status"] == 201
    with app.app_context():
        assert db.session.get(Household, hid).version == 2


def test_the_in_memory_check_of_paired_households_agrees_with_the_scope_service(app, client, world):
    root = registration(village=FormPlaces.answer(world.places.village_b1))
    item = answers_item(root)
    hid = item["answers"]["meta"]["entity"]["@id"]
    client.post(
        "/api/v1/sync/push", json={"items": [item]}, headers=bearer(world.tokens["cadre_b"])
    )
    with app.app_context():
        cadre_a = users.find("cadre_a")
        db.session.add(Pair(household_id=hid, helper_user_id=cadre_a.id, starts_on=scope.today()))
        db.session.commit()
        household = db.session.get(Household, hid)
        for name in ("cadre_a", "cadre_b", "official_a", "cadre_other", "admin"):
            person = users.find(name)
            in_sql = db.session.scalar(
                sa.select(sa.func.count()).where(Household.id == hid, scope.households(person))
            )
            place = submission_places.of_household(household)
            assert submission_places.allowed(person, place) == bool(in_sql), name
