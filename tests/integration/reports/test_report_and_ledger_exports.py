"""The report's tables and the support ledger as files: the report page's XLSX download
(one sheet per table, money as numbers with a #,##0 format), the ledger's live entries in
the user's scope, a CSV zip of the report's tables."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl

from tests.integration.helpers import basic
from tests.integration.reports.test_scope import programme  # noqa: F401 - fixture
from tests.integration.web.site import SiteClient


def test_the_report_page_link_downloads_every_table_as_xlsx(app, programme):  # noqa: F811
    browser = SiteClient(app)
    browser.sign_in("coordinator")
    response = browser.get(f"/exports/report.xlsx?level=province&unit={programme['province']}"
                           "&year=2026")  # fmt: skip
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    book = openpyxl.load_workbook(io.BytesIO(response.data))
    assert "Hỗ trợ theo loại" in book.sheetnames  # Vietnamese intact
    sheet = book["Hỗ trợ theo loại"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, [c.value for c in r], strict=True)) for r in sheet.iter_rows(2)]
    by_kind = {r["Loại hỗ trợ"]: r for r in rows}
    money = [c for c in sheet[2] if isinstance(c.value, int) and c.number_format == "#,##0"]
    assert money, "VND written as numbers with a thousands format"
    assert sum(r[h] for r in rows for h in header if h.startswith("Giá trị")) == 1_600_000
    assert any("Gạo" in k or "gạo" in k for k in by_kind)


def test_a_cadre_is_refused_the_report_download(app, programme):  # noqa: F811
    browser = SiteClient(app)
    browser.sign_in("cadre")
    response = browser.get(f"/exports/report.csv?level=commune&unit={programme['a']}")
    assert response.status_code == 403


def test_the_report_as_a_csv_zip_over_the_api(client, programme):  # noqa: F811
    response = client.get(
        "/api/v1/exports/report.csv",
        query_string={"level": "commune", "unit": programme["a"], "year": 2026},
        headers=basic("official.a"),
    )
    assert response.status_code == 200, response.get_json()
    with zipfile.ZipFile(io.BytesIO(response.data)) as zf:
        names = zf.namelist()
        raw = zf.read("support_by_kind.csv")
    assert raw.startswith(b"\xef\xbb\xbf") and "support_by_kind.csv" in names
    assert "Gạo" in raw.decode("utf-8-sig") or "gạo" in raw.decode("utf-8-sig")


def test_the_ledger_holds_the_live_entries_of_the_users_scope(client, programme):  # noqa: F811
    def ledger(user: str) -> list[dict[str, str]]:
        response = client.get("/api/v1/exports/ledger.csv", query_string={"year": 2026},
                              headers=basic(user))  # fmt: skip
        assert response.status_code == 200, response.get_json()
        return list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))

    everything, commune_a = ledger("coordinator"), ledger("official.a")
    assert sorted(int(r["value_vnd"]) for r in everything) == [100_000, 200_000, 300_000,
                                                               1_000_000]  # fmt: skip
    assert sorted(int(r["value_vnd"]) for r in commune_a) == [100_000, 200_000, 1_000_000]
    rice = next(r for r in commune_a if r["source_type"] == "agency")
    assert (rice["quantity"], rice["unit"], rice["source_agency"]) == ("10", "kg", "Sở Y tế")
    assert rice["household"].startswith("Lò Văn Một") and rice["commune"] == "Xã Mường Phăng"
