"""Acceptance (issue 14): from an empty database, only through the site, a province's
programme is set up and a cadre's first sync holds exactly their households.

The database starts with one administrator, created as an operator does it on a new
server (`giupho db upgrade`, `giupho users create ... --role admin`). Then, in Chromium:
the administrator imports the province's communes and creates a coordinator; the
coordinator imports the villages from a spreadsheet, creates a commune official, an agency
(assigned to the commune) and two cadres, and uploads and publishes the household forms and
a small form of their own. The cadres register households over OpenRosa as a tablet does;
the commune official pairs households with the cadres and enrols a cadre's tablet by QR
code. The URL in that code (Base64 -> zlib -> JSON, as ODK Collect reads it) gives the
tablet's first sync: the household list holds exactly the households of the cadre's village
and those paired with them. The small form, filled and sent, waits in the commune's review
queue. Screenshots of the main administration pages are taken (GIUPHO_UPDATE_SCREENSHOTS=1
writes them to docs/screenshots/).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import subprocess
import sys
import tempfile
import uuid
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from openpyxl import Workbook
from playwright.sync_api import expect

from forms.instance import to_xml
from forms.library import build
from tests.browser.conftest import chromium_path
from tests.integration.contract.submissions import household_id, instance_id, registration
from tests.integration.forms.test_forms import visit as custom_form
from tests.integration.live import SERVER_ENV, LiveServer
from tests.integration.openrosa.documents import form_entries, media_entries

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = (
    ROOT / "docs" / "screenshots"
    if os.environ.get("GIUPHO_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "giupho-screenshots"
)
ADMIN_PASSWORD = "mat-khau-quan-tri-2026"
OPENROSA = {"X-OpenRosa-Version": "1.0"}
LIBRARY = Path(build.__file__).resolve().parent


def giupho(env: dict[str, str], *args: str) -> str:
    """Run the operator's `giupho` command; its output."""
    command = [str(Path(sys.executable).parent / "giupho"), *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory) -> Iterator[LiveServer]:
    """A new server: the schema and one administrator, as the operator makes them."""
    chromium_path()
    instance = tmp_path_factory.mktemp("admin-from-empty")
    url = f"sqlite:///{instance / 'giupho.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIUPHO_")}
    env |= SERVER_ENV | {"GIUPHO_DATABASE_URL": url}
    giupho(env, "db", "upgrade")
    giupho(env, "users", "create", "quantri", "--name", "Quản trị viên", "--role", "admin",
           "--password", ADMIN_PASSWORD)  # fmt: skip
    with LiveServer(url, instance, workers=2) as server:
        yield server


def screenshot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def signed_in(browser, url: str, username: str, password: str, path: str = "/admin/"):
    """A new browser (no cookies) signed in as `username`, on `path`."""
    context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="vi-VN")
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(url + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("form.stack button.primary")
    expect(page.locator("#admin-link")).to_be_visible()
    return page


def create_user(page, url: str, username: str, full_name: str, role: str, units: str) -> str:
    """Create a user on the users page; the temporary password the page shows once."""
    page.goto(url + "/admin/users")
    form = page.locator("#new-user form")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=full_name]").fill(full_name)
    form.locator("select[name=role]").select_option(role)
    form.locator("input[name=unit_refs]").fill(units)
    form.locator("button.primary").click()
    shown = page.locator("#temporary-password")
    expect(shown).to_be_visible()
    return shown.inner_text().strip()


def upload_and_publish(page, url: str, path: Path, form_id: str) -> None:
    page.goto(url + "/admin/forms")
    page.set_input_files("#upload input[type=file]", str(path))
    page.click("#upload button.primary")
    expect(page.locator("#versions tbody tr")).to_have_count(1)
    assert page.url.endswith(f"/admin/forms/{form_id}")
    page.click("#versions button[name=publish]")
    expect(page.locator("#versions .state.published")).to_have_count(1)


def choose(select, path: str) -> None:
    """Choose the unit whose label ends with its `path` in parentheses."""
    value = select.locator("option", has_text=path).first.get_attribute("value")
    select.select_option(value)


def villages_sheet(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["commune", "code", "name", "kind"])
    sheet.append(["03325", "01", "Bản Phăng 1", "Bản"])
    sheet.append(["03325", "02", "Bản Khá", "Bản"])
    book.save(path)
    return path


