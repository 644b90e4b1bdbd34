"""The administration pages as people use them: users, devices, communes and villages,
agencies and pairs, each change shown in the record's history; and who may not."""

from __future__ import annotations

import io
import re

from server.db import db
from server.models import User
from server.services.access import devices as device_service
from tests.integration.contract.drivers import OPENROSA_HEADERS
from tests.integration.helpers import PASSWORD

PASSWORD_SHOWN = re.compile(r'id="temporary-password">([^<]+)<')


def text(response) -> str:
    return response.get_data(as_text=True)


def user_id(app, username: str) -> int:
    with app.app_context():
        found = db.session.query(User).filter_by(username=username).one().id
        db.session.remove()
    return found


def test_a_coordinator_creates_edits_deactivates_and_resets_a_user(app, site, browser_of):
    coordinator = browser_of("coordinator")
    commune_a = str(site.commune_a_id)
    response = coordinator.post(
        "/admin/users",
        {"username": "can.bo.moi", "full_name": "Cán Bộ Mới", "role": "cadre", "units": commune_a},
    )
    assert response.status_code == 200, text(response)[:500]
    assert response.headers["Cache-Control"] == "no-store"
    first = PASSWORD_SHOWN.search(text(response)).group(1)
    assert browser_of(None).sign_in("can.bo.moi", first).status_code == 302  # a working password
    new_id = user_id(app, "can.bo.moi")
    page = text(coordinator.get(f"/admin/users/{new_id}"))
    assert first not in page  # shown once only
    assert 'data-action="user.create"' in page

    edited = coordinator.post(
        f"/admin/users/{new_id}",
        {"full_name": "Cán Bộ Mới", "role": "commune_official", "units": commune_a},
    )
    assert edited.status_code == 302
    assert 'data-action="user.update"' in coordinator.followed
    assert "<del>cadre</del> → <ins>commune_official</ins>" in coordinator.followed
    assert coordinator.post(f"/admin/users/{new_id}/active", {"active": "0"}).status_code == 302
    assert 'data-action="user.deactivate"' in coordinator.followed
    assert browser_of(None).sign_in("can.bo.moi", first).status_code == 401
    assert coordinator.post(f"/admin/users/{new_id}/active", {"active": "1"}).status_code == 302
    reset = coordinator.post(f"/admin/users/{new_id}/password")
    second = PASSWORD_SHOWN.search(text(reset)).group(1)
    assert second != first
    assert browser_of(None).sign_in("can.bo.moi", second).status_code == 302


def test_the_users_list_filters_and_stays_inside_the_viewers_area(browser_of):
    coordinator = browser_of("coordinator")
    listed = re.findall(r'<tr data-user="([^"]+)"', text(coordinator.get("/admin/users")))
    assert "cadre_a" in listed and "cadre_other" not in listed and "admin" not in listed
    cadres = text(coordinator.get("/admin/users?role=cadre&q=cadre"))
    assert set(re.findall(r'<tr data-user="([^"]+)"', cadres)) == {"cadre_a", "cadre_b"}
    assert browser_of("coordinator").get("/admin/users/999999").status_code == 404


def test_a_coordinator_cannot_make_an_admin_and_officials_create_nobody(site, browser_of):
    coordinator = browser_of("coordinator")
    response = coordinator.post(
        "/admin/users",
        {"username": "sep", "full_name": "Sếp", "role": "admin", "password": "x" * 12},
    )
    assert response.status_code == 403
    official = browser_of("official_a")
    refused = official.post(
        "/admin/users",
        {"username": "x1", "full_name": "X", "role": "cadre", "units": str(site.commune_a_id)},
    )
    assert refused.status_code == 403


