"""Exactly once (R7) and no missed change (P2) against a real server: gunicorn, 4 worker processes.

One PostgreSQL schema and one gunicorn for the module (`live_postgres`).
Eight clients send the same 500 submissions at once, each in its own
shuffled order, four over OpenRosa (one POST each) and four over the JSON
API (batches of 50), so every submission meets concurrent deliveries over
both protocols on different workers; the database's unique key (the
instanceID's claim on PostgreSQL) must make it count once, and every delivery
must hear success. Then a pull cursor must not step over a transaction that
began before, and committed after, another one.
"""

from __future__ import annotations

import gzip
import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from forms.instance import to_xml
from server.db import db
from server.services.forms import publishing as form_service
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import (
    household_id,
    instance_id,
    registration,
    registration_form,
)
from tests.integration.database import HORIZON_WAIT_S, build_app, dispose_app
from tests.integration.live import FormPlaces, live_postgres  # noqa: F401  (fixture)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SUBMISSIONS = 500
CLIENTS = 8
BATCH = 50
TIMEOUT = 60
#: What an OpenRosa status says, in the words of the JSON results (sync contract R1, R2).
OPENROSA_RESULTS = {201: "accepted", 202: "duplicate"}


def households(count: int) -> list:
    """`count` distinct registrations in cadre_a's two villages.

    Distinct for duplicate detection too (own name and phone number): 500 households
    sharing a phone would each be a possible duplicate of every other (D2), which is
    not what this module is about.
    """
    villages = [FormPlaces.answer(FormPlaces.village_a1), FormPlaces.answer(FormPlaces.village_a2)]
    return [
        registration(village=villages[n % 2], head_name=f"Lò Văn Số {n}", head__phone=f"09{n:08d}")
        for n in range(count)
    ]