def submit(url: str, auth: tuple[str, str], xml: bytes) -> None:
    """Send a filled form as ODK Collect does (multipart, OpenRosa headers)."""
    files = {"xml_submission_file": ("submission.xml", xml, "text/xml")}
    response = requests.post(f"{url}/submission", files=files, auth=auth, headers=OPENROSA,
                             timeout=60)  # fmt: skip
    assert response.status_code == 201, response.text[:500]


def decode_qr_payload(payload: str) -> dict:
    """ODK Collect's reading of a settings QR code: Base64, then zlib, then JSON."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def first_sync_households(server_url: str) -> set[str]:
    """What a tablet pointed at `server_url` downloads first: the form list, the visit form's
    manifest, and the household list in it; the household ids of that list."""
    listed = requests.get(f"{server_url}/formList", headers=OPENROSA, timeout=60)
    assert listed.status_code == 200, listed.text[:300]
    entries = {e["formID"]: e for e in form_entries(listed.content)}
    manifest = requests.get(entries["giupho_household_visit"]["manifestUrl"], headers=OPENROSA,
                            timeout=60)  # fmt: skip
    (households,) = [
        e for e in media_entries(manifest.content) if e["filename"] == "households.csv"
    ]
    body = requests.get(households["downloadUrl"], headers=OPENROSA, timeout=60).text
    return {row["name"] for row in csv.DictReader(io.StringIO(body))}


def the_custom_form(path: Path) -> Path:
    """A small form of the province's own, with no question about the place."""
    path.write_bytes(custom_form("1").replace(b"test_visit", b"giupho_tham_nhanh"))
    return path


def custom_submission() -> tuple[str, bytes]:
    iid = f"uuid:{uuid.uuid4()}"
    xml = (
        f'<data id="giupho_tham_nhanh" version="1"><head>Lò Văn Một</head><size>4</size>'
        f"<meta><instanceID>{iid}</instanceID></meta></data>"
    )
    return iid, xml.encode("utf-8")


