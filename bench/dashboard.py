"""The dashboard and the review queue of a post-2025 commune (issue 19, point 1): 7,500
households with three years of visits, on PostgreSQL.

Seeds the demo into a fresh PostgreSQL schema, then adds to the demo official's commune
7,500 households, each with twelve versions (a registration and a visit a quarter for three
years) and the submissions that made them, in the shapes ingest writes (the summed-up columns
`households.poverty.track` keeps included), with statuses, exits, decisions, conflicts and
review states spread over them; then VACUUM ANALYZE, as autovacuum would. Each page is
requested through the WSGI app in this process as the commune official, `REPEAT` times after
a warm-up. Server CPU per view = this process's CPU (`time.process_time`) plus the CPU of
the PostgreSQL backends serving this process's connections (read from /proc, so only when
PostgreSQL runs on this machine), so the machine's other work does not count; the wall time
is in the reference column. The last row counts the waiting exits the way the dashboard did
before (every non-poor household loaded with its versions) for comparison.

Run: `.venv/bin/python bench/dashboard.py` (GIUPHO_BENCH_POSTGRES_URL or
GIUPHO_TEST_POSTGRES_URL; skipped without PostgreSQL).
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import sqlalchemy as sa  # noqa: E402

from server.db import db, upgrade_database  # noqa: E402
from server.models import AdminUnit, Household, HouseholdStatus, Submission  # noqa: E402
from server.models.submissions import claiming  # noqa: E402
from server.services.access import users  # noqa: E402
from server.services.demo import seed  # noqa: E402
from server.services.households import review as household_review  # noqa: E402
from server.services.review import exits, pages  # noqa: E402
from tests.integration import database  # noqa: E402
from tests.integration.live import process_cpu_seconds  # noqa: E402

HOUSEHOLDS = 7_500
VERSIONS = 12  # a registration and a visit a quarter, three years
REPEAT = 10
TARGET_MS = 200
OFFICIAL = "xa.muongphang"
PASSWORD = "demo-password"


def row(name: str, measured, unit: str, target: str, reference: str) -> dict:
    return dict(name=name, measured=measured, unit=unit, target=target, reference=reference)


def _statuses(n: str) -> str:
    """SQL: a household's status from its number `n` (15 % poor, 10 % near-poor, ...)."""
    return (
        f"CASE WHEN {n} % 20 < 3 THEN 'poor' WHEN {n} % 20 < 5 THEN 'near_poor' "
        f"WHEN {n} % 20 < 15 THEN 'average' ELSE 'above' END"
    )


