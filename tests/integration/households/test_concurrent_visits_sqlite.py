"""Concurrent visits to one household on SQLite, as `make run` serves it (issue 13, finding 8).

A live server (gunicorn, two processes of eight threads each) on a SQLite file,
and many clients sending visits to the same household at once over both
protocols (OpenRosa and the JSON push). Before the fix, a write path that read
the household before taking SQLite's write lock met a household another
request had changed meanwhile and answered 500 "household ... changed while it
was merged". Every visit must be answered with success and stored once, and
the household's history must hold every one of them (sync contract H1, R1, R7).
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from forms.instance import to_xml
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import household_id, instance_id, registration, visit
from tests.integration.live import FormPlaces, live_sqlite  # noqa: F401  (fixture)
from tests.integration.test_concurrency import _count

pytestmark = [pytest.mark.slow]

CLIENTS = 8
ROUNDS = 6
TIMEOUT = 60


def test_concurrent_visits_to_one_household_over_both_protocols_on_sqlite(live_sqlite):  # noqa: F811
    """Issue 13, finding 8: eight clients visit one household at once, half over OpenRosa,
    half over the JSON push, round after round: every answer a success, each visit stored
    once, the household's history complete."""
    server, world = live_sqlite.server, live_sqlite.world
    token = world.tokens["cadre_a"]
    home = registration(village=FormPlaces.answer(FormPlaces.village_a1))
    hid = household_id(home)
    first = _post_openrosa(server.url, token, home)
    assert first.status_code == 201, first.text[:500]

    sent: list[str] = []
    failures: list[str] = []
    for round_number in range(ROUNDS):
        visits = [visit(hid, hh_size=str(2 + n % 5)) for n in range(CLIENTS)]
        sent += [instance_id(v) for v in visits]
        start = threading.Barrier(CLIENTS)

        def send(n: int, visits=visits, start=start) -> str | None:
            start.wait()
            if n % 2:
                response = _post_openrosa(server.url, token, visits[n])
                ok = response.status_code == 201
            else:
                response = requests.post(
                    f"{server.url}/api/v1/sync/push",
                    data=json.dumps({"items": [answers_item(visits[n])]}),
                    headers={"Authorization": f"Bearer {token}",
                             "Content-Type": "application/json"},
                    timeout=TIMEOUT,
                )  # fmt: skip
                ok = response.status_code == 200 and [
                    r["result"] for r in response.json()["results"]
                ] == ["accepted"]
            return None if ok else f"{response.status_code} {response.text[:300]}"

        with ThreadPoolExecutor(CLIENTS) as pool:
            failures += [f"round {round_number}: {f}" for f in pool.map(send, range(CLIENTS)) if f]

    assert failures == [], server.log_tail()
    stored = _stored(server.database_url, sent, hid)
    assert stored == {"submissions": len(sent), "versions": 1 + len(sent)}


def _post_openrosa(url: str, token: str, root) -> requests.Response:
    files = {"xml_submission_file": ("submission.xml", to_xml(root), "text/xml")}
    return requests.post(
        f"{url}/key/{token}/submission",
        files=files,
        headers={"X-OpenRosa-Version": "1.0"},
        timeout=TIMEOUT,
    )


def _stored(url: str, ids: list[str], hid: str) -> dict[str, int]:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "submissions": _count(conn, "submissions", "instance_id", ids),
                "versions": _count(conn, "household_versions", "household_id", [hid]),
            }
    finally:
        engine.dispose()
