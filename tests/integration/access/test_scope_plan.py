"""A cadre's requests read their own households through indexes, however big the table (issue
19): PostgreSQL's plan for every statement a request sends about households, read with
EXPLAIN ANALYZE on a table of 50,000 households of which the cadre has 500."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from bench.scope import fill
from server.db import db
from server.models import Role
from server.services.access import users
from tests.integration.helpers import bearer
from tests.integration.live import publish_shipped_xforms

OPENROSA = {"X-OpenRosa-Version": "1.0"}


def _nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _households_scans(app, statements: list[tuple[str, object]]) -> list[tuple[list, int]]:
    """For each statement that reads `households`, run with EXPLAIN ANALYZE: the scan nodes
    of its plan on that table ("<node type> <index name>") and the rows they read."""
    found = []
    with app.app_context():
        conn = db.session.connection()
        for statement, parameters in statements:
            if "FROM households" not in statement or not statement.lstrip().startswith("SELECT"):
                continue
            explain = f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}"
            plan = conn.exec_driver_sql(explain, parameters).scalar()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            scans = [n for n in _nodes(plan[0]["Plan"]) if n.get("Relation Name") == "households"]
            scans += [
                n
                for n in _nodes(plan[0]["Plan"])
                if "households" in n.get("Index Name", "") and n not in scans
            ]
            names = [f"{n['Node Type']} {n.get('Index Name', '')}".strip() for n in scans]
            read = sum(
                n["Actual Rows"] + n.get("Rows Removed by Filter", 0)
                for n in scans
                if "Relation Name" in n
            )
            found.append((names, read))
        db.session.rollback()
    return found


@pytest.fixture
def big_table(app, places, make_user, make_device):
    """50,000 households in 100 communes of the province, 500 of them in cadre_a's villages."""
    make_user("cadre_a", Role.CADRE, places.village_a1, places.village_a2)
    token = make_device("cadre_a")
    with app.app_context():
        publish_shipped_xforms()
        cadre = users.find("cadre_a")
        fill(db.session.connection(), 50_000, sorted(u.id for u in cadre.units))
        db.session.commit()
    return token


def _sent(app, request) -> list[tuple[str, object]]:
    """The statements (with their parameters) `request()` sent to the database."""
    sent = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        request()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return sent


@pytest.mark.postgres_only
def test_the_cadres_requests_read_households_through_indexes(app, client, big_table):
    token = big_table
    visit = "/forms/giupho_household_visit/versions"
    with app.app_context():
        version = db.session.scalar(
            sa.text(
                "SELECT v.version FROM form_versions v JOIN forms f ON f.id = v.form_pk "
                "WHERE f.form_id = 'giupho_household_visit'"
            )
        )
    base = f"/key/{token}{visit}/{version}"

    def requests():
        assert client.get(f"{base}/manifest", headers=OPENROSA).status_code == 200
        listed = client.get(f"{base}/media/households.csv", headers=OPENROSA)
        assert listed.status_code == 200 and listed.data.count(b"\n") == 501
        page = client.get("/api/v1/households?limit=50", headers=bearer(token))
        assert page.status_code == 200 and len(page.get_json()["households"]) == 50
        after = page.get_json()["next_after"]
        more = client.get(f"/api/v1/households?limit=200&after={after}", headers=bearer(token))
        assert more.status_code == 200 and len(more.get_json()["households"]) == 200

    scans = _households_scans(app, _sent(app, requests))

    assert len(scans) >= 4  # the manifest's version, the list's rows, two pages
    for names, read in scans:
        assert names and not any(n.startswith("Seq Scan") for n in names), names
        # The village and commune indexes, never a walk of the whole primary key in id order
        # testing each row against the scope: no more rows read than the cadre has.
        assert any("village" in n for n in names) and any("commune" in n for n in names), names
        assert read <= 500, (names, read)


@pytest.mark.postgres_only
def test_a_households_merge_chain_is_read_through_an_index(app, big_table):
    """The review page of a household gathers those merged into it (`absorbed_ids`), and
    deleting a household makes PostgreSQL look for any merged into it: both find them
    through `ix_households_merged_into`, not a scan of the 50,000 households."""
    from server.services.duplicates import cases as duplicates

    with app.app_context():
        household_id = db.session.scalar(sa.text("SELECT min(id) FROM households"))

    def request():
        with app.app_context():
            assert duplicates.absorbed_ids(household_id) == [household_id]

    scans = _households_scans(app, _sent(app, request))
    assert scans, "absorbed_ids sent no statement about households"
    for names, read in scans:
        assert names == ["Index Scan ix_households_merged_into"] or names == [
            "Index Only Scan ix_households_merged_into"
        ], names
        assert read == 0, (names, read)
