"""Acceptance (issue 14), through the commands: from an empty database, without Python.

Everything an operator sets up goes through `giupho` commands (click's runner on the real
`giupho` group), forms included (`giupho form upload --publish`); households are registered
over HTTP as a cadre's tablet would (the OpenRosa submission a tablet sends is built here as
bytes, the way ODK Collect writes it). Then the cadre's tablet is enrolled by
`giupho devices enrol`, its ODK Collect settings payload decoded (Base64, zlib, JSON) for
the server URL, and its first sync, by OpenRosa (the manifest's households.csv) and by the
JSON pull, holds exactly their households: the one of their village, the one paired with
them, the one paired with their team, and not the others of the commune.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import zlib

import pytest
from lxml import etree

from forms.library import REGISTRATION_FORM_ID, REGISTRATION_XLSX, VISIT_FORM_ID, VISIT_XLSX
from server.cli import main
from tests.integration.contract.tablet import Tablet, settle
from tests.integration.helpers import basic
from tests.integration.openrosa.documents import form_entries, media_entries, path_of
from tests.integration.openrosa.world import OPENROSA, household, registration_xml

PASSWORD = "mat-khau-thu-1"
BASE = "http://localhost"


@pytest.fixture
def giupho(runner):
    def run(*args: str) -> str:
        result = runner.invoke(main, list(args))
        assert result.exit_code == 0, (args, result.output)
        return result.output

    return run


def _enrol(giupho, username: str) -> str:
    """`giupho devices enrol`: the device's server URL, read as ODK Collect reads it from the
    QR code: the settings payload (Base64 of zlib of JSON) the command prints under the QR."""
    output = giupho("devices", "enrol", username, "--name", "Máy tính bảng", "--url", BASE)
    printed = re.search(rf"{re.escape(BASE)}/key/[A-Za-z0-9_-]+", output).group(0)
    payload = output.strip().splitlines()[-1]
    settings = json.loads(zlib.decompress(base64.b64decode(payload, validate=True)))
    assert settings["general"]["server_url"] == printed and "admin" in settings
    return settings["general"]["server_url"]


def _with_household_code(xml: bytes, code: str) -> bytes:
    """The registration with the commune's household code answered (after the address, where
    the form asks it)."""
    root = etree.fromstring(xml)
    address = next(e for e in root.iter() if etree.QName(e).localname == "address")
    answer = etree.Element(etree.QName(address).text.replace("address", "household_code"))
    answer.text = code
    address.addnext(answer)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def _register(client, key_url: str, village: str, head: str, code: str) -> str:
    """A cadre's tablet sends a household registration over OpenRosa; the household's id."""
    home = household(village=village, head_name=head)
    xml = _with_household_code(registration_xml(home), code)
    response = client.post(
        path_of(f"{key_url}/submission"),
        data={"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")},
        headers=OPENROSA,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return home.id


def _openrosa_households(client, key_url: str) -> set[str]:
    """What ODK Collect downloads: the visit form's manifest, then its households.csv."""
    listing = client.get(path_of(f"{key_url}/formList"), headers=OPENROSA)
    visit = next(e for e in form_entries(listing.data) if e["formID"] == VISIT_FORM_ID)
    manifest = client.get(path_of(visit["manifestUrl"]), headers=OPENROSA)
    entry = next(e for e in media_entries(manifest.data) if e["filename"] == "households.csv")
    body = client.get(path_of(entry["downloadUrl"]), headers=OPENROSA).get_data(as_text=True)
    return {row["name"] for row in csv.DictReader(io.StringIO(body))}


def test_from_an_empty_database_the_cadres_first_sync_holds_exactly_their_households(
    app, client, giupho, tmp_path
):
    # The province's units from the national list, and its villages from a sheet.
    giupho("units", "import", "11", "--commune", "03325", "--commune", "03316")
    villages = tmp_path / "thon.csv"
    villages.write_text(
        "commune,code,name,kind\n"
        "03325,01,Bản Phăng,Bản\n03325,02,Bản Khá,Bản\n03316,01,Bản Nà Tấu,Bản\n",
        encoding="utf-8",
    )
    giupho("units", "villages", str(villages))

    # The people: a coordinator, a commune official, an agency with a team, two cadres.
    def user(username, name, role, *units, agency=None):
        args = ["users", "create", username, "--name", name, "--role", role]
        args += [part for unit in units for part in ("--unit", unit)]
        args += ["--password", PASSWORD] + (["--agency", agency] if agency else [])
        giupho(*args)

    user("dieu.phoi", "Lò Văn Điều", "coordinator", "11")
    user("can.bo.xa", "Quàng Thị Xã", "commune_official", "11/03325")
    giupho(
        "agencies",
        "create",
        "SLD",
        "--name",
        "Sở Lao động",
        "--home-unit",
        "11",
        "--lead",
        "dieu.phoi",
    )
    giupho(
        "agencies",
        "create",
        "SLD-T1",
        "--name",
        "Tổ công tác Mường Phăng",
        "--kind",
        "team",
        "--parent",
        "SLD",
        "--home-unit",
        "11",
    )
    giupho("assignments", "add", "SLD", "11/03325", "--phase", "2026-2030", "--category", "poor")
    user("lo.van.a", "Lò Văn A", "cadre", "11/03325/01", agency="SLD-T1")
    user("lo.thi.b", "Lò Thị B", "cadre", "11/03325/01", "11/03325/02")

    # The operator loads and publishes the shipped forms for the province.
    for sheet in (REGISTRATION_XLSX, VISIT_XLSX):
        giupho("form", "upload", str(sheet), "--unit", "11", "--publish", "--lang", "en")
    listed = giupho("form", "versions", "--lang", "en")
    assert REGISTRATION_FORM_ID in listed and VISIT_FORM_ID in listed
    assert listed.count("published") == 2

    # Cadre B's tablet registers four households over OpenRosa.
    tablet_b = _enrol(giupho, "lo.thi.b")
    village_one = _register(client, tablet_b, "03325_01", "Lò Văn Một", "MP-001")
    paired = _register(client, tablet_b, "03325_02", "Lò Thị Hai", "MP-002")
    teams = _register(client, tablet_b, "03325_02", "Lò Văn Ba", "MP-003")
    _register(client, tablet_b, "03325_02", "Lò Thị Bốn", "MP-004")  # nobody pairs it

    # Pairs, by the household codes people know.
    giupho("pairs", "add", "MP-002", "lo.van.a", "--priority", "1", "--note", "Có đất, thiếu vốn")
    giupho("pairs", "add", "MP-003", "SLD-T1", "--priority", "2")
    listed = client.get("/api/v1/pairs", headers=basic("can.bo.xa", PASSWORD)).get_json()
    assert {p["household"] for p in listed["pairs"]} == {paired, teams}

    # Cadre A's tablet, enrolled by QR code: its first sync holds exactly their households.
    tablet_a = _enrol(giupho, "lo.van.a")
    expected = {village_one, paired, teams}
    assert _openrosa_households(client, tablet_a) == expected
    token = tablet_a.rsplit("/", 1)[1]
    pulled = Tablet(client, token, settle=lambda: settle(app)).sync()
    assert set(pulled.households) == expected
