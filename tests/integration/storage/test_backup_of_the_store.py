"""`giupho backup` and `giupho restore` with each store: the files come back whether they
live in the database (inside its copy) or in an object store (copied into the archive)."""

from __future__ import annotations

import tarfile

import pytest
import sqlalchemy as sa

from server import storage
from server.db import db, upgrade_database
from tests.integration.database import build_app, dispose_app
from tests.integration.operations.test_backup import AUDIT_LOG, PHOTO, files, giupho, snapshot
from tests.integration.operations.test_backup import fresh_url as fresh_url


@pytest.fixture
def server(fresh_url, tmp_path, store_config):
    app = build_app(fresh_url, str(tmp_path / "instance"), **store_config)
    yield app
    dispose_app(app)


def test_a_backup_brings_back_the_files_of_either_store(server, tmp_path, store_config):
    with server.app_context():
        upgrade_database()
        storage.current().put("ab/cd/abcd0123", PHOTO)
        storage.current().put("ef/01/ef01", AUDIT_LOG)
        storage.current().put("exports/1-households.csv", b"made again when asked")
        db.session.execute(
            sa.text(
                "INSERT INTO users (id, username, full_name, role, active, created_at) "
                "VALUES (1, 'lo.van.hung', 'Lò Văn Hùng', 'cadre', :t, :now)"
            ),
            {"t": True, "now": "2026-12-01 00:00:00+00:00"},
        )
        db.session.commit()
    before = snapshot(server)
    archive = tmp_path / "giupho.tar.gz"
    made = giupho(server, "backup", str(archive))
    assert made.exit_code == 0 and "and 2 files" in made.output, made.output
    with tarfile.open(archive) as tar:
        copied = sorted(n for n in tar.getnames() if n.startswith("attachments/"))
    s3 = store_config["STORAGE"].startswith("s3://")
    assert copied == (["attachments/ab/cd/abcd0123", "attachments/ef/01/ef01"] if s3 else [])

    with server.app_context():
        storage.current().delete("ab/cd/abcd0123")
        db.session.commit()
    done = giupho(server, "restore", "--force", str(archive))
    assert done.exit_code == 0, done.output
    assert snapshot(server) == before
    restored = files(server)
    assert restored["ab/cd/abcd0123"] == PHOTO and restored["ef/01/ef01"] == AUDIT_LOG
