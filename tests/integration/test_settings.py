"""Settings: one table feeds the config; sources override each other in the documented order."""

from __future__ import annotations

import os
import stat

import pytest
import sqlalchemy as sa

from server import create_app, settings
from server.db import db


def test_every_setting_is_named_documented_and_unique():
    envs = [s.env for s in settings.SETTINGS]
    keys = [s.key for s in settings.SETTINGS]
    assert len(set(envs)) == len(envs) and len(set(keys)) == len(keys)
    for setting in settings.SETTINGS:
        assert setting.env.startswith("GIUPHO_")
        assert len(setting.help) > 20, setting.env
        assert setting.env in settings.help_text()


def test_environment_values_are_parsed_and_bad_ones_name_the_variable():
    found = settings.from_environ(
        {"GIUPHO_MAX_SUBMISSION_BYTES": "1234", "GIUPHO_SQL_ECHO": "yes", "UNRELATED": "x"}
    )
    assert found == {"MAX_SUBMISSION_BYTES": 1234, "SQLALCHEMY_ECHO": True}
    with pytest.raises(ValueError, match="GIUPHO_MAX_SUBMISSION_BYTES"):
        settings.from_environ({"GIUPHO_MAX_SUBMISSION_BYTES": "ten megabytes"})


def test_defaults_live_in_the_instance_folder_and_the_secret_key_persists(tmp_path):
    app = create_app(instance_path=str(tmp_path))
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'giupho.sqlite3'}"
    assert app.config["ATTACHMENT_DIR"] == str(tmp_path / "attachments")
    key_file = tmp_path / "secret_key"
    assert key_file.read_text() == app.config["SECRET_KEY"]
    assert len(app.config["SECRET_KEY"]) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A second start (another worker, a restart) uses the same key.
    assert create_app(instance_path=str(tmp_path)).config["SECRET_KEY"] == app.config["SECRET_KEY"]


def test_sources_override_in_order(tmp_path, monkeypatch):
    (tmp_path / "config.py").write_text(
        "MAX_FORM_BYTES = 111\nDEFAULT_LANGUAGE = 'en'\nDB_POOL_SIZE = 7\n"
    )
    monkeypatch.setenv("GIUPHO_MAX_FORM_BYTES", "222")
    monkeypatch.setenv("GIUPHO_DB_POOL_SIZE", "9")
    app = create_app({"DB_POOL_SIZE": 3}, instance_path=str(tmp_path))
    assert app.config["MAX_SUBMISSION_BYTES"] == 10 * 1024 * 1024  # default
    assert app.config["DEFAULT_LANGUAGE"] == "en"  # instance config.py over default
    assert app.config["MAX_FORM_BYTES"] == 222  # environment over config.py
    assert app.config["DB_POOL_SIZE"] == 3  # test config over everything


def test_postgres_urls_use_psycopg3(tmp_path):
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "postgresql://u@db.example/giupho"}, instance_path=str(tmp_path)
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/giupho"
    # No pool_pre_ping (a round trip per request): idle connections are checked instead,
    # see test_ingest.py::test_a_pooled_connection_the_database_dropped_is_replaced...
    assert app.config["DB_PING_AFTER_IDLE_S"] > 0


def test_create_app_does_no_database_work(tmp_path):
    create_app(instance_path=str(tmp_path))
    assert not (tmp_path / "giupho.sqlite3").exists()


def test_sqlite_connections_get_wal_foreign_keys_and_busy_timeout(tmp_path):
    app = create_app({"SQLITE_BUSY_TIMEOUT_MS": 1234}, instance_path=str(tmp_path))
    with app.app_context():
        pragmas = {
            name: db.session.execute(sa.text(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout")
        }
        db.engine.dispose()
    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 1234}


def test_max_content_length_follows_the_largest_upload_limit(tmp_path):
    app = create_app({"MAX_SUBMISSION_BYTES": 5, "MAX_FORM_BYTES": 9}, instance_path=str(tmp_path))
    assert app.config["MAX_CONTENT_LENGTH"] == 9
    assert os.environ.get("GIUPHO_DATABASE_URL") is None  # the suite keeps the env clean