def test_a_province_is_set_up_from_empty_through_the_site(empty_server, browser, tmp_path):
    url = empty_server.url

    # The administrator: the province's communes, and its coordinator.
    admin = signed_in(browser, url, "quantri", ADMIN_PASSWORD, "/admin/units")
    admin.fill("#import-province input[name=province]", "11")
    admin.fill("#import-province input[name=communes]", "03325 03316")
    admin.click("#import-province button.primary")
    expect(admin.locator('#units li[data-unit="11/03325"]')).to_be_visible()
    coordinator_password = create_user(admin, url, "dieu.phoi", "Nguyễn Văn Điều", "coordinator",
                                       "11")  # fmt: skip

    # The coordinator: villages, a commune official, an agency, two cadres, the forms.
    coordinator = signed_in(browser, url, "dieu.phoi", coordinator_password, "/admin/units")
    coordinator.set_input_files(
        "form[action$='/admin/units/villages/import'] input[type=file]",
        str(villages_sheet(tmp_path / "thon.xlsx")),
    )
    coordinator.click("form[action$='/admin/units/villages/import'] button")
    expect(coordinator.locator("#imported li")).to_have_count(2)
    coordinator.goto(url + "/admin/units")
    screenshot(coordinator, "admin-units.png")

    official_password = create_user(coordinator, url, "can.bo.xa", "Lò Thị Xã",
                                    "commune_official", "03325")  # fmt: skip
    cadre_a_password = create_user(coordinator, url, "can.bo.a", "Quàng Văn A", "cadre",
                                   "11/03325/01")  # fmt: skip
    cadre_b_password = create_user(coordinator, url, "can.bo.b", "Lường Thị B", "cadre",
                                   "11/03325/02")  # fmt: skip
    coordinator.goto(url + "/admin/users")
    expect(coordinator.locator("#users tbody tr")).to_have_count(4)  # with the coordinator
    screenshot(coordinator, "admin-users.png")

    coordinator.goto(url + "/admin/agencies")
    new_agency = coordinator.locator("#new-agency form")
    new_agency.locator("input[name=code]").fill("HPN-DB")
    new_agency.locator("input[name=name]").fill("Hội Liên hiệp Phụ nữ tỉnh")
    new_agency.locator("select[name=kind]").select_option("organisation")
    choose(new_agency.locator("select[name=home_unit]"), "(11)")
    new_agency.locator("button.primary").click()
    expect(coordinator.locator("h1")).to_have_text("Hội Liên hiệp Phụ nữ tỉnh")
    assign = coordinator.locator("#assign")
    choose(assign.locator("select[name=unit]"), "(11/03325)")
    assign.locator("select[name=category]").select_option("special_difficulty")
    assign.locator("input[name=phase]").fill("2026-2030")
    assign.locator("button.primary").click()
    expect(coordinator.locator('#assignments tr[data-unit="11/03325"]')).to_contain_text(
        "2026-2030"
    )
    screenshot(coordinator, "admin-agency.png")

    upload_and_publish(coordinator, url, LIBRARY / "household_registration.xlsx",
                       "giupho_household_registration")  # fmt: skip
    upload_and_publish(coordinator, url, LIBRARY / "household_visit.xlsx",
                       "giupho_household_visit")  # fmt: skip
    upload_and_publish(coordinator, url, the_custom_form(tmp_path / "tham_nhanh.md"),
                       "giupho_tham_nhanh")  # fmt: skip
    screenshot(coordinator, "admin-form.png")

    # The cadres' tablets register households (cadre A in Bản Phăng 1, cadre B in Bản Khá).
    homes, registered = {}, []
    for name, village, cadre, password in (
        ("Lò Văn Một", "03325_01", "can.bo.a", cadre_a_password),
        ("Lò Văn Hai", "03325_01", "can.bo.a", cadre_a_password),
        ("Quàng Văn Ba", "03325_02", "can.bo.b", cadre_b_password),
        ("Quàng Văn Bốn", "03325_02", "can.bo.b", cadre_b_password),
    ):
        root = registration(head_name=name, village=village)
        submit(url, (cadre, password), to_xml(root))
        homes[name] = household_id(root)
        registered.append(instance_id(root))
    quick_id, quick = custom_submission()
    submit(url, ("can.bo.a", cadre_a_password), quick)

    # The commune official pairs households with the cadres: one of Bản Khá goes to cadre A.
    official = signed_in(browser, url, "can.bo.xa", official_password, "/admin/pairs")
    for name, helper, rank in (("Lò Văn Một", "can.bo.a", "1"), ("Quàng Văn Ba", "can.bo.b", "1"),
                               ("Quàng Văn Bốn", "can.bo.a", "2")):  # fmt: skip
        official.goto(url + "/admin/pairs")
        pair = official.locator("#new-pair form")
        pair.locator("input[name=household]").fill(homes[name])
        pair.locator("input[name=helper]").fill(helper)
        pair.locator("input[name=priority]").fill(rank)
        pair.locator("input[name=capacity_note]").fill("Có đất sản xuất, thiếu vốn")
        pair.locator("button.primary").click()
        expect(official.locator("#helper")).to_contain_text(helper)
    official.goto(url + "/admin/pairs")
    expect(official.locator("#pairs tbody tr")).to_have_count(3)
    screenshot(official, "admin-pairs.png")

    # ... and enrols cadre A's tablet by QR code.
    official.goto(url + "/admin/users")
    official.click('#users tr[data-user="can.bo.a"] a')
    official.fill("#enrol input[name=name]", "Máy tính bảng bản Phăng")
    official.click("#enrol button.primary")
    expect(official.locator("#qr svg")).to_be_visible()
    screenshot(official, "admin-enrolment.png")
    settings = decode_qr_payload(official.locator("#qr-payload").text_content().strip())
    server_url = settings["general"]["server_url"]
    assert server_url == official.locator("#server-url").inner_text().strip()
    assert settings["general"]["username"] == "can.bo.a"

    # The tablet's first sync: the households of its village and those paired with cadre A.
    expected = {homes["Lò Văn Một"], homes["Lò Văn Hai"], homes["Quàng Văn Bốn"]}
    assert first_sync_households(server_url) == expected

    # The province's own form, filled on the tablet, waits in the commune's review queue.
    official.goto(url + "/review/submissions")
    expect(official.locator(f'#queue tr[data-instance="{quick_id}"]')).to_have_count(1)
    for sent in registered:  # and so do the registrations, in the commune of their village
        expect(official.locator(f'#queue tr[data-instance="{sent}"]')).to_have_count(1)
