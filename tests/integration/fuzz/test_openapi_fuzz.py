"""Schemathesis against the OpenAPI document the server serves: no request gets a 5xx.

Issue 13 ("a fuzz test in CI, bounded in time"): every operation of
`/api/v1/openapi.json` is called over real HTTP with generated requests, valid ones and
ones that break the schema (schemathesis's positive and negative modes, and its coverage
phase: boundary values, wrong types, missing fields), signed in so the requests reach the
views. The test fails on any 5xx (`not_a_server_error`). Response-schema conformance is not
checked: the documented 4xx list per operation is not exhaustive yet.
"""

from __future__ import annotations

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from server import create_app
from server.api.openapi import build_document
from tests.integration.fuzz.conftest import FUZZ_EXAMPLES, FuzzServer

#: The routes a tablet calls with its device token; the rest are called as the coordinator.
TABLET_PREFIXES = ("/api/v1/sync/", "/api/v1/uploads", "/api/v1/devices")

CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 13,
        "generation": {
            "mode": "all",  # valid requests and requests that break the schema
            "with-security-parameters": False,  # the test signs in itself (below)
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
    }
)


# Upload chunks (tus-like PATCH) are bytes: sent as schemathesis sends octet streams.
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


def _document() -> dict:
    """The OpenAPI document of the app, as `/api/v1/openapi.json` serves it.

    Built at import, before any server runs, because schemathesis makes one test per
    operation at collection; `test_the_fuzzed_document_is_the_served_one` checks that it
    is the document a live server serves.
    """
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return build_document(app)


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)
_CALLS: dict[str, int] = {}  # cases so far by path: every other one names a real thing


@pytest.fixture(scope="package")
def known_ids(fuzz_server: FuzzServer) -> dict[str, dict[str, str]]:
    """Path parameters that name things on the server, by parameter name, for every other
    case of an operation: random ids only reach the views' 404s, these reach the bodies."""

    def get(path: str, **params) -> dict:
        answer = requests.get(
            f"{fuzz_server.url}/api/v1{path}",
            params=params,
            headers=fuzz_server.coordinator,
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        return answer.json()

    # A quarantined item of the cadre (a form the server does not have).
    pushed = requests.post(
        f"{fuzz_server.url}/api/v1/sync/push",
        json={"items": [{"instance_id": "uuid:fuzz-1", "form_id": "nope", "answers": {}}]},
        headers=fuzz_server.tablet,
        timeout=30,
    ).json()["results"][0]
    form = get("/forms")["forms"][0]
    known = {
        "household_id": {"household_id": get("/households")["households"][0]["id"]},
        "form_id": {"form_id": form["form_id"], "version": form["versions"][0]["version"]},
        "item_id": {"item_id": str(pushed["quarantine_id"])},
    }
    cases = get("/duplicates", status="all")["cases"]
    if cases:
        known["case_id"] = {"case_id": str(cases[0]["id"])}
    entries = get("/double-entries", status="all")["double_entries"]
    if entries:
        known["entry_id"] = {"entry_id": str(entries[0]["id"])}
    return known


def test_the_fuzzed_document_is_the_served_one(fuzz_server: FuzzServer):
    served = requests.get(f"{fuzz_server.url}/api/v1/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_request_gets_a_server_error(case, fuzz_server: FuzzServer, known_ids):
    """Issue 13: schemathesis over HTTP, signed in, finds no 5xx."""
    path = case.operation.path
    _CALLS[path] = calls = _CALLS.get(path, 0) + 1
    if calls % 2 and case.path_parameters:
        for name, values in known_ids.items():
            if name in case.path_parameters:
                case.path_parameters.update(values)
    headers = fuzz_server.tablet if path.startswith(TABLET_PREFIXES) else fuzz_server.coordinator
    case.call_and_validate(
        base_url=fuzz_server.url, headers=headers, checks=[not_a_server_error], timeout=30
    )
