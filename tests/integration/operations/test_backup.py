"""`giupho backup` and `giupho restore`, run as an operator runs them, on both databases.

What an operator relies on: a backup taken while the server holds data brings back every
row and every stored file; restoring over data needs --force; a bad archive, one of the
other database kind or one made by a newer giupho is refused with a reason and leaves the
database as it was; an archive made before later migrations comes back upgraded.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import flask_migrate
import pytest
import sqlalchemy as sa

from server import storage
from server.cli import main
from server.db import MIGRATIONS_DIR, db, head_revision, upgrade_database
from server.services.demo import seed
from tests.integration.database import (
    build_app,
    dispose_app,
    drop_postgres_schema,
    make_postgres_schema,
)

#: The revision before this landing's (the programme as of the duplicate groups).
OLDER = "813f831d1138"


@pytest.fixture
def fresh_url(database, tmp_path):
    """An empty database of the same backend as `database`."""
    if database.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    schema, url = make_postgres_schema("giupho_backup")
    yield url
    drop_postgres_schema(schema)


@pytest.fixture
def server(fresh_url, tmp_path):
    app = build_app(
        fresh_url, str(tmp_path / "instance"), ATTACHMENT_DIR=str(tmp_path / "attachments")
    )
    yield app
    dispose_app(app)


def giupho(app, *args: str):
    return app.test_cli_runner().invoke(main, list(args))


def snapshot(app) -> dict:
    """What the operator would check: the rows of the tables people's work lives in."""
    with app.app_context():
        rows = {
            table: db.session.execute(sa.text(f"SELECT * FROM {table} ORDER BY id")).all()
            for table in ("users", "admin_units", "households", "submissions", "devices")
        }
        db.session.remove()
    return {table: [tuple(map(str, row)) for row in found] for table, found in rows.items()}


PHOTO = b"\xff\xd8 a photo of the house \xff\xd9"
#: Bigger than one part of the database store: it must come back whole.
AUDIT_LOG = b"event,node,start\n" * 100_000


def files(app) -> dict[str, bytes]:
    """Every file of the app's file store, by key."""
    with app.app_context():
        store = storage.current()
        found = {key: store.get(key) for key in store.iter_keys()}
        db.session.remove()
    return found


def a_server_with_work(app) -> None:
    with app.app_context():
        upgrade_database()
        assert seed.seed_demo()
        storage.current().put("ab/cd/abcd0123", PHOTO)
        storage.current().put("ef/01/ef01", AUDIT_LOG)
        db.session.commit()
        db.session.remove()


