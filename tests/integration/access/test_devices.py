"""Devices (services): enrolling ODK Collect by a QR code in Collect's own settings format,
whose URL then serves that user's forms; revoking; who may do either."""

from __future__ import annotations

import base64
import json
import zlib

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Device, Role
from server.problems import Problem
from server.services import audit
from server.services.access import auth, devices, users
from tests.integration.openrosa.world import OPENROSA, load_shipped_forms

SERVER = "https://giupho.example.vn"


@pytest.fixture
def people(app, places, make_user):
    make_user("coord_a", Role.COORDINATOR, places.commune_a)
    make_user("official_a", Role.COMMUNE_OFFICIAL, places.commune_a)
    make_user("cadre_a", Role.CADRE, places.village_a1)
    make_user("cadre_b", Role.CADRE, places.village_b1)
    return places


def _decode(payload: str) -> dict:
    """What ODK Collect does with the QR text: Base64, then zlib, then JSON."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def test_the_enrolment_qr_holds_collects_settings_with_the_token_url(ctx, people):
    cadre = users.find("cadre_a")
    enrolment = devices.enrol(cadre, "Máy tính bảng 1", users.find("coord_a"), SERVER + "/")
    settings = _decode(enrolment.qr_payload)
    assert settings == enrolment.settings
    assert set(settings) >= {"general", "admin", "project"}  # Collect requires general, admin
    assert settings["general"]["server_url"] == f"{SERVER}/key/{enrolment.token}" == enrolment.url
    assert settings["general"]["username"] == "cadre_a"
    assert "Cadre_A" in settings["project"]["name"]
    stored = db.session.scalar(sa.select(Device.token_hash).where(Device.id == enrolment.device.id))
    assert stored == auth.token_hash(enrolment.token)
    assert all(enrolment.token not in json.dumps(e.details) for e in audit.events_for(cadre))


def test_the_qr_images_are_a_png_and_an_svg(ctx, people):
    payload = devices.enrol(users.find("cadre_a"), "Tab", None, SERVER).qr_payload
    assert devices.qr_png(payload).startswith(b"\x89PNG\r\n\x1a\n")
    svg = devices.qr_svg(payload)
    assert svg.lstrip().startswith("<svg") and "</svg>" in svg
    assert "\u2580" in devices.qr_terminal(payload) or "\u2588" in devices.qr_terminal(payload)


def test_the_url_in_the_qr_serves_the_users_forms_until_it_is_revoked(app, client, people):
    with app.app_context():
        load_shipped_forms()
        enrolment = devices.enrol(users.find("cadre_a"), "Tab", users.find("official_a"),
                                  "http://localhost")  # fmt: skip
        device_id = enrolment.device.id
    url = _decode(enrolment.qr_payload)["general"]["server_url"]
    path = url.removeprefix("http://localhost")
    response = client.get(f"{path}/formList", headers=OPENROSA)
    assert response.status_code == 200, response.data
    assert b"giupho_household_registration" in response.data
    with app.app_context():
        devices.revoke(db.session.get(Device, device_id), users.find("official_a"))
    response = client.get(f"{path}/formList", headers=OPENROSA)
    assert response.status_code == 401


def test_a_commune_official_manages_devices_of_their_communes_cadres_only(ctx, people):
    official = users.find("official_a")
    devices.enrol(users.find("cadre_a"), "Tab", official, SERVER)
    with pytest.raises(Problem) as other_commune:
        devices.enrol(users.find("cadre_b"), "Tab", official, SERVER)
    assert other_commune.value.code == "403.12"
    assert "Nà Tấu" in other_commune.value.message("vi")
    with pytest.raises(Problem) as not_a_cadre:
        devices.enrol(users.find("coord_a"), "Tab", official, SERVER)
    assert not_a_cadre.value.code == "403.15"
    theirs = devices.enrol(users.find("cadre_b"), "Tab", None, SERVER).device
    with pytest.raises(Problem):
        devices.revoke(theirs, official)
    assert db.session.get(Device, theirs.id).revoked_at is None


def test_cadres_enrol_no_devices_not_even_their_own(ctx, people):
    with pytest.raises(Problem) as caught:
        devices.enrol(users.find("cadre_a"), "Tab", users.find("cadre_a"), SERVER)
    assert caught.value.code == "403.10"


def test_a_deactivated_user_gets_no_new_device(ctx, people):
    users.set_active(users.find("cadre_a"), False, None)
    with pytest.raises(Problem) as caught:
        devices.enrol(users.find("cadre_a"), "Tab", None, SERVER)
    assert caught.value.code == "409.22"


def test_device_listings_follow_the_users_one_may_see(ctx, people):
    a = devices.enrol(users.find("cadre_a"), "Tab A", None, SERVER).device
    b = devices.enrol(users.find("cadre_b"), "Tab B", None, SERVER).device
    seen = set(
        db.session.scalars(devices.listed(users.find("official_a")).with_only_columns(Device.id))
    )
    assert seen == {a.id}
    everything = devices.listed(None, users.find("cadre_b")).with_only_columns(Device.id)
    assert set(db.session.scalars(everything)) == {b.id}
    with pytest.raises(Problem):
        devices.visible_device(users.find("official_a"), b.id)
