"""Forms through the administration site: upload (every problem with its sheet and row),
publish, close, every version listed with its history; and the audit log's scope."""

from __future__ import annotations

import io
import re

from tests.integration.forms.test_forms import BROKEN, visit


def upload(client, content: bytes, filename: str = "visit.md", **fields):
    data = {"file": (io.BytesIO(content), filename), **fields}
    return client.post("/admin/forms", data, content_type="multipart/form-data")


def test_a_broken_form_shows_every_problem_with_its_sheet_and_row(browser_of):
    coordinator = browser_of("coordinator")
    response = upload(coordinator, BROKEN.encode(), "broken.md")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="upload-error"' in page
    rows = re.findall(r'<tr data-code="[^"]+">(.*?)</tr>', page, re.S)
    assert len(rows) == 1
    cells = [
        re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", rows[0], re.S)
    ]
    assert cells[0] == "survey" and cells[1] == "3" and "nope" in cells[3]
    assert coordinator.get("/admin/forms/broken").status_code == 404  # nothing was stored


def test_upload_publish_close_and_the_versions_history(browser_of):
    coordinator = browser_of("coordinator")
    response = upload(coordinator, visit("1"))
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/admin/forms/test_visit"
    )
    assert 'data-version="1"' in coordinator.followed
    assert upload(coordinator, visit("2")).status_code == 302
    page = coordinator.get("/admin/forms/test_visit").get_data(as_text=True)
    assert page.count("<tr data-version=") == 2
    assert coordinator.post("/admin/forms/test_visit/2/publish").status_code == 302
    assert coordinator.post("/admin/forms/test_visit/2/close").status_code == 302
    page = coordinator.get("/admin/forms/test_visit").get_data(as_text=True)
    actions = re.findall(r'<tr data-action="([^"]+)">', page)
    assert actions == ["form.closed", "form.published", "form.upload", "form.upload"]
    assert "Coordinator (coordinator)" in page
    official = browser_of("official_a")
    assert official.post("/admin/forms/test_visit/2/publish").status_code == 403


def test_an_official_may_not_upload_forms(browser_of):
    official = browser_of("official_a")
    assert upload(official, visit("1")).status_code == 403


def test_the_audit_log_shows_what_the_viewer_manages_only(browser_of):
    assert upload(browser_of("coordinator"), visit("1")).status_code == 302
    other = browser_of("coordinator_other")
    assert upload(other, visit("1").replace(b"test_visit", b"lao_cai_visit")).status_code == 302
    mine = browser_of("coordinator").get("/admin/audit").get_data(as_text=True)
    assert "test_visit" in mine and "lao_cai_visit" not in mine
    everything = browser_of("admin").get("/admin/audit").get_data(as_text=True)
    assert "test_visit" in everything and "lao_cai_visit" in everything
    assert browser_of("cadre_a").get("/admin/audit").status_code == 403
