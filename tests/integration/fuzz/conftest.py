"""A live giupho server (gunicorn) with the demo data, for the fuzz tests of this folder.

The fuzz reaches past authentication: it signs in as a demo cadre with a device token
(the sync and upload routes, as a tablet does) and as the demo coordinator with HTTP
Basic (everything else), both with households, duplicates and forms in their scope.
One server per backend (SQLite, and PostgreSQL when GIUPHO_TEST_POSTGRES_URL is set),
shared by the folder's tests.

How many examples each test generates: `GIUPHO_TEST_FUZZ_EXAMPLES` (default 25 per API
operation, six times as many push batches, so the folder stays well under two minutes in CI).
Generation is derandomized, so a CI run is reproducible; a larger count runs deeper
locally, e.g. `GIUPHO_TEST_FUZZ_EXAMPLES=500 .venv/bin/python -m pytest tests/integration/fuzz`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import current_app

from server.services.access import auth
from server.services.demo import seed
from tests.conftest import BACKENDS
from tests.integration.database import drop_postgres_schema, make_postgres_schema
from tests.integration.helpers import basic, bearer
from tests.integration.live import LiveServer, prepare_database

#: Examples per API operation (schemathesis); push batches are cheaper, and get six times
#: as many. Read at import: the suite's fixtures hide GIUPHO_* variables from the tests.
FUZZ_EXAMPLES = int(os.environ.get("GIUPHO_TEST_FUZZ_EXAMPLES") or 25)
PUSH_EXAMPLES = 6 * FUZZ_EXAMPLES

CADRE = "lo.van.hung"  # a demo cadre: two villages of Xã Mường Phăng, with households
COORDINATOR = "dieuphoi"  # the demo coordinator: the whole province, manages forms


@dataclass(frozen=True)
class FuzzServer:
    """A started server on the demo data, and how to sign in to it."""

    url: str
    database_url: str
    cadre_token: str
    coordinator_password: str
    server: LiveServer

    @property
    def tablet(self) -> dict[str, str]:
        """Headers of the demo cadre's tablet (device token)."""
        return bearer(self.cadre_token)

    @property
    def coordinator(self) -> dict[str, str]:
        """Headers of the demo coordinator (HTTP Basic)."""
        return basic(COORDINATOR, self.coordinator_password)


def _seed() -> tuple[str, str]:
    """The demo data; returns (the cadre's device token, the demo password)."""
    assert seed.seed_demo()
    return auth.demo_token(CADRE), current_app.config["DEMO_PASSWORD"]


@pytest.fixture(scope="package", params=BACKENDS)
def fuzz_server(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[FuzzServer]:
    instance = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    schema = None
    if request.param == "postgres":
        schema, url = make_postgres_schema("giupho_fuzz")
    else:
        url = f"sqlite:///{instance / 'fuzz.sqlite3'}"
    try:
        token, password = prepare_database(url, instance, _seed)
        with LiveServer(url, instance, workers=2) as server:
            yield FuzzServer(server.url, url, token, password, server)
    finally:
        if schema is not None:
            drop_postgres_schema(schema)
