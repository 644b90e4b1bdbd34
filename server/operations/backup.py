"""`giupho backup` and `giupho restore`: the database and the stored files, in one archive.

The archive is a gzip'd tar holding `manifest.json` (format, giupho version, the schema's
migration revision, the database kind, the file store's kind, when), the database, and the
stored files (every photo and audit log, and the chunks of unfinished resumable uploads).
With the database store (the default) the files are rows of the `blobs` table, so the
database's copy holds them; with an object store (`GIUPHO_STORAGE=s3://...`) each file is
copied under `attachments/<key>`. Export files are left out: they expire and can be made
again. An archive made before the store (files under `attachments/` from the attachment
folder) is restored into the store.

The database is copied with the tools made for it, not row by row:
* SQLite: the online backup API of Python's `sqlite3` (a consistent copy while the server
  writes);
* PostgreSQL: `pg_dump --format=custom` of the app's schema, put back by `pg_restore` in one
  transaction (the PostgreSQL client programs must be on the PATH, of the server's version
  or newer). The password goes through `PGPASSWORD`, never the command line.

Restoring replaces the database's content with the archive's and adds its files; it refuses
a database that holds data unless told to (`--force`), an archive of the other database
kind, and an archive made by a newer giupho (a revision this code does not know). An
archive made before later migrations is restored, then upgraded.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import sqlalchemy as sa

from server import storage
from server.db import db, head_revision, schema_revisions, upgrade_database
from server.storage import legacy

FORMAT = 1
MANIFEST = "manifest.json"
FILES = "attachments"
DATABASE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupError(Exception):
    """Why a backup or a restore cannot be done, said so an operator knows what to do."""


@dataclass
class Summary:
    path: Path
    database: str
    revision: str | None
    files: int
    bytes: int
    upgraded_from: str | None = None


def _giupho_version() -> str:
    try:
        return version("giupho")
    except PackageNotFoundError:
        return "unknown"


def _kind() -> str:
    name = db.engine.dialect.name
    if name not in DATABASE:
        raise BackupError(f"giupho backs up SQLite and PostgreSQL databases, not {name}.")
    return name


#: Keys left out of an archive: export files expire and can be made again.
_LEFT_OUT = "exports/"


def _add_store_files(tar: tarfile.TarFile, work: Path) -> int:
    """Add the store's files to the archive (an object store's); returns how many files the
    backup holds (with the database store: the blobs in the database's copy)."""
    store = storage.current()
    count = 0
    if store.kind == "database":
        if not sa.inspect(db.engine).has_table("blobs"):  # a schema from before the store
            return 0
        count = sum(1 for k in store.iter_keys() if not k.startswith(_LEFT_OUT))
        db.session.rollback()
        return count
    scratch = work / "file"
    for key in (k for k in store.iter_keys() if not k.startswith(_LEFT_OUT)):
        with scratch.open("wb") as handle:  # one file at a time on disk, never in memory
            for block in store.open_stream(key):
                handle.write(block)
        tar.add(scratch, arcname=f"{FILES}/{key}")
        count += 1
    return count


def create(path: Path) -> Summary:
    """Write the archive of the current app's database and files to `path`."""
    kind = _kind()
    revision, _ = schema_revisions()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    files = 0
    with tempfile.TemporaryDirectory(prefix="giupho-backup-") as work:
        dump = Path(work) / DATABASE[kind]
        if kind == "sqlite":
            _sqlite_copy(Path(db.engine.url.database), dump)
        else:
            _pg_dump(dump)
        manifest = {
            "format": FORMAT,
            "giupho": _giupho_version(),
            "database": kind,
            "revision": revision,
            "storage": storage.current().kind,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        with tarfile.open(partial, "w:gz", compresslevel=3) as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(dt.datetime.now(dt.UTC).timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(dump, arcname=DATABASE[kind])
            files = _add_store_files(tar, Path(work))
    os.replace(partial, path)  # a half-written archive never has the final name
    return Summary(path, kind, revision, files, path.stat().st_size)


def restore(path: Path, *, force: bool = False) -> Summary:
    """Put the archive at `path` back into the current app's database and file store."""
    kind = _kind()
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"No backup at {path}.")
    try:
        tar = tarfile.open(path, "r:gz")  # noqa: SIM115 (closed by the `with tar` below)
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"{path} is not a giupho backup (a .tar.gz archive): {error}.") from None
    with tar, tempfile.TemporaryDirectory(prefix="giupho-restore-") as work:
        manifest = _manifest(tar, path)
        if manifest["database"] != kind:
            raise BackupError(
                f"This backup is of a {manifest['database']} database and the server uses "
                f"{kind}: restore it into a {manifest['database']} database."
            )
        revision = manifest.get("revision")
        if revision is not None and not _known(revision):
            raise BackupError(
                f"This backup was made by a newer giupho (schema {revision}, "
                f"version {manifest.get('giupho')}): install that version or newer to restore it."
            )
        if not force and _holds_data():
            raise BackupError(
                "The database already holds data: restoring replaces all of it. Run again "
                "with --force to replace it, or restore into an empty database."
            )
        member = _member(tar, DATABASE[kind], path)
        dump = Path(work) / DATABASE[kind]
        with tar.extractfile(member) as source, dump.open("wb") as target:
            shutil.copyfileobj(source, target)
        db.session.remove()
        if kind == "sqlite":
            db.engine.dispose()
            _sqlite_copy(dump, Path(db.engine.url.database))
        else:
            _pg_restore(dump)
        db.engine.dispose()
        current, head = schema_revisions()
        upgraded_from = None
        if current != head:
            upgrade_database()  # before the files: an archive from before the blobs table
            upgraded_from = current
        files = _restore_files(tar)
    return Summary(path, kind, revision, files, path.stat().st_size, upgraded_from)


def _manifest(tar: tarfile.TarFile, path: Path) -> dict:
    member = _member(tar, MANIFEST, path)
    try:
        manifest = json.loads(tar.extractfile(member).read())
    except (ValueError, AttributeError) as error:
        raise BackupError(f"The manifest of {path} cannot be read: {error}.") from None
    if manifest.get("format") != FORMAT or manifest.get("database") not in DATABASE:
        raise BackupError(
            f"{path} is a backup of format {manifest.get('format')!r}; this giupho reads "
            f"format {FORMAT}."
        )
    return manifest


def _member(tar: tarfile.TarFile, name: str, path: Path) -> tarfile.TarInfo:
    try:
        member = tar.getmember(name)
    except KeyError:
        raise BackupError(f"{path} has no {name}: it is not a whole giupho backup.") from None
    if not member.isfile():
        raise BackupError(f"{name} in {path} is not a file.")
    return member


def _known(revision: str) -> bool:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from server.db import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id
        return False


def _holds_data() -> bool:
    """Whether the database has any user, household or submission (a fresh one has none)."""
    inspector = sa.inspect(db.engine)
    for table in ("users", "households", "submissions"):
        if (
            inspector.has_table(table)
            and db.session.execute(
                sa.select(sa.literal(1)).select_from(sa.table(table)).limit(1)
            ).first()
        ):
            db.session.rollback()
            return True
    db.session.rollback()
    return False


def _restore_files(tar: tarfile.TarFile) -> int:
    """Put the archive's `attachments/...` into the file store, one file at a time; names
    that are not store keys (absolute paths, '..', control characters) and links are left
    out. With the database store and an archive of this version there are none: the files
    came back with the database."""
    store = storage.current()
    count = 0
    prefix = f"{FILES}/"
    for member in tar.getmembers():
        if not member.name.startswith(prefix) or not member.isfile():
            continue
        key = legacy.key_for(member.name[len(prefix) :])
        if key is None:
            continue
        with tar.extractfile(member) as source:
            store.put_stream(key, legacy.chunks_of(source))
        db.session.commit()
        count += 1
    db.session.remove()
    return count


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of SQLite database `source` into `target` (replacing its content)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    except sqlite3.DatabaseError as error:
        raise BackupError(f"Copying the SQLite database {source} failed: {error}.") from None
    finally:
        dst.close()
        src.close()


def _pg_environment() -> tuple[list[str], dict[str, str], str]:
    """libpq arguments for the app's database: (--dbname etc., environment, schema)."""
    url = db.engine.url
    schema = db.session.execute(sa.text("SELECT current_schema()")).scalar_one()
    db.session.rollback()
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = url.password
    libpq = url.set(drivername="postgresql", password=None)
    options = dict(libpq.query)
    libpq = libpq.set(query={k: v for k, v in options.items() if k == "sslmode"})
    arguments = [f"--dbname={libpq.render_as_string(hide_password=False)}"]
    return arguments, environment, schema


def _run(command: list[str], environment: dict[str, str], what: str) -> None:
    program = shutil.which(command[0])
    if program is None:
        raise BackupError(
            f"{command[0]} is not installed: install the PostgreSQL client programs "
            "(Debian: postgresql-client) of the server's version to back up or restore."
        )
    done = subprocess.run([program, *command[1:]], env=environment, capture_output=True)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()[-2000:]
        raise BackupError(f"{what} failed: {message}")


def _pg_dump(target: Path) -> None:
    arguments, environment, schema = _pg_environment()
    _run(
        ["pg_dump", *arguments, "--format=custom", "--no-owner", "--no-privileges",
         f"--schema={schema}", f"--file={target}"],
        environment, "pg_dump",
    )  # fmt: skip


def _pg_restore(dump: Path) -> None:
    """Replace the app's schema with the dump's.

    The schema in place is renamed aside first (one quick transaction), the dump restored in
    one transaction, then the old schema dropped; if the restore fails, the old schema gets
    its name back, so a bad archive never leaves the server without its data.
    """
    arguments, environment, schema = _pg_environment()
    aside = f"{schema[:40]}_before_restore_{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S}"

    def quoted(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    with db.engine.begin() as connection:
        connection.execute(sa.text(f"ALTER SCHEMA {quoted(schema)} RENAME TO {quoted(aside)}"))
    try:
        _run(
            ["pg_restore", *arguments, "--no-owner", "--no-privileges", "--single-transaction",
             "--exit-on-error", str(dump)],
            environment, "pg_restore",
        )  # fmt: skip
    except BaseException:
        with db.engine.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {quoted(schema)} CASCADE"))
            connection.execute(sa.text(f"ALTER SCHEMA {quoted(aside)} RENAME TO {quoted(schema)}"))
        raise
    with db.engine.begin() as connection:
        connection.execute(sa.text(f"DROP SCHEMA {quoted(aside)} CASCADE"))


__all__ = ["BackupError", "Summary", "create", "head_revision", "restore"]
