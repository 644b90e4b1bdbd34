"""The support ledger's pages: an official records support to a household and voids it, an
admin edits the catalogue, an import lists its bad rows, the household page shows the ledger."""

from __future__ import annotations

import io
import re

from tests.integration.web.test_admin_pages import text


def test_an_official_records_support_to_a_household_and_voids_it(site, browser_of):
    official = browser_of("official_a")
    household = site.households_a[0]
    page = text(official.get("/admin/support"))
    assert "Bộ sách giáo khoa" in page and "Ghi nhận hỗ trợ" in page

    made = official.post(
        "/admin/support",
        {"kind": "notebooks", "household": household, "quantity": "20", "value_vnd": "200.000",
         "pupils": "2", "source": "organisation", "source_name": "Đoàn Thanh niên xã",
         "given_on": "2025-09-05"},
    )  # fmt: skip
    assert made.status_code == 302, text(made)[:500]
    entry_path = made.headers["Location"]
    shown = official.followed
    assert "Vở viết" in shown and "200.000" in shown and "Đoàn Thanh niên xã" in shown

    listed = text(official.get("/admin/support?kind=notebooks&date_from=2025-09-01"))
    assert len(re.findall(r'data-entry="\d+"', listed)) == 1
    assert 'data-entry="' not in text(official.get("/admin/support?kind=rice"))

    household_page = text(official.get(f"/review/households/{household}"))
    table = household_page.split('id="support"')[1].split("</table>")[0]
    assert "Vở viết" in table and "20 quyển" in table and "200.000" in table

    no_reason = official.post(entry_path + "/void", {"reason": ""})
    assert no_reason.status_code == 302 and 'class="flash error"' in official.followed
    voided = official.post(entry_path + "/void", {"reason": "Ghi trùng"})
    assert voided.status_code == 302 and "Ghi trùng" in official.followed
    assert 'data-entry="' not in text(official.get("/admin/support"))
    assert 'data-action="support.void"' in text(official.get(entry_path))


def test_a_bad_quantity_is_refused_with_what_to_fix(site, browser_of):
    official = browser_of("official_a")
    refused = official.post(
        "/admin/support", {"kind": "rice", "household": site.households_a[0], "quantity": "0"}
    )
    assert refused.status_code == 302 and "Số lượng 0" in official.followed


def test_the_catalogue_page_is_the_admins_to_change(site, browser_of):
    admin = browser_of("admin")
    page = text(admin.get("/admin/support/kinds"))
    assert 'data-kind="livestock"' in page and "Vật nuôi" in page
    added = admin.post(
        "/admin/support/kinds",
        {"code": "ducks", "name_vi": "Vịt bầu", "name_en": "Ducks", "category": "goods",
         "unit": "head", "group": "livestock"},
    )  # fmt: skip
    assert added.status_code == 302 and 'data-kind="ducks"' in admin.followed
    coordinator = browser_of("coordinator")
    assert 'id="new-kind"' not in text(coordinator.get("/admin/support/kinds"))
    refused = coordinator.post(
        "/admin/support/kinds",
        {"code": "geese", "name_vi": "Ngỗng", "category": "goods", "unit": "head"},
    )
    assert refused.status_code in (302, 403)
    assert 'data-kind="geese"' not in text(admin.get("/admin/support/kinds"))


def test_an_import_with_bad_rows_says_which(site, browser_of):
    coordinator = browser_of("coordinator")
    household = site.households_a[0]
    sheet = f"kind,household,quantity,value_vnd\nrice,{household},10,200000\nrice,nowhere,1,1\n"
    answer = coordinator.post(
        "/admin/support/import", {"file": (io.BytesIO(sheet.encode()), "ho-tro.csv")}
    )
    body = text(answer)
    assert answer.status_code == 400 and "nowhere" in body
    assert 'data-entry="' not in text(coordinator.get("/admin/support"))
