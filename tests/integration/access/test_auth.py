"""Authentication: argon2 passwords, device tokens stored hashed and revocable, session-less API."""

from __future__ import annotations

import datetime as dt
import time

import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent, Device, Role
from server.services.access import auth, users
from tests.integration.helpers import PASSWORD, basic, bearer


def test_passwords_are_argon2_hashed_and_verified(ctx):
    hashed = auth.hash_password("đúng rồi")
    assert hashed.startswith("$argon2id$") and "đúng" not in hashed
    assert auth.verify_password(hashed, "đúng rồi")
    assert not auth.verify_password(hashed, "dung roi")
    assert not auth.verify_password(None, "")
    assert not auth.verify_password("not-a-hash", "x")


def test_login_checks_password_and_active_flag(ctx, make_user):
    make_user("hoa", Role.CADRE)
    assert auth.authenticate_password("hoa", PASSWORD).username == "hoa"
    assert auth.authenticate_password("hoa", "wrong") is None
    assert auth.authenticate_password("nobody", PASSWORD) is None
    users.deactivate(users.find("hoa"))
    assert auth.authenticate_password("hoa", PASSWORD) is None


def test_weak_hashes_are_upgraded_at_login(ctx, make_user):
    make_user("hoa", Role.CADRE)
    old_hash = users.find("hoa").password_hash
    ctx.config["ARGON2_TIME_COST"] = 2
    assert auth.authenticate_password("hoa", PASSWORD) is not None
    db.session.expire_all()
    new_hash = users.find("hoa").password_hash
    assert new_hash != old_hash and "t=2" in new_hash
    assert auth.verify_password(new_hash, PASSWORD)


def test_device_tokens_are_stored_only_as_hashes(ctx, make_user):
    make_user("hoa", Role.CADRE)
    device, token = auth.register_device(users.find("hoa"), "Tablet A")
    stored = db.session.scalar(sa.select(Device.token_hash).where(Device.id == device.id))
    assert token not in stored and stored == auth.token_hash(token)
    assert auth.authenticate_token(token).id == device.id


def test_revoked_token_stops_working_at_once_and_is_audited(app, client, make_user, make_device):
    make_user("hoa", Role.CADRE)
    token = make_device("hoa")
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 200
    with app.app_context():
        device = db.session.scalar(
            sa.select(Device).where(Device.token_hash == auth.token_hash(token))
        )
        auth.revoke_device(device)
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "device.revoke" in actions
    response = client.get("/api/v1/forms", headers=bearer(token))
    assert response.status_code == 401 and response.json["code"] == "401.2"


def test_device_use_is_recorded_as_last_seen_off_the_requests_path(
    app, client, make_user, make_device
):
    """The request writes nothing (it may be served by a read replica); the process's writer
    thread records the use within `LAST_SEEN_FLUSH_S`."""
    app.config["LAST_SEEN_FLUSH_S"] = 0.1
    make_user("hoa", Role.CADRE)
    token = make_device("hoa")
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 200
    deadline = time.monotonic() + 10
    while True:
        with app.app_context():
            seen = db.session.scalar(sa.select(Device.last_seen_at))
            db.session.remove()
        if seen is not None or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert seen is not None and seen.tzinfo is not None
    assert dt.datetime.now(dt.UTC) - seen < dt.timedelta(seconds=30)


def test_api_accepts_basic_and_bearer_and_refuses_anything_else(client, make_user, make_device):
    make_user("hoa", Role.CADRE)
    token = make_device("hoa")
    assert client.get("/api/v1/forms", headers=basic("hoa")).status_code == 200
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 200
    for headers in (
        {},
        basic("hoa", "wrong"),
        bearer("made-up"),
        {"Authorization": "Digest username=hoa"},
    ):
        response = client.get("/api/v1/forms", headers=headers)
        assert response.status_code == 401 and response.json["code"] == "401.1", headers


def test_inactive_users_tokens_stop_working(app, client, make_user, make_device):
    make_user("hoa", Role.CADRE)
    token = make_device("hoa")
    with app.app_context():
        users.deactivate(users.find("hoa"))
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 401