def fill(commune: AdminUnit) -> None:
    """The commune's 7,500 households, their versions and submissions (PostgreSQL SQL)."""
    conn = db.session.connection()
    villages = list(
        db.session.scalars(sa.select(AdminUnit.id).where(AdminUnit.parent_id == commune.id))
    )
    template = db.session.scalar(
        sa.select(Submission.id).where(Submission.commune_id == commune.id).limit(1)
    )
    copied = [
        c.name
        for c in Submission.__table__.c
        if c.name not in ("id", "instance_id", "root_id", "commune_id", "village_id",
                          "received_at", "review_state", "superseded")
    ]  # fmt: skip
    params = {"commune": commune.id, "villages": villages, "sid": template}
    # Households b-1 .. b-7500: status by number; every 25th an exit from near-poor or poor
    # (a third of them decided), every 100th with an open conflict.
    conn.execute(sa.text(f"""
        INSERT INTO households (id, dataset, label, version, properties, status, village_id,
            commune_id, created_at, updated_at, flagged, open_conflicts, held_updates,
            poverty_status, assessed_status, exit_version, exit_from)
        SELECT 'b-' || g, 'households', 'Hộ ' || g, {VERSIONS},
            jsonb_build_object('poverty_status', {_statuses('g')}, 'head_name', 'Hộ ' || g),
            'active', (:villages)[1 + g % cardinality(:villages)], :commune,
            now() - interval '3 years', now(), g % 100 = 0, (g % 100 = 0)::int, 0,
            {_statuses('g')}, {_statuses('g')},
            CASE WHEN g % 25 = 0 AND {_statuses('g')} IN ('average', 'above') THEN {VERSIONS} END,
            CASE WHEN g % 25 = 0 AND {_statuses('g')} IN ('average', 'above') THEN 'near_poor' END
        FROM generate_series(1, {HOUSEHOLDS}) AS g
    """), params)  # fmt: skip
    # Their submissions: one per version, a quarter apart, most approved long ago, with the
    # claims of their instanceIDs (R7's guard on PostgreSQL: `claiming`).
    conn.execute(sa.text(claiming(f"""
        INSERT INTO submissions (instance_id, root_id, commune_id, village_id, received_at,
            review_state, superseded, {", ".join(copied)})
        SELECT 'uuid:b-' || g || '-' || v, 'uuid:b-' || g || '-' || v, :commune,
            (:villages)[1 + g % cardinality(:villages)],
            now() - interval '3 years' + (v * interval '91 days') + (g * interval '1 minute'),
            CASE WHEN v = {VERSIONS} AND g % 50 = 0 THEN 'received'
                 WHEN v = {VERSIONS} AND g % 70 = 0 THEN 'has_issues'
                 WHEN v = {VERSIONS} AND g % 90 = 0 THEN 'returned' ELSE 'approved' END,
            false, {", ".join(copied)}
        FROM submissions, generate_series(1, {HOUSEHOLDS}) AS g, generate_series(1, {VERSIONS}) AS v
        WHERE submissions.id = :sid
    """)), params)  # fmt: skip
    # Registered near-poor when they exit at the last visit, else at the status they keep.
    conn.execute(sa.text(f"""
        INSERT INTO household_versions (household_id, version, submission_id, base_version,
            changes, created_at, kind, branch_position)
        SELECT 'b-' || g, v, s.id, v - 1,
            CASE WHEN v = 1 AND g % 25 = 0 AND {_statuses('g')} IN ('average', 'above')
                 THEN jsonb_build_object('poverty_status', 'near_poor')
                 WHEN v = 1 THEN jsonb_build_object('poverty_status', {_statuses('g')})
                 WHEN v = {VERSIONS} THEN jsonb_build_object('poverty_status', {_statuses('g')})
                 ELSE jsonb_build_object('income_per_person', (1000000 + v * 1000)::text) END,
            s.received_at, 'submission', 0
        FROM generate_series(1, {HOUSEHOLDS}) AS g CROSS JOIN generate_series(1, {VERSIONS}) AS v
        JOIN submissions s ON s.instance_id = 'uuid:b-' || g || '-' || v
    """))  # fmt: skip
    conn.execute(sa.text("""
        INSERT INTO poverty_exits (household_id, version, commune_id, from_status, to_status,
            transition, assessed_at, decision, decision_date, decided_by_id, decided_at)
        SELECT h.id, h.exit_version, h.commune_id, h.exit_from, h.poverty_status,
            'escaped_near_poverty', now() - interval '30 days', 'certified',
            current_date - 10, u.id, now()
        FROM households h, users u
        WHERE h.exit_version IS NOT NULL AND h.id LIKE 'b-%' AND substr(h.id, 3)::int % 3 = 0
            AND u.username = :official
    """), {"official": OFFICIAL})  # fmt: skip
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
        for table in ("households", "household_versions", "submissions", "poverty_exits"):
            autocommit.exec_driver_sql(f"VACUUM ANALYZE {table}")


def _signed_in(app):
    client = app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": OFFICIAL, "password": PASSWORD, "csrf_token": token}
    assert client.post("/signin", data=form).status_code == 302
    return client


