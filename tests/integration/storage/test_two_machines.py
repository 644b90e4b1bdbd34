"""Two application machines on one database (two apps, each with its own instance folder, as
two servers behind a load balancer have): nothing one of them received lives only on its
disk. An upload started on one is finished on the other; a photo posted to one is shown by
the other; an export made by one is downloaded from the other. On SQLite and PostgreSQL, with
the database store and an S3-compatible one (moto's server)."""

from __future__ import annotations

import io
import time
from pathlib import Path

import sqlalchemy as sa

from server.db import db
from server.models import Blob
from tests.integration.helpers import bearer
from tests.integration.openrosa.world import OPENROSA, household, new_id, registration_xml
from tests.integration.storage.uploads import PHOTO, open_upload, send_chunk
from tests.integration.web.site import SiteClient


def _files_on_disk(*apps) -> list:
    found = []
    for app in apps:
        for folder in (app.instance_path, app.config["ATTACHMENT_DIR"], app.config["EXPORT_DIR"]):
            found += [p for p in Path(folder).rglob("*") if p.is_file()]
    return [p for p in found if p.name not in ("secret_key",) and p.suffix != ".sqlite3"]


def test_an_upload_started_on_one_machine_finishes_on_the_other(first, second, world):
    one, two = first.test_client(), second.test_client()
    token = world.tokens["cadre_a"]
    instance_id, upload = open_upload(one, token)

    def chunk(client, offset, data):
        return send_chunk(client, token, upload, offset, data)

    assert chunk(one, 0, PHOTO[:4000]).get_json()["offset"] == 4000
    # The load balancer sends the rest to the other machine: it knows the offset and the bytes.
    assert two.get(f"/api/v1/uploads/{upload}", headers=bearer(token)).get_json()["offset"] == 4000
    assert chunk(two, 4000, PHOTO[4000:9000]).get_json()["offset"] == 9000
    done = chunk(one, 9000, PHOTO[9000:]).get_json()
    assert done["offset"] == len(PHOTO) and done["complete"], done

    official = SiteClient(second)
    official.sign_in("official_a")
    photo = official.get(f"/review/submissions/{instance_id}/files/nha.jpg")
    assert photo.status_code == 200 and photo.data == PHOTO
    assert _files_on_disk(first, second) == []


def test_a_photo_posted_to_one_machine_is_shown_by_the_other(first, second, world, store_config):
    instance_id = new_id()
    xml = registration_xml(household(), instance_id)
    sent = first.test_client().post(
        f"/key/{world.tokens['cadre_a']}/submission",
        data={
            "xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml"),
            "nha.jpg": (io.BytesIO(PHOTO), "nha.jpg", "image/jpeg"),
        },
        headers=OPENROSA,
    )
    assert sent.status_code == 201, sent.data

    official = SiteClient(second)
    official.sign_in("official_a")
    photo = official.get(f"/review/submissions/{instance_id}/files/nha.jpg")
    assert photo.status_code == 200 and photo.data == PHOTO
    assert photo.headers["Content-Length"] == str(len(PHOTO))
    assert _files_on_disk(first, second) == []
    with first.app_context():  # in the store asked for, and only there
        in_database = db.session.scalar(sa.select(sa.func.count()).select_from(Blob))
        db.session.remove()
    assert (in_database > 0) == (store_config["STORAGE"] == "database")


def test_an_export_made_on_one_machine_downloads_from_the_other(first, second, world):
    token = world.tokens["coordinator"]
    asked = first.test_client().post(
        "/api/v1/exports", json={"kind": "households", "format": "csv"}, headers=bearer(token)
    )
    assert asked.status_code in (201, 202), asked.get_json()
    job = asked.get_json()["id"]
    deadline = time.monotonic() + 60
    while (shown := two_json(second, f"/api/v1/exports/{job}", token))["status"] != "done":
        assert shown["status"] in ("queued", "running") and time.monotonic() < deadline, shown
        time.sleep(0.1)
    got = second.test_client().get(f"/api/v1/exports/{job}/file", headers=bearer(token))
    assert got.status_code == 200, got.get_data(as_text=True)[:300]
    assert got.data.startswith(b"\xef\xbb\xbf")  # CSV with BOM, whole
    assert int(got.headers["Content-Length"]) == len(got.data)
    assert _files_on_disk(first, second) == []


def two_json(app, path, token):
    return app.test_client().get(path, headers=bearer(token)).get_json()