def test_importing_users_reports_each_bad_row_and_creates_nothing(app, browser_of):
    coordinator = browser_of("coordinator")
    sheet = (
        "username,full_name,role,units\n"
        "lo.van.mot,Lò Văn Một,cán bộ,11/03325/01\n"
        "lo.van.hai,,cán bộ,11/03325/01\n"
        "lo.van.ba,Lò Văn Ba,cán bộ,15/02839\n"
    ).encode()
    data = {"file": (io.BytesIO(sheet), "can_bo.csv")}
    response = coordinator.post("/admin/users/import", data, content_type="multipart/form-data")
    assert response.status_code == 403  # a row outside the coordinator's area: a refusal
    assert re.findall(r'<tr data-row="(\d+)">', text(response)) == ["3", "4"]
    with app.app_context():
        assert db.session.query(User).filter_by(username="lo.van.mot").first() is None
        db.session.remove()
    good = sheet.decode().splitlines()[:2]
    data = {"file": (io.BytesIO("\n".join(good).encode()), "can_bo.csv")}
    response = coordinator.post("/admin/users/import", data, content_type="multipart/form-data")
    assert response.status_code == 200 and "lo.van.mot" in text(response)


def test_an_official_enrols_a_cadres_tablet_by_qr_and_revokes_it(app, browser_of):
    official = browser_of("official_a")
    cadre = user_id(app, "cadre_a")
    response = official.post(f"/admin/users/{cadre}/devices", {"name": "Máy tính bảng 2"})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = text(response)
    assert "<svg" in page
    url = re.search(r'id="server-url">([^<]+)<', page).group(1)
    payload = re.search(r'id="qr-payload">([^<]+)<', page).group(1)
    assert device_service.decode_settings(payload)["general"]["server_url"] == url
    assert "/key/" in url
    token = url.rsplit("/", 1)[1]
    client = app.test_client()
    assert client.get(f"/key/{token}/formList", headers=OPENROSA_HEADERS).status_code == 200
    devices = text(official.get("/admin/devices"))
    device_id = re.search(r'<tr data-device="(\d+)">\s*<td><a[^>]*>Máy tính bảng 2<', devices)
    assert device_id, devices[:2000]
    assert official.post(f"/admin/devices/{device_id.group(1)}/revoke").status_code == 302
    assert 'data-action="device.revoke"' in official.followed
    assert client.get(f"/key/{token}/formList", headers=OPENROSA_HEADERS).status_code == 401
    coordinator_id = user_id(app, "coordinator")
    assert official.post(f"/admin/users/{coordinator_id}/devices").status_code in (403, 404)


def test_villages_are_added_renamed_and_imported_within_the_commune(site, browser_of):
    official = browser_of("official_a")
    commune = site.commune_a_id
    added = official.post("/admin/units/villages", {"commune": str(commune), "name": "Bản Mới"})
    assert added.status_code == 302 and "Bản Mới" in official.followed
    village = re.search(r'data-unit="11/03325/03">\s*<td>03</td>', official.followed)
    assert village
    page = official.followed
    village_id = re.search(r"/admin/villages/(\d+)/rename", page.split("11/03325/03")[1]).group(1)
    assert (
        official.post(f"/admin/villages/{village_id}/rename", {"name": "Bản Mới Đổi"}).status_code
        == 302
    )
    assert (
        "Bản Mới Đổi" in official.followed and 'data-action="village.rename"' in official.followed
    )
    sheet = b"commune,code,name\n03325,04,B\xe1\xba\xa3n T\xc6\xb0\n03316,05,Other\n"
    data = {"file": (io.BytesIO(sheet), "thon.csv")}
    response = official.post(
        "/admin/units/villages/import", data, content_type="multipart/form-data"
    )
    assert response.status_code in (400, 403)  # commune B is outside: nothing imported
    other = str(site.commune_b_id)
    assert (
        official.post("/admin/units/villages", {"commune": other, "name": "X"}).status_code == 403
    )


def test_only_an_admin_imports_a_province(browser_of):
    coordinator = browser_of("coordinator")
    assert coordinator.post("/admin/units/import", {"province": "12"}).status_code == 403
    admin = browser_of("admin")
    response = admin.post("/admin/units/import", {"province": "12"})
    assert response.status_code == 302
    assert 'data-unit="12"' in admin.followed


