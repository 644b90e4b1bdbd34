"""The resumable upload API (C3) on the Flask test client, SQLite and PostgreSQL: a session per
attachment, chunks at the offset the server holds, SHA-256 checked at the end, nothing that
arrived is lost, and nobody reaches another user's session."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Attachment, QuarantineItem, Submission
from server.models.base import utcnow
from server.models.uploads import UploadSession
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import registration
from tests.integration.helpers import basic, bearer
from tests.integration.live import World, shipped_world

UPLOADS = "/api/v1/uploads"
PHOTO = bytes(range(256)) * 40  # 10,240 bytes


@pytest.fixture
def world(app) -> World:
    with app.app_context():
        return shipped_world()


@pytest.fixture
def pushed(client, world) -> str:
    """The instanceID of a registration cadre_a pushed."""
    item = answers_item(registration())
    response = client.post("/api/v1/sync/push", json={"items": [item]},
                           headers=bearer(world.tokens["cadre_a"]))  # fmt: skip
    assert response.get_json()["results"][0]["result"] == "accepted"
    return item["instance_id"]


def _open(client, token, instance_id, data=PHOTO, name="nha.jpg", sha=None):
    body = {
        "instance_id": instance_id,
        "filename": name,
        "size": len(data),
        "sha256": sha or hashlib.sha256(data).hexdigest(),
        "content_type": "image/jpeg",
    }
    return client.post(UPLOADS, json=body, headers=bearer(token))  # fmt: skip


def _chunk(client, token, upload_id, offset, data):
    headers = bearer(token) | {"Upload-Offset": str(offset)}
    return client.patch(f"{UPLOADS}/{upload_id}", data=data, headers=headers,
                        content_type="application/offset+octet-stream")  # fmt: skip


def _attachments(app, instance_id):
    with app.app_context():
        stmt = (
            sa.select(Attachment.filename, Attachment.sha256, Attachment.size)
            .join(Submission)
            .where(Submission.instance_id == instance_id)
        )
        found = db.session.execute(stmt).all()
        db.session.remove()
    return [tuple(r) for r in found]


def test_c3_chunks_resume_from_the_servers_offset_and_attach_the_verified_file(
    app, client, world, pushed
):
    token = world.tokens["cadre_a"]
    opened = _open(client, token, pushed)
    assert opened.status_code == 201
    upload = opened.get_json()
    assert upload["offset"] == 0 and upload["size"] == len(PHOTO)
    assert _chunk(client, token, upload["id"], 0, PHOTO[:4000]).get_json()["offset"] == 4000
    # The link drops; the tablet opens the same upload again and learns where to go on.
    again = _open(client, token, pushed)
    assert again.status_code == 200 and again.get_json()["id"] == upload["id"]
    assert again.get_json()["offset"] == 4000
    head = client.head(f"{UPLOADS}/{upload['id']}", headers=bearer(token))
    assert head.headers["Upload-Offset"] == "4000"
    # A chunk at a stale offset is refused with the offset the server holds.
    stale = _chunk(client, token, upload["id"], 0, PHOTO[:4000])
    assert stale.status_code == 400 and stale.get_json()["details"]["offset"] == 4000
    done = _chunk(client, token, upload["id"], 4000, PHOTO[4000:])
    assert done.get_json() | {"id": None} == {
        "id": None, "instance_id": pushed, "filename": "nha.jpg", "size": len(PHOTO),
        "offset": len(PHOTO), "sha256": hashlib.sha256(PHOTO).hexdigest(), "complete": True,
    }  # fmt: skip
    sha = hashlib.sha256(PHOTO).hexdigest()
    assert _attachments(app, pushed) == [("nha.jpg", sha, len(PHOTO))]
    # Finishing again (a client that lost the answer) changes nothing.
    finish = client.post(f"{UPLOADS}/{upload['id']}/finish", headers=bearer(token))
    assert finish.status_code == 200 and finish.get_json()["complete"] is True
    assert _attachments(app, pushed) == [("nha.jpg", sha, len(PHOTO))]


def test_c3_a_checksum_mismatch_discards_the_bytes_and_starts_again(app, client, world, pushed):
    token = world.tokens["cadre_a"]
    upload = _open(client, token, pushed).get_json()
    damaged = PHOTO[:-1] + b"\x00"
    refused = _chunk(client, token, upload["id"], 0, damaged)
    assert refused.status_code == 400
    assert refused.get_json()["details"]["offset"] == 0
    assert _attachments(app, pushed) == []
    assert _chunk(client, token, upload["id"], 0, PHOTO).get_json()["complete"] is True


def test_c3_a_file_for_a_quarantined_payload_is_kept_with_it(app, client, world):
    token = world.tokens["cadre_a"]
    item = answers_item(registration()) | {"form_id": "no_such_form"}  # R5: kept in quarantine
    item["answers"]["@id"] = "no_such_form"
    result = client.post("/api/v1/sync/push", json={"items": [item]}, headers=bearer(token))
    assert result.get_json()["results"][0]["result"] == "quarantined"
    upload = _open(client, token, item["instance_id"]).get_json()
    assert _chunk(client, token, upload["id"], 0, PHOTO).get_json()["complete"] is True
    with app.app_context():
        kept = db.session.scalar(
            sa.select(QuarantineItem).where(QuarantineItem.instance_id == item["instance_id"])
        )
        assert [a["sha256"] for a in kept.details["attachments"]] == [
            hashlib.sha256(PHOTO).hexdigest()
        ]
        db.session.remove()


def test_c3_limits_on_size_and_chunk(app, client, world, pushed):
    app.config["UPLOAD_MAX_BYTES"] = 5000
    app.config["UPLOAD_MAX_CHUNK"] = 1000
    token = world.tokens["cadre_a"]
    assert _open(client, token, pushed).status_code == 413
    small = PHOTO[:3000]
    upload = _open(client, token, pushed, data=small).get_json()
    too_big = _chunk(client, token, upload["id"], 0, small[:2000])
    assert too_big.status_code == 413 and too_big.get_json()["code"] == "413.1"


def test_uploads_are_only_for_ones_own_submissions_and_sessions(app, client, world, pushed):
    other = world.tokens["cadre_b"]
    # Another cadre cannot open an upload on cadre_a's submission: as if it did not exist.
    assert _open(client, other, pushed).status_code == 404
    assert _open(client, other, "uuid:nothing-here").status_code == 404
    upload = _open(client, world.tokens["cadre_a"], pushed).get_json()
    for response in (
        client.get(f"{UPLOADS}/{upload['id']}", headers=bearer(other)),
        _chunk(client, other, upload["id"], 0, PHOTO),
        client.post(f"{UPLOADS}/{upload['id']}/finish", headers=bearer(other)),
    ):
        assert response.status_code == 404
    assert client.get(f"{UPLOADS}/{upload['id']}").status_code == 401
    with app.app_context():
        assert db.session.scalar(sa.select(UploadSession.offset)) == 0
        db.session.remove()


def test_device_login_with_a_password_returns_a_working_token(client, world):
    response = client.post("/api/v1/devices", json={"name": "Máy tính bảng 7"},
                           headers=basic("cadre_a"))  # fmt: skip
    assert response.status_code == 201
    credential = response.get_json()
    assert credential["username"] == "cadre_a" and credential["device"] == "Máy tính bảng 7"
    pulled = client.get("/api/v1/sync/pull", headers=bearer(credential["token"]))
    assert pulled.status_code == 200
    wrong = client.post("/api/v1/devices", json={}, headers=basic("cadre_a", "sai mật khẩu"))
    assert wrong.status_code == 401


def test_c3_an_upload_abandoned_for_the_expiry_is_deleted_and_the_tablet_sends_it_again(
    app, client, world, pushed
):
    """The daily `uploads.sweep` job deletes sessions nobody wrote to for UPLOAD_EXPIRY_DAYS,
    with their chunks; finished and recent ones stay; the tablet, told the old session is
    gone, opens a new one and the file arrives whole."""
    from server import storage
    from server.jobs import registry

    token = world.tokens["cadre_a"]
    abandoned = _open(client, token, pushed).get_json()
    assert _chunk(client, token, abandoned["id"], 0, PHOTO[:4000]).status_code == 200
    recent = _open(client, token, pushed, data=PHOTO[:3000], name="bep.jpg").get_json()
    assert _chunk(client, token, recent["id"], 0, PHOTO[:1000]).status_code == 200
    finished = _open(client, token, pushed, data=PHOTO[:2000], name="cong.jpg").get_json()
    assert _chunk(client, token, finished["id"], 0, PHOTO[:2000]).get_json()["complete"]
    with app.app_context():
        aged = utcnow() - dt.timedelta(days=app.config["UPLOAD_EXPIRY_DAYS"] + 1)
        for upload in (abandoned, finished):
            db.session.execute(
                sa.update(UploadSession)
                .where(UploadSession.token == upload["id"])
                .values(updated_at=aged)
            )
        db.session.commit()
        sweep = registry.load()["uploads.sweep"]
        assert sweep.cron is not None  # a periodic job of `giupho worker`
        assert registry.perform(app, "uploads.sweep", {}) == 1
        store = storage.current()
        assert list(store.iter_keys(f"uploads/{abandoned['id']}/")) == []
        assert list(store.iter_keys(f"uploads/{recent['id']}/")) != []
        left = db.session.scalars(sa.select(UploadSession.token).order_by(UploadSession.id))
        assert list(left) == [recent["id"], finished["id"]]
        db.session.remove()
    gone = client.get(f"{UPLOADS}/{abandoned['id']}", headers=bearer(token))
    assert gone.status_code == 404
    again = _open(client, token, pushed)
    assert again.status_code == 201 and again.get_json()["offset"] == 0
    assert _chunk(client, token, again.get_json()["id"], 0, PHOTO).get_json()["complete"]
    sha = hashlib.sha256(PHOTO).hexdigest()
    assert ("nha.jpg", sha, len(PHOTO)) in _attachments(app, pushed)
