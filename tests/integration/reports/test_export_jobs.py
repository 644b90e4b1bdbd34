"""Exports over the JSON API: asked for, made in the background with progress, downloaded;
a failed export keeps its error; small exports stream straight away; cadres are refused."""

from __future__ import annotations

import csv
import io
import time
import zipfile

import openpyxl
import pytest

from forms.library import REGISTRATION_FORM_ID
from server.db import db
from server.models import Role
from server.services.access import users
from server.services.reports import jobs
from server.services.reports.exports import ExportRequest
from tests.integration.helpers import bearer
from tests.integration.openrosa.world import (
    OPENROSA,
    household,
    registration_xml,
    world,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
def collect(client, world):  # noqa: F811 - the fixture
    def post(xml: bytes, username: str = "cadre_a") -> None:
        data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
        response = client.post(world.key_url(username, "/submission"), data=data, headers=OPENROSA)
        assert response.status_code == 201, response.get_data(as_text=True)

    return post


@pytest.fixture
def api(client, world):  # noqa: F811 - the fixture
    def call(method: str, path: str, username: str = "official_a", **kwargs):
        headers = bearer(world.tokens[username])
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def finished(api, job_id: int, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = api("GET", f"/exports/{job_id}").get_json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"export {job_id} still {job['status']}")


def test_an_export_is_made_in_the_background_with_its_progress_then_downloaded(api, collect):
    for name in ("Lò Văn Một", "Lò Văn Hai", "Lò Văn Ba"):
        collect(registration_xml(household(head_name=name)))
    asked = api("POST", "/exports", json={"kind": "submissions", "form": REGISTRATION_FORM_ID})
    assert asked.status_code == 202, asked.get_json()
    job = asked.get_json()
    assert job["rows_total"] == 3 and job["status"] in ("queued", "running", "done")

    done = finished(api, job["id"])
    assert done["status"] == "done" and done["rows_done"] == 3 and done["error"] is None
    listed = api("GET", "/exports").get_json()["exports"]
    assert [j["id"] for j in listed] == [job["id"]]

    response = api("GET", done["file_url"].removeprefix("/api/v1"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].endswith('.csv.zip"')
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        raw = zf.read(f"{REGISTRATION_FORM_ID}.csv")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert sorted(r["head-head_name"] for r in rows) == ["Lò Văn Ba", "Lò Văn Hai", "Lò Văn Một"]


def test_a_failed_export_keeps_its_error_for_the_user(app, api, collect):
    collect(registration_xml(household()))
    with app.app_context():
        official = users.find("official_a")
        job = jobs.create(official, ExportRequest.parse("households", "xlsx", {}))
        job_id = job.id
        # The official became a cadre before the export ran: it must fail, and say why.
        official.role = Role.CADRE
        db.session.commit()
        jobs.run(job_id)
        db.session.remove()
    with app.app_context():
        users.find("official_a").role = Role.COMMUNE_OFFICIAL
        db.session.commit()
        db.session.remove()
    shown = api("GET", f"/exports/{job_id}").get_json()
    assert shown["status"] == "failed"
    assert shown["error"].startswith("403.60 ")
    refused = api("GET", f"/exports/{job_id}/file")
    assert refused.status_code == 409 and refused.get_json()["code"] == "409.60"


def test_exports_are_refused_to_cadres_and_hidden_from_other_users(api, collect):
    collect(registration_xml(household()))
    refused = api("POST", "/exports", "cadre_a", json={"kind": "households"})
    assert refused.status_code == 403 and refused.get_json()["code"] == "403.60"
    assert api("GET", "/exports/households.csv", "cadre_a").status_code == 403
    job = api("POST", "/exports", json={"kind": "households"}).get_json()
    assert api("GET", f"/exports/{job['id']}", "cadre_a").get_json()["code"] == "404.61"
    unknown = api("POST", "/exports", json={"kind": "submissions", "form": "no_such_form"})
    assert unknown.status_code == 404 and unknown.get_json()["code"] == "404.60"


def test_a_small_export_streams_straight_away_and_a_large_one_is_sent_to_the_background(
    app, api, collect
):
    collect(registration_xml(household(head_name="Lò Văn Thắng")))
    response = api("GET", "/exports/households.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["Hộ"].startswith("Lò Văn Thắng") and row["Trạng thái"] == "active"
    assert row["head_cccd"].startswith("*") is False  # a commune official certifies
    app.config["EXPORT_DIRECT_MAX_ROWS"] = 0
    too_large = api("GET", "/exports/households.csv")
    assert too_large.status_code == 409 and too_large.get_json()["code"] == "409.61"
