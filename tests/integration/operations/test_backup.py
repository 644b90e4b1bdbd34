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


def files(app) -> dict[str, bytes]:
    root = Path(app.config["ATTACHMENT_DIR"])
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def a_server_with_work(app) -> None:
    with app.app_context():
        upgrade_database()
        assert seed.seed_demo()
        db.session.remove()
    photo = Path(app.config["ATTACHMENT_DIR"]) / "ab" / "cd" / "abcd0123.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8 a photo of the house \xff\xd9")


def test_a_backup_brings_back_every_row_and_file(server, tmp_path):
    a_server_with_work(server)
    before, stored = snapshot(server), files(server)
    assert before["households"] and before["users"]
    archive = tmp_path / "backups" / "giupho.tar.gz"

    made = giupho(server, "backup", str(archive))
    assert made.exit_code == 0, made.output
    assert f"{len(stored)} files" in made.output and archive.is_file()

    # The day after: someone's name changed, a household deleted, the photo lost.
    with server.app_context():
        db.session.execute(sa.text("UPDATE users SET full_name = 'Nhầm'"))
        db.session.commit()
    (Path(server.config["ATTACHMENT_DIR"]) / "ab" / "cd" / "abcd0123.jpg").unlink()
    changed = snapshot(server)
    assert changed != before

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
