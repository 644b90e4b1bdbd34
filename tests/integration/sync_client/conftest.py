"""A live giupho server (gunicorn) for the sync client tests, and client-side helpers.

PostgreSQL when GIUPHO_TEST_POSTGRES_URL is set, else a SQLite file: the
client must behave the same against either.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.database import POSTGRES_ENV, drop_postgres_schema, make_postgres_schema
from tests.integration.live import (
    Live,
    LiveServer,
    populate_world,
    prepare_database,
    publish_shipped_xforms,
)


def _populate():
    return populate_world(publish_shipped_xforms)


def start_live(instance: Path, workers: int = 4) -> tuple[Live, str | None, str]:
    """(live server, PostgreSQL schema or None, database URL)."""
    schema = None
    instance.mkdir(parents=True, exist_ok=True)
    if os.environ.get(POSTGRES_ENV):
        schema, url = make_postgres_schema("giupho_client")
    else:
        url = f"sqlite:///{instance / 'live.sqlite3'}"
    world = prepare_database(url, instance, _populate)
    server = LiveServer(url, instance, workers=workers).start()
    return Live(server, world), schema, url


@pytest.fixture(scope="package")
def live_db(tmp_path_factory) -> Iterator[tuple[Live, str]]:
    """A started server shared by this package's tests, and the URL of its database.

    Tests only add their own households and submissions (or put back what they change),
    so they can share it whatever their order.
    """
    instance = tmp_path_factory.mktemp("client-live")
    running, schema, url = start_live(instance)
    try:
        yield running, url
    finally:
        running.server.stop()
        if schema:
            drop_postgres_schema(schema)


@pytest.fixture(scope="package")
def live(live_db) -> Live:
    return live_db[0]
