"""A transaction that fails at its commit leaves every file its rows still name.

The last chunk of a resumable upload completes it: the chunks are joined into the photo and
then deleted. If that transaction then fails to commit (a lost connection, a serialization
failure, the process killed), the upload is still unfinished in the database, so its chunks
must still be in the store: the tablet sends the last chunk again and the upload finishes.
An object store (S3) cannot roll a delete back, so the chunks are deleted only after the
commit (`server.storage.delete_after_commit`). The commit is made to fail for real, by a
deferred constraint trigger that PostgreSQL runs at COMMIT.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db import db
from tests.integration.helpers import bearer
from tests.integration.storage.uploads import PHOTO, open_upload, send_chunk
from tests.integration.web.site import SiteClient

FAIL_AT_COMMIT = """
CREATE FUNCTION giupho_test_fail_completion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.completed_at IS NOT NULL THEN
    RAISE EXCEPTION 'the commit fails (test)';
  END IF;
  RETURN NEW;
END $$;
CREATE CONSTRAINT TRIGGER giupho_test_fail_completion AFTER UPDATE ON upload_sessions
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION giupho_test_fail_completion();
"""
REMOVE = """
DROP TRIGGER IF EXISTS giupho_test_fail_completion ON upload_sessions;
DROP FUNCTION IF EXISTS giupho_test_fail_completion();
"""


def _run(app, sql: str) -> None:
    with app.app_context():
        db.session.execute(sa.text(sql))
        db.session.commit()
        db.session.remove()


@pytest.mark.postgres_only
def test_an_upload_whose_completing_commit_fails_keeps_its_chunks_and_finishes_on_retry(
    first, world
):
    client, token = first.test_client(), world.tokens["cadre_a"]
    instance_id, upload = open_upload(client, token)

    def chunk(offset, data):
        return send_chunk(client, token, upload, offset, data)

    assert chunk(0, PHOTO[:6000]).get_json()["offset"] == 6000
    _run(first, FAIL_AT_COMMIT)
    try:
        failed = chunk(6000, PHOTO[6000:])
    finally:
        _run(first, REMOVE)
    assert failed.status_code >= 500, failed.data
    status = client.get(f"/api/v1/uploads/{upload}", headers=bearer(token)).get_json()
    assert status["offset"] == 6000 and not status["complete"], status

    # The tablet sends the rest again: the first chunk is still there, the photo is whole.
    done = chunk(6000, PHOTO[6000:]).get_json()
    assert done["offset"] == len(PHOTO) and done["complete"], done
    official = SiteClient(first)
    official.sign_in("official_a")
    photo = official.get(f"/review/submissions/{instance_id}/files/nha.jpg")
    assert photo.status_code == 200 and photo.data == PHOTO


def test_a_delete_asked_inside_a_savepoint_that_rolls_back_does_not_happen(first):
    """Ingest stores each item of a batch in a savepoint; a file delete asked in one that
    rolls back must not happen at the batch's commit, and one asked outside it must."""
    from server import storage

    with first.app_context():
        store = storage.current()
        store.put("exports/kept.txt", b"kept")
        store.put("exports/gone.txt", b"gone")
        db.session.commit()
        savepoint = db.session.begin_nested()
        storage.delete_after_commit("exports/kept.txt")
        savepoint.rollback()
        storage.delete_after_commit("exports/gone.txt")
        db.session.commit()
        assert store.exists("exports/kept.txt") and not store.exists("exports/gone.txt")

        storage.delete_after_commit("exports/kept.txt")  # a whole transaction rolled back
        db.session.rollback()
        db.session.commit()
        assert store.exists("exports/kept.txt")
        db.session.remove()
