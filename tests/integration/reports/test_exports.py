"""Exports of submissions, households and the ledger: the shape of ODK Central's
`submissions.csv.zip`, Vietnamese intact in Excel (BOM), XLSX cell types, scope."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from forms.library import REGISTRATION_FORM_ID
from server.db import db
from server.models import Role
from server.problems import Problem
from server.services.access import users
from server.services.demo.households import Member
from server.services.reports import exports
from server.services.reports.exports import ExportRequest
from tests.integration.openrosa.world import (
    OPENROSA,
    household,
    registration_xml,
    world,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("world")
TODAY = dt.date(2026, 12, 5)


@pytest.fixture
def collect(client, world):  # noqa: F811 - the fixture
    def post(xml: bytes, username: str = "cadre_a") -> None:
        data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
        response = client.post(world.key_url(username, "/submission"), data=data, headers=OPENROSA)
        assert response.status_code == 201, response.get_data(as_text=True)

    return post


def export(app, tmp_path, username: str, **values):
    kind = values.pop("kind", "submissions")
    fmt = values.pop("format", "csv")
    request = ExportRequest.parse(kind, fmt, values)
    with app.app_context():
        user = users.find(username)
        path = tmp_path / f"{username}-{kind}.{fmt}"
        result = exports.write(user, request, path, TODAY)
        db.session.remove()
    return path, result


def read_zip(path) -> dict[str, list[dict[str, str]]]:
    tables = {}
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            raw = zf.read(name)
            assert raw.startswith(b"\xef\xbb\xbf"), name  # the BOM Excel needs
            tables[name] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    return tables


def test_submissions_zip_has_odk_central_shape_with_repeats_linked_by_keys(app, tmp_path, collect):
    members = [
        Member("Lò Thị Mai", "female", 1983, "spouse"),
        Member("Lò Văn Tú", "male", 2010, "child"),
    ]
    home = household(head_name="Lò Văn Thắng", members=members)
    collect(registration_xml(home))
    path, result = export(app, tmp_path, "official_a", form=REGISTRATION_FORM_ID)

    tables = read_zip(path)
    main_name = f"{REGISTRATION_FORM_ID}.csv"
    member_name = f"{REGISTRATION_FORM_ID}-member.csv"
    assert set(tables) == {main_name, member_name}
    assert result.rows == 1 and result.filename.endswith(".csv.zip")
    main, members = tables[main_name], tables[member_name]
    columns = list(main[0])
    assert columns[0] == "SubmissionDate"
    assert columns[-10:] == ["KEY", "SubmitterID", "SubmitterName", "AttachmentsPresent",
                             "AttachmentsExpected", "Status", "ReviewState", "DeviceID",
                             "Edits", "FormVersion"]  # fmt: skip
    assert "head-head_name" in columns and "meta-instanceID" in columns
    assert "house-house_location-Latitude" in columns
    row = main[0]
    assert row["head-head_name"] == "Lò Văn Thắng"  # Vietnamese intact
    assert row["KEY"] == row["meta-instanceID"] and row["ReviewState"] == "received"
    assert row["SubmitterName"] == "Cadre_A"
    # One member row per household member, joined to the submission by its key.
    assert [m["member_name"] for m in members] == ["Lò Thị Mai", "Lò Văn Tú"]
    assert {m["PARENT_KEY"] for m in members} == {row["KEY"]}
    assert [m["KEY"] for m in members] == [f"{row['KEY']}/member[{i}]" for i in (1, 2)]
    assert list(members[0])[-2:] == ["PARENT_KEY", "KEY"]


def test_choices_as_codes_or_labels_in_vietnamese_or_english(app, tmp_path, collect):
    collect(registration_xml(household()))
    codes = read_zip(export(app, tmp_path, "official_a", form=REGISTRATION_FORM_ID)[0])
    vi = read_zip(export(app, tmp_path, "admin", form=REGISTRATION_FORM_ID, labels="vi")[0])
    en = read_zip(export(app, tmp_path, "admin", form=REGISTRATION_FORM_ID, labels="en")[0])
    main = f"{REGISTRATION_FORM_ID}.csv"
    assert codes[main][0]["head-head_sex"] == "male"
    assert vi[main][0]["head-head_sex"] == "Nam"
    assert en[main][0]["head-head_sex"] == "Male"


def test_cccd_is_masked_unless_the_role_certifies_households(app, tmp_path, collect, make_user,
                                                             places):  # fmt: skip
    collect(registration_xml(household()))
    make_user("coordinator", Role.COORDINATOR, places.province)
    main = f"{REGISTRATION_FORM_ID}.csv"
    official = read_zip(export(app, tmp_path, "official_a", form=REGISTRATION_FORM_ID)[0])[main]
    coordinator = read_zip(export(app, tmp_path, "coordinator", form=REGISTRATION_FORM_ID)[0])
    whole = official[0]["head-head_cccd"]
    hidden = coordinator[main][0]["head-head_cccd"]
    assert len(whole) == 12 and whole.isdigit()
    assert hidden == "*" * 9 + whole[-3:]


def test_an_official_exports_only_their_commune_and_a_cadre_is_refused(
    app, tmp_path, collect, make_user, places
):
    collect(registration_xml(household(head_name="Ở Xã A")))
    collect(registration_xml(household(village="03316_01", head_name="Ở Xã B")), "cadre_b")
    make_user("official_b", Role.COMMUNE_OFFICIAL, places.commune_b)
    main = f"{REGISTRATION_FORM_ID}.csv"
    a = read_zip(export(app, tmp_path, "official_a", form=REGISTRATION_FORM_ID)[0])[main]
    b = read_zip(export(app, tmp_path, "official_b", form=REGISTRATION_FORM_ID)[0])[main]
    everyone = read_zip(export(app, tmp_path, "admin", form=REGISTRATION_FORM_ID)[0])[main]
    assert [r["head-head_name"] for r in a] == ["Ở Xã A"]
    assert [r["head-head_name"] for r in b] == ["Ở Xã B"]
    assert len(everyone) == 2
    with pytest.raises(Problem) as refused:
        export(app, tmp_path, "cadre_a", form=REGISTRATION_FORM_ID)
    assert refused.value.code == "403.60"


def test_superseded_versions_are_left_out_unless_asked(app, tmp_path, collect):
    home = household()
    first = "uuid:00000000-0000-4000-8000-000000000001"
    collect(registration_xml(home, instance_id=first))
    collect(registration_xml(home, deprecated_id=first, head_name="Lò Văn Sửa"))
    main = f"{REGISTRATION_FORM_ID}.csv"
    current = read_zip(export(app, tmp_path, "admin", form=REGISTRATION_FORM_ID)[0])[main]
    every = read_zip(
        export(app, tmp_path, "admin", form=REGISTRATION_FORM_ID, include_superseded=True)[0]
    )[main]
    assert [(r["head-head_name"], r["Edits"]) for r in current] == [("Lò Văn Sửa", "1")]
    assert len(every) == 2 and {r["Status"] for r in every} == {"superseded", ""}


def test_xlsx_has_one_sheet_per_table_with_proper_cell_types(app, tmp_path, collect):
    collect(registration_xml(household(head_name="Lò Văn Thắng")))
    path, _result = export(app, tmp_path, "admin", form=REGISTRATION_FORM_ID, format="xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [REGISTRATION_FORM_ID[:31], "member"]
    sheet = book[book.sheetnames[0]]
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[2]], strict=True))
    assert row["head-head_name"] == "Lò Văn Thắng"
    assert isinstance(row["SubmissionDate"], dt.datetime)
    assert isinstance(row["head-head_birth_year"], int)
    assert isinstance(row["house-house_location-Latitude"], float)


def test_households_export_has_properties_as_columns_and_masks_cccd_for_coordinators(
    app, tmp_path, collect, make_user, places
):
    collect(registration_xml(household(head_name="Lò Văn Thắng")))
    collect(registration_xml(household(village="03316_01", head_name="Ở Xã B")), "cadre_b")
    make_user("coordinator", Role.COORDINATOR, places.province)

    def rows(username: str) -> list[dict[str, str]]:
        path, _result = export(app, tmp_path, username, kind="households")
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))

    official, coordinator = rows("official_a"), rows("coordinator")
    assert [r["head_name"] for r in official] == ["Lò Văn Thắng"]
    assert sorted(r["head_name"] for r in coordinator) == ["Lò Văn Thắng", "Ở Xã B"]
    assert official[0]["status"] == "active" and official[0]["commune_name"] == "Xã Mường Phăng"
    assert official[0]["commune"] == "03325"  # the property: the form's code, beside the name
    assert official[0]["head_cccd"].isdigit()
    assert all(r["head_cccd"].startswith("*********") for r in coordinator)