def test_an_agency_is_created_assigned_for_a_phase_and_the_assignment_ended(site, browser_of):
    coordinator = browser_of("coordinator")
    province = re.search(
        r'<option value="(\d+)" >[^<]*\(11\)</option>', text(coordinator.get("/admin/agencies"))
    )
    created = coordinator.post(
        "/admin/agencies",
        {"code": "SNN", "name": "Sở Nông nghiệp", "kind": "agency", "level": "province",
         "home_unit": province.group(1)},
    )  # fmt: skip
    assert created.status_code == 302, text(created)[:300]
    agency_path = created.headers["Location"]
    assign = {"unit": str(site.commune_a_id), "category": "poor", "phase": "2026-2030"}
    assert coordinator.post(agency_path + "/assignments", assign).status_code == 302
    assert "2026-2030" in coordinator.followed
    again = coordinator.post(agency_path + "/assignments", assign)
    assert again.status_code == 302 and 'class="flash error"' in coordinator.followed  # overlap
    page = text(coordinator.get(agency_path))
    assignment = re.search(r'data-assignment="(\d+)"', page).group(1)
    ended = coordinator.post(f"/admin/assignments/{assignment}/end", {"on": "2027-06-30"})
    assert ended.status_code == 302 and "30/06/2027" in coordinator.followed
    assert 'data-action="assignment.end"' in coordinator.followed
    assert browser_of("official_a").post(agency_path, {"name": "X"}).status_code in (403, 404)


def test_a_household_is_paired_reassigned_and_its_helpers_history_kept(site, browser_of):
    official = browser_of("official_a")
    household = site.households_a[0]
    note = "Có đất, thiếu vốn"
    made = official.post(
        "/admin/pairs",
        {"household": household, "helper": "cadre_a", "priority": "1", "capacity_note": note},
    )
    assert made.status_code == 302, text(made)[:300]
    pair_path = made.headers["Location"]
    moved = official.post(
        pair_path + "/reassign", {"helper": "cadre_b", "reason": "Chuyển công tác"}
    )
    assert moved.status_code == 302
    helpers = re.findall(r'<tr data-pair="\d+"[^>]*>\s*<td><a[^>]*>([^<]+)<', official.followed)
    assert helpers == ["Cadre_A (cadre_a)", "Cadre_B (cadre_b)"]
    listed = text(official.get(f"/admin/pairs?household={household}"))
    assert re.findall(r'data-helper="([^"]+)"', listed) == ["cadre_b"]
    by_helper = text(official.get("/admin/pairs?helper=cadre_b"))
    assert f'data-household="{household}"' in by_helper
    unknown = official.post("/admin/pairs", {"household": "nowhere", "helper": "cadre_a"})
    assert unknown.status_code == 404


def test_cadres_administer_nothing(browser_of):
    cadre = browser_of("cadre_a")
    for path in ("/admin/", "/admin/users", "/admin/pairs", "/admin/units", "/admin/forms"):
        assert cadre.get(path).status_code == 403, path
    assert "admin-link" not in text(cadre.get("/review/quarantine"))
    assert "admin-link" in text(browser_of("official_a").get("/review"))


PAGES = ("/admin/", "/admin/users", "/admin/devices", "/admin/units", "/admin/agencies",
         "/admin/pairs", "/admin/audit", "/admin/forms", "/admin/support",
         "/admin/support/kinds")  # fmt: skip


def test_every_admin_page_renders_for_each_administrative_role(browser_of):
    for username in ("admin", "coordinator", "official_a"):
        client = browser_of(username)
        for path in PAGES:
            status = client.get(path).status_code
            assert status == 200, (username, path, status)


def test_an_agency_lead_lands_on_the_administration_pages(browser_of):
    lead = browser_of(None)
    lead.get("/signin")
    response = lead.post("/signin", {"username": "lead_a", "password": PASSWORD})
    assert response.headers["Location"] == "/admin/"
    assert 'href="/admin/pairs"' in lead.followed and 'href="/admin/users"' not in lead.followed
    official = browser_of(None)
    official.get("/signin")
    response = official.post("/signin", {"username": "official_a", "password": PASSWORD})
    assert response.headers["Location"] == "/review"