def test_a_backup_brings_back_every_row_and_file(server, tmp_path):
    a_server_with_work(server)
    before, stored = snapshot(server), files(server)
    assert before["households"] and before["users"]
    archive = tmp_path / "backups" / "giupho.tar.gz"

    made = giupho(server, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert len(stored) > 2 and f"{len(stored)} files" in made.output and archive.is_file()

    # The day after: someone's name changed, a household deleted, the photo lost.
    with server.app_context():
        db.session.execute(sa.text("UPDATE users SET full_name = 'Nhầm'"))
        db.session.commit()
    with server.app_context():
        storage.current().delete("ab/cd/abcd0123")
        db.session.commit()
    changed = snapshot(server)
    assert changed != before and "ab/cd/abcd0123" not in files(server)

    refused = giupho(server, "restore", str(archive))
    assert refused.exit_code != 0
    assert "already holds data" in refused.output and "--force" in refused.output
    assert snapshot(server) == changed  # refused: nothing touched

    restored = giupho(server, "restore", "--force", str(archive))
    assert restored.exit_code == 0, restored.output
    assert snapshot(server) == before
    assert files(server) == stored
    with server.app_context():  # the server works on it: a write goes through
        db.session.execute(sa.text("UPDATE users SET full_name = full_name"))
        db.session.commit()


def _archive(path: Path, manifest: dict, database: tuple[str, bytes] | None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        members = [("manifest.json", json.dumps(manifest).encode())]
        for name, data in members + ([database] if database else []):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_bad_archives_are_refused_and_the_data_stays(server, tmp_path):
    a_server_with_work(server)
    before = snapshot(server)
    kind = (
        "sqlite"
        if server.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
        else ("postgresql")
    )
    other = "postgresql" if kind == "sqlite" else "sqlite"
    dump = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
    manifest = {"format": 1, "giupho": "1.0", "database": kind, "revision": head_revision()}
    cases = {
        "not a tar": (tmp_path / "junk.tar.gz", "is not a giupho backup"),
        "garbage database": (
            _archive(tmp_path / "garbage.tar.gz", manifest, (dump[kind], b"not a database")),
            "failed",
        ),
        "other kind": (
            _archive(tmp_path / "other.tar.gz", {**manifest, "database": other},
                     (dump[other], b"x")),
            f"backup is of a {other} database",
        ),
        "newer giupho": (
            _archive(tmp_path / "newer.tar.gz", {**manifest, "revision": "ffffffffffff"},
                     (dump[kind], b"x")),
            "made by a newer giupho",
        ),
        "no database": (
            _archive(tmp_path / "empty.tar.gz", manifest, None),
            f"has no {dump[kind]}",
        ),
    }  # fmt: skip
    (tmp_path / "junk.tar.gz").write_bytes(b"PK\x03\x04 a zip, not a backup")
    for case, (archive, reason) in cases.items():
        done = giupho(server, "restore", "--force", str(archive))
        assert done.exit_code != 0, case
        assert reason in done.output, (case, done.output)
        assert "Traceback" not in done.output, case
        assert snapshot(server) == before, case


def test_an_archive_of_an_older_schema_comes_back_upgraded(server, tmp_path):
    with server.app_context():
        flask_migrate.upgrade(directory=MIGRATIONS_DIR, revision=OLDER)
        db.session.execute(
            sa.text(
                "INSERT INTO users (id, username, full_name, role, active, created_at) "
                "VALUES (1, 'lo.van.hung', 'Lò Văn Hùng', 'cadre', :t, :now)"
            ),
            {"t": True, "now": "2026-12-01 00:00:00+00:00"},
        )
        db.session.commit()
    archive = tmp_path / "old.tar.gz"
    assert giupho(server, "backup", str(archive)).exit_code == 0
    with server.app_context():
        upgrade_database()
        db.session.execute(sa.text("DELETE FROM users"))
        db.session.commit()

    done = giupho(server, "restore", str(archive))  # no user left: no --force needed
    assert done.exit_code == 0, done.output
    assert f"upgraded from {OLDER}" in done.output
    with server.app_context():
        names = db.session.execute(sa.text("SELECT full_name FROM users")).scalars().all()
        tables = set(sa.inspect(db.engine).get_table_names())
        version = db.session.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert names == ["Lò Văn Hùng"]
    assert version == head_revision() and "visit_evidence" in tables


def test_files_of_an_archive_made_before_the_store_go_into_the_store(server, tmp_path):
    """An archive of the attachment folder's days (files under attachments/, an unfinished
    upload's part file) is restored into the file store under the names rows point at."""
    a_server_with_work(server)
    made = tmp_path / "now.tar.gz"
    assert giupho(server, "backup", str(made)).exit_code == 0
    older = tmp_path / "older.tar.gz"
    with tarfile.open(made, "r:gz") as source, tarfile.open(older, "w:gz") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member))
        for name, data in (
            ("attachments/12/34/1234abcd", b"a photo kept on disk"),
            ("attachments/uploads/tok123.part", b"first half"),
            ("attachments/12/34/.1234abcd.99.beef", b"a write that never finished"),
            ("attachments/../../etc/evil", b"outside"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            target.addfile(info, io.BytesIO(data))

    done = giupho(server, "restore", "--force", str(older))
    assert done.exit_code == 0, done.output
    stored = files(server)
    assert stored["12/34/1234abcd"] == b"a photo kept on disk"
    assert stored["uploads/tok123/000000000000"] == b"first half"
    assert stored["ab/cd/abcd0123"] == PHOTO and stored["ef/01/ef01"] == AUDIT_LOG
    assert not any("evil" in key or "beef" in key for key in stored)


def test_storage_migrate_moves_the_attachment_folder_into_the_store(server):
    with server.app_context():
        upgrade_database()
    root = Path(server.config["ATTACHMENT_DIR"])
    (root / "ab" / "cd").mkdir(parents=True)
    (root / "uploads").mkdir()
    (root / "ab" / "cd" / "abcd0123").write_bytes(AUDIT_LOG)
    (root / "uploads" / "tok.part").write_bytes(b"half a photo")

    done = giupho(server, "storage", "migrate", "--remove")
    assert done.exit_code == 0, done.output
    assert "Moved 2 files" in done.output
    assert files(server) == {
        "ab/cd/abcd0123": AUDIT_LOG,
        "uploads/tok/000000000000": b"half a photo",
    }
    assert not any(p.is_file() for p in root.rglob("*"))
    assert giupho(server, "storage", "migrate").exit_code == 0  # again: nothing left, no harm
    assert len(files(server)) == 2