class Backends:
    """The PostgreSQL backend of every connection this process's engine opens."""

    def __init__(self, engine) -> None:
        self.pids: set[int] = set()
        sa.event.listen(engine, "connect", self._connected)

    def _connected(self, dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT pg_backend_pid()")
        self.pids.add(cursor.fetchone()[0])
        cursor.close()

    def cpu(self) -> float:
        return sum(process_cpu_seconds(pid) for pid in self.pids)


def _timed(measure, backends: Backends) -> tuple[list[float], list[float]]:
    """(server CPU ms, wall ms) of `REPEAT` calls of `measure` after one warm-up."""
    measure()
    cpu, wall = [], []
    for _ in range(REPEAT):
        db_before, started, clock = backends.cpu(), time.process_time(), time.perf_counter()
        measure()
        wall.append((time.perf_counter() - clock) * 1000)
        cpu.append((time.process_time() - started + backends.cpu() - db_before) * 1000)
    return cpu, wall


def _old_waiting_exits(user, commune) -> int:
    """The count as the dashboard made it before: every active household of the commune whose
    status is not the worst, loaded with all its assessments, the rule applied in Python."""
    better = [key for key, n in exits.ranks().items() if n > 0]
    stmt = household_review.visible(user).where(
        Household.commune_id == commune.id,
        Household.status == HouseholdStatus.ACTIVE,
        Household.properties["poverty_status"].as_string().in_(better),
    )
    found = exits._exits(list(db.session.scalars(stmt)))
    db.session.rollback()
    return sum(1 for e in found if e.decision is None)


def _views(client, commune_id: int, backends: Backends, loaded: float) -> list[dict]:
    views = {
        "dashboard": f"/review?commune={commune_id}",
        "review queue": f"/review/submissions?commune={commune_id}",
        "review queue, received": f"/review/submissions?commune={commune_id}&state=received",
    }
    rows = []
    for view, path in views.items():

        def get(path=path):
            response = client.get(path)
            response.get_data()
            assert response.status_code == 200, (path, response.status_code)

        cpu, wall = _timed(get, backends)
        rows.append(row(
            f"{view}, commune of {HOUSEHOLDS:,} households x {VERSIONS} versions, "
            "server CPU per view (PostgreSQL)", statistics.median(cpu), "ms",
            f"< {TARGET_MS} ms", f"wall {statistics.median(wall):.0f} ms; "
            f"app + its PostgreSQL backends; data loaded in {loaded:.0f} s",
        ))  # fmt: skip
    return rows


def run() -> list[dict]:
    from ingest import postgres_base

    name = f"dashboard, commune of {HOUSEHOLDS:,} households x {VERSIONS} versions"
    base = postgres_base()
    if base is None:
        return [row(name, None, "", "", "skipped: no PostgreSQL")]
    os.environ[database.POSTGRES_ENV] = base
    schema, url = database.make_postgres_schema("giupho_bench_dashboard")
    app = None
    try:
        with tempfile.TemporaryDirectory(prefix="giupho-bench-dashboard-") as tmp:
            app = database.build_app(url, tmp, DEMO_PASSWORD=PASSWORD, LOG_LEVEL="WARNING")
            with app.app_context():
                upgrade_database()
                seed.seed_demo()
                commune = pages.communes(users.find(OFFICIAL))[0]
                commune_id = commune.id
                started = time.perf_counter()
                fill(commune)
                loaded = time.perf_counter() - started
                db.session.remove()
                backends = Backends(db.engine)
                db.engine.dispose()  # the next connections are seen by `Backends`
            # Requests outside the context (a pushed one would share its session with them).
            rows = _views(_signed_in(app), commune_id, backends, loaded)
            with app.app_context():
                official = users.find(OFFICIAL)
                commune = db.session.get(AdminUnit, commune_id)
                now_cpu, _ = _timed(lambda: exits.count_waiting(official, commune), backends)
                old_cpu, _ = _timed(lambda: _old_waiting_exits(official, commune), backends)
                assert exits.count_waiting(official, commune) == _old_waiting_exits(
                    official, commune
                )
                rows.append(row(
                    "waiting exits of that commune, counted as before (every non-poor household "
                    "and its versions loaded), server CPU", statistics.median(old_cpu), "ms", "",
                    f"now {statistics.median(now_cpu):.1f} ms (one indexed statement)",
                ))  # fmt: skip
                db.session.remove()
                return rows
    finally:
        if app is not None:
            database.dispose_app(app)
        database.drop_postgres_schema(schema)


if __name__ == "__main__":
    for r in run():
        print(f"{r['name']}: {r['measured']} {r['unit']} ({r['reference']})")
