"""Forms management: upload as draft, publish, close, every version kept, problems on bad forms."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent, FormVersion, Role
from server.services.forms import publishing as form_service
from server.services.programme import units as admin_units
from tests.integration.helpers import basic

VISIT = """
| survey   |
|          | type    | name | label::English (en) | label::Tiếng Việt (vi) |
|          | text    | head | Head of household   | Chủ hộ                 |
|          | integer | size | Members             | Số nhân khẩu           |
| settings |
|          | form_id    | version   | form_title |
|          | test_visit | {version} | Thăm hộ    |
"""

BROKEN = """
| survey   |
|          | type    | name | label   | relevant     |
|          | text    | head | Head    |              |
|          | integer | size | Members | ${nope} > 1  |
| settings |
|          | form_id | version |
|          | broken  | 1       |
"""


def visit(version: str = "1", members_label: str = "Members") -> bytes:
    """The test form; another label for the second question makes different content."""
    return VISIT.format(version=version).replace("Members", members_label).encode()


def upload(client, user: str, content: bytes, filename: str = "visit.md", **fields):
    data = {"file": (io.BytesIO(content), filename), **fields}
    return client.post("/api/v1/forms", data=data, headers=basic(user))


def act(client, user: str, action: str, form_id: str = "test_visit", version: str = "1"):
    return client.post(f"/api/v1/forms/{form_id}/versions/{version}/{action}", headers=basic(user))


def listed(client, user: str, **params) -> dict[str, list[tuple[str, str]]]:
    response = client.get("/api/v1/forms", headers=basic(user), query_string=params)
    assert response.status_code == 200
    return {
        f["form_id"]: [(v["version"], v["state"]) for v in f["versions"]]
        for f in response.json["forms"]
    }


@pytest.fixture
def people(places, make_user):
    make_user("quantri", Role.ADMIN)
    make_user("dieuphoi", Role.COORDINATOR, places.province)
    make_user("xa.a", Role.COMMUNE_OFFICIAL, places.commune_a)
    make_user("canbo.a1", Role.CADRE, places.village_a1)
    return places


def test_upload_publish_close_lifecycle(client, app, people):
    response = upload(client, "dieuphoi", visit())
    assert response.status_code == 201
    version = response.json
    assert (version["form_id"], version["version"], version["state"]) == (
        "test_visit",
        "1",
        "draft",
    )
    assert version["title"] == "Thăm hộ" and version["hash"].startswith("md5:")
    assert version["source_filename"] == "visit.md" and version["published_at"] is None
    assert listed(client, "canbo.a1") == {}  # drafts are for form managers
    assert listed(client, "dieuphoi") == {"test_visit": [("1", "draft")]}

    published = act(client, "dieuphoi", "publish")
    assert published.status_code == 200 and published.json["state"] == "published"
    assert published.json["published_at"] is not None
    assert listed(client, "canbo.a1") == {"test_visit": [("1", "published")]}

    assert act(client, "dieuphoi", "close").json["state"] == "closed"
    assert act(client, "dieuphoi", "publish").json["state"] == "published"  # reopened
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-4:] == ["form.upload", "form.published", "form.closed", "form.published"]


def test_every_version_is_kept_and_a_version_never_changes(client, app, people):
    assert upload(client, "dieuphoi", visit("1")).status_code == 201
    same_again = upload(client, "dieuphoi", visit("1"), filename="copy.md")
    assert same_again.status_code == 200 and same_again.json["source_filename"] == "visit.md"
    changed = client.post(
        "/api/v1/forms",
        headers={**basic("dieuphoi"), "Accept-Language": "vi"},
        data={"file": (io.BytesIO(visit("1", "People")), "visit.md")},
    )
    assert changed.status_code == 409 and changed.json["code"] == "409.1"
    assert "đổi 'version'" in changed.json["message"]
    assert upload(client, "dieuphoi", visit("2")).status_code == 201
    assert listed(client, "dieuphoi") == {"test_visit": [("1", "draft"), ("2", "draft")]}
    with app.app_context():
        stored = form_service.find_version("test_visit", "1")
        assert stored.source == visit("1")  # the file as uploaded, for a later download
        assert b"<h:html" in stored.xform and b"test_visit" in stored.xform


def test_xform_upload_takes_the_same_path_as_xlsform(client, app, people):
    from forms.load import load_form

    xform = load_form(visit().decode(), "visit.md").xform
    assert upload(client, "dieuphoi", visit()).status_code == 201
    # The XForm pyxform made from the XLSForm is the same form version, unchanged.
    assert upload(client, "dieuphoi", xform, filename="visit.xml").status_code == 200
    assert (
        upload(
            client, "dieuphoi", xform.replace(b"test_visit", b"xml_visit"), filename="visit.xml"
        ).status_code
        == 201
    )


def test_broken_form_is_refused_with_every_problem_and_where_it_is(client, app, people):
    response = client.post(
        "/api/v1/forms",
        headers={**basic("dieuphoi"), "Accept-Language": "en"},
        data={"file": (io.BytesIO(BROKEN.encode()), "broken.md")},
    )
    assert response.status_code == 400 and response.json["code"] == "400.4"
    assert response.json["message"].startswith("The form cannot be used: 1 problem(s)")
    [problem] = response.json["details"]["problems"]
    assert problem["sheet"] == "survey" and problem["row"] == 3 and "nope" in problem["message"]
    assert problem["message_vi"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FormVersion)) == 0


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        (b"%PDF-1.4", "scan.pdf", "400.5"),
        (b"", "", "400.2"),
    ],
)
def test_upload_needs_a_form_file(client, people, content, filename, code):
    response = upload(client, "dieuphoi", content, filename=filename)
    assert response.status_code == 400 and response.json["code"] == code


@pytest.mark.parametrize("user", ["canbo.a1", "xa.a"])
def test_only_form_managers_upload_and_publish(client, people, user):
    assert upload(client, user, visit()).json["code"] == "403.1"
    upload(client, "dieuphoi", visit())
    assert act(client, user, "publish").status_code == 403


def test_forms_stay_inside_the_uploaders_area(client, app, people, make_user):
    with app.app_context():
        admin_units.import_province("12", ["03390"])
    make_user("dieuphoi.12", Role.COORDINATOR, "12")
    assert upload(client, "dieuphoi.12", visit()).status_code == 201
    # Province 11's coordinator cannot see it, so cannot publish or even confirm it exists.
    response = act(client, "dieuphoi", "publish")
    assert response.status_code == 404 and response.json["code"] == "404.2"
    assert "test_visit" not in listed(client, "dieuphoi")
    # ...nor add a version to it.
    assert upload(client, "dieuphoi", visit("2")).json["code"] == "403.2"
    # A coordinator may place a form in a unit of their area, not outside it.
    assert (
        upload(client, "dieuphoi", visit("1").replace(b"test_visit", b"other"), unit="12").json[
            "code"
        ]
        == "403.2"
    )
    assert (
        upload(
            client, "dieuphoi", visit("1").replace(b"test_visit", b"other"), unit="11/03325"
        ).status_code
        == 201
    )
    assert (
        upload(client, "dieuphoi", visit("1").replace(b"test_visit", b"x"), unit="99").json["code"]
        == "404.6"
    )


@pytest.mark.parametrize("unit", ["11\x00", "\x00æù\x08", "1" * 5000])
def test_a_unit_field_that_is_not_a_path_is_a_400_that_names_it(client, people, unit):
    """Found by the OpenAPI fuzzer: a NUL in the multipart field reached PostgreSQL (500)."""
    response = upload(client, "dieuphoi", visit(), unit=unit)
    assert response.status_code == 400, response.data
    assert response.json["code"] == "400.3" and "unit" in response.json["message"]


def test_state_changes_that_make_no_sense_are_409_2(client, people):
    upload(client, "dieuphoi", visit())
    response = client.post(
        "/api/v1/forms/test_visit/versions/1/close",
        headers={**basic("dieuphoi"), "Accept-Language": "vi"},
    )
    assert response.status_code == 409 and response.json["code"] == "409.2"
    assert response.json["message"] == (
        "Biểu mẫu 'test_visit' phiên bản '1' đang ở trạng thái nháp: không thể đóng."
    )
    assert act(client, "dieuphoi", "publish", version="9").json["code"] == "404.2"


def test_list_filters_by_state(client, people):
    upload(client, "dieuphoi", visit("1"))
    upload(client, "dieuphoi", visit("2"))
    act(client, "dieuphoi", "publish", version="2")
    assert listed(client, "dieuphoi", state="published") == {"test_visit": [("2", "published")]}
    bad = client.get("/api/v1/forms?state=final", headers=basic("dieuphoi"))
    assert bad.status_code == 400 and bad.json["code"] == "400.3"


def test_a_server_holding_the_previous_shipped_registration_starts_with_the_new_one(app):
    """The shipped registration form changed (issue 14: places from places.csv). A server
    that loaded the earlier form loads the shipped forms again at every start: the new one
    must arrive as a new version, not be refused as a different form under a version the
    server already holds (409.1), which would stop `make run` on every existing install."""
    from forms.library import REGISTRATION_FORM_ID, REGISTRATION_VERSION, REGISTRATION_XLSX
    from forms.load import load_form

    shipped = load_form(REGISTRATION_XLSX.read_bytes(), REGISTRATION_XLSX.name)
    earlier = shipped.xform.replace(
        f'version="{REGISTRATION_VERSION}"'.encode(), b'version="2026112101"'
    ).replace(b"places.csv", b"earlier-places.csv")
    assert earlier != shipped.xform
    with app.app_context():
        form_service.upload(earlier, "household_registration.xml", None)
        form_service.publish(None, REGISTRATION_FORM_ID, "2026112101")
        form_service.load_library()
        versions = db.session.scalars(
            sa.select(FormVersion.version).where(FormVersion.state == "published")
        ).all()
        assert {"2026112101", REGISTRATION_VERSION} <= set(versions)
