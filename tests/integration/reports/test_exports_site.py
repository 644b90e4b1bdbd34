"""The exports page of the site: ask for an export, see its progress, download the file;
the nav link only for those who may export; cadres refused."""

from __future__ import annotations

import io
import time
import zipfile

import openpyxl
import pytest

from forms.library import REGISTRATION_FORM_ID
from tests.integration.openrosa.world import (
    OPENROSA,
    household,
    registration_xml,
    world,  # noqa: F401 - fixture
)
from tests.integration.web.site import SiteClient

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
def collect(client, world):  # noqa: F811 - the fixture
    def post(xml: bytes, username: str = "cadre_a") -> None:
        data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
        response = client.post(world.key_url(username, "/submission"), data=data, headers=OPENROSA)
        assert response.status_code == 201, response.get_data(as_text=True)

    return post


def signed_in(app, username: str) -> SiteClient:
    browser = SiteClient(app)
    assert browser.sign_in(username).status_code == 302
    return browser


def test_an_official_asks_for_an_export_on_the_page_and_downloads_it(app, collect):
    collect(registration_xml(household(head_name="Lò Văn Thắng")))
    browser = signed_in(app, "official_a")
    page = browser.get("/exports").get_data(as_text=True)
    assert 'id="exports-link"' in page and "Xuất dữ liệu" in page
    assert f'<option value="{REGISTRATION_FORM_ID}"' in page

    asked = browser.post("/exports", {"kind": "submissions", "form": REGISTRATION_FORM_ID,
                                      "labels": "vi", "format": "xlsx"})  # fmt: skip
    assert asked.status_code == 303
    deadline = time.monotonic() + 30
    while 'data-status="done"' not in (page := browser.get("/exports").get_data(as_text=True)):
        assert time.monotonic() < deadline and 'data-status="failed"' not in page
        time.sleep(0.05)
    link = page.split('href="/exports/', 1)[1].split('"', 1)[0]
    response = browser.get(f"/exports/{link}")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["head-head_name"] == "Lò Văn Thắng" and row["head-head_sex"] == "Nam"


def test_households_csv_from_the_page_keeps_vietnamese_for_excel(app, collect):
    collect(registration_xml(household(head_name="Lò Văn Thắng")))
    browser = signed_in(app, "official_a")
    browser.get("/exports")
    assert browser.post("/exports", {"kind": "households", "format": "csv"}).status_code == 303
    deadline = time.monotonic() + 30
    while 'data-status="done"' not in (page := browser.get("/exports").get_data(as_text=True)):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    link = page.split('href="/exports/', 1)[1].split('"', 1)[0]
    raw = browser.get(f"/exports/{link}").data
    assert raw.startswith(b"\xef\xbb\xbf") and "Lò Văn Thắng".encode() in raw
    assert not zipfile.is_zipfile(io.BytesIO(raw))


def test_cadres_have_no_exports(app):
    browser = signed_in(app, "cadre_a")
    assert browser.get("/exports").status_code == 403
    assert browser.post("/exports", {"kind": "households", "format": "csv"}).status_code == 403
    page = browser.get("/review").get_data(as_text=True)
    assert 'id="exports-link"' not in page