def stored_counts(url: str, ids: list[str], household_ids: list[str]) -> dict[str, int]:
    """How many submissions, households and household versions the database has for these ids."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                "submissions": _count(conn, "submissions", "instance_id", ids),
                "households": _count(conn, "households", "id", household_ids),
                "versions": _count(conn, "household_versions", "household_id", household_ids),
            }
    finally:
        engine.dispose()


def _count(conn, table: str, column: str, values: list[str]) -> int:
    stmt = sa.text(f"SELECT count(*) FROM {table} WHERE {column} IN :values").bindparams(
        sa.bindparam("values", expanding=True)
    )
    return conn.execute(stmt, {"values": values}).scalar()


def shuffled(client_number: int) -> list[int]:
    """The order in which client `client_number` sends the submissions (its own, repeatable)."""
    order = list(range(SUBMISSIONS))
    random.Random(client_number).shuffle(order)
    return order


def run_clients(send_all) -> list:
    """Run `send_all(client_number)` in CLIENTS threads at once; their answers, flattened."""
    start = threading.Barrier(CLIENTS)

    def client(number: int):
        start.wait()
        return send_all(number)

    with ThreadPoolExecutor(CLIENTS) as pool:
        return [answer for answers in pool.map(client, range(CLIENTS)) for answer in answers]


def test_r7_eight_clients_over_both_protocols_sending_the_same_500_store_each_once(
    live_postgres,  # noqa: F811
):
    """Four clients post each submission over OpenRosa while four push it over the JSON API,
    each client in its own order: 8 concurrent deliveries of each of the 500, on 4 workers."""
    live = live_postgres
    batch = households(SUBMISSIONS)
    bodies = [to_xml(h) for h in batch]
    items = [answers_item(h) for h in batch]
    token = live.world.tokens["cadre_a"]

    def send_openrosa(number: int) -> list[tuple[int, str]]:
        session = requests.Session()
        session.headers["X-OpenRosa-Version"] = "1.0"
        url = f"{live.url}/key/{token}/submission"
        answers = []
        for i in shuffled(number):
            files = {"xml_submission_file": ("submission.xml", bodies[i], "text/xml")}
            status = session.post(url, files=files, timeout=TIMEOUT).status_code
            answers.append((i, OPENROSA_RESULTS.get(status, str(status))))
        return answers

    def send_json(number: int) -> list[tuple[int, str]]:
        session = requests.Session()
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        }
        order, answers = shuffled(number), []
        for start in range(0, SUBMISSIONS, BATCH):
            chunk = order[start : start + BATCH]
            body = gzip.compress(json.dumps({"items": [items[i] for i in chunk]}).encode())
            response = session.post(
                f"{live.url}/api/v1/sync/push", data=body, headers=headers, timeout=TIMEOUT
            )
            assert response.status_code == 200, response.text[:500]
            results = response.json()["results"]
            assert [r["instance_id"] for r in results] == [items[i]["instance_id"] for i in chunk]
            answers += [(i, r["result"]) for i, r in zip(chunk, results, strict=True)]
        return answers

    answers = run_clients(lambda n: send_openrosa(n) if n % 2 else send_json(n))

    # Each submission was stored by exactly one delivery, whichever protocol brought it;
    # every other delivery heard "already have it" (OpenRosa 202, JSON duplicate).
    assert Counter(result for _i, result in answers) == {
        "accepted": SUBMISSIONS,
        "duplicate": (CLIENTS - 1) * SUBMISSIONS,
    }
    assert Counter(i for i, result in answers if result == "accepted") == dict.fromkeys(
        range(SUBMISSIONS), 1
    )
    ids, homes = [instance_id(h) for h in batch], [household_id(h) for h in batch]
    assert stored_counts(live.server.database_url, ids, homes) == {
        "submissions": SUBMISSIONS,
        "households": SUBMISSIONS,
        "versions": SUBMISSIONS,
    }


def _pull_all(session: requests.Session, url: str, cursor: str | None) -> tuple[list, str]:
    changes = []
    while True:
        params = {"limit": 500} | ({"cursor": cursor} if cursor else {})
        page = session.get(f"{url}/api/v1/sync/pull", params=params, timeout=TIMEOUT).json()
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, cursor


def test_p2_pull_over_http_delivers_a_change_that_committed_late(live_postgres, tmp_path):  # noqa: F811
    """T1 (a connection of this test) logs a change first and commits last; T2 (a request
    to the server) commits in between; a tablet pulls between the commits and after."""
    live = live_postgres
    form, new_version = registration_form(), "2099020202"
    app = build_app(live.server.database_url, str(tmp_path))
    with app.app_context():
        xform = form.xform.replace(
            f'version="{form.version}"'.encode(), f'version="{new_version}"'.encode()
        )
        form_service.upload(xform, "registration.xml", None)  # a draft: tablets do not see it
    tablet = requests.Session()
    tablet.headers["Authorization"] = f"Bearer {live.world.tokens['cadre_a']}"
    _changes, cursor = _pull_all(tablet, live.url, None)
    logged, release = threading.Event(), threading.Event()

    def slow_publisher() -> None:
        with app.app_context():
            form_service.publish.__wrapped__(None, form.form_id, new_version)  # no commit yet
            db.session.flush()
            logged.set()
            release.wait(TIMEOUT)
            db.session.commit()

    writer = threading.Thread(target=slow_publisher)
    writer.start()
    try:
        assert logged.wait(TIMEOUT)
        later = registration(village=FormPlaces.answer(FormPlaces.village_a1))
        posted = requests.post(
            f"{live.url}/key/{live.world.tokens['cadre_a']}/submission",
            files={"xml_submission_file": ("s.xml", to_xml(later), "text/xml")},
            headers={"X-OpenRosa-Version": "1.0"},
            timeout=TIMEOUT,
        )
        assert posted.status_code == 201
        between, cursor = _pull_all(tablet, live.url, cursor)  # T1 still open
    finally:
        release.set()
        writer.join(TIMEOUT)
        dispose_app(app)

    delivered = between
    wanted = {("household", household_id(later)), ("form", (form.form_id, new_version))}
    deadline = time.monotonic() + HORIZON_WAIT_S  # other sessions may hold the horizon
    while not wanted <= _keys(delivered) and time.monotonic() < deadline:
        time.sleep(0.1)
        after, cursor = _pull_all(tablet, live.url, cursor)
        delivered += after
    assert wanted <= _keys(delivered)  # T2's change, and T1's: it was not stepped over


def _keys(changes: list[dict]) -> set:
    """What a list of pulled changes upserted: ("household", id) and ("form", (id, version))."""
    keys = set()
    for change in changes:
        if change["op"] != "upsert":
            continue
        if change["kind"] == "form":
            keys.add(("form", (change["data"]["form_id"], change["data"]["version"])))
        else:
            keys.add((change["kind"], change["id"]))
    return keys
