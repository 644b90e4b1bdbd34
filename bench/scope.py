"""Benchmark: a cadre's requests stay bounded by their scope when the table is big (issue 19).

On PostgreSQL, in process through the Flask test client (the views, services and queries of a
real request, without a network):

1. The test world (`tests.integration.live.populate_world`): cadre_a works in two villages.
2. `fill`: N households (default 100,000; `--households 1000000`) of the app's own shapes
   spread over communes of 500 households (5 villages of 100) by `INSERT ... SELECT
   generate_series`, 500 of them in cadre_a's villages; then ANALYZE.
3. Measured for cadre_a, database time (the sum of the statements' execution, read by a
   cursor event) and wall time, median of `REPEAT` runs:
   - the OpenRosa manifest plus the household CSV, the first time (the list is made and
     kept) and then from the cache; and a download answered 304 (`If-None-Match`);
   - one `/api/v1/households` page of 50 and of 200;
   - for comparison, the cadre's household query with the old filter (the recursive unit
     subquery inside the OR): before this change, 3.8-7.4 s at 1M.

Target (issue 19): manifest plus CSV < 50 ms and a page < 50 ms at 1M households.

Run alone: `.venv/bin/python bench/scope.py [--households 1000000]`; in `bench/run.py`,
`GIUPHO_BENCH_SCOPE_HOUSEHOLDS` sets N.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import aliased  # noqa: E402

from server.db import db  # noqa: E402
from server.models import AdminUnit, Household, HouseholdStatus  # noqa: E402
from server.models.people import user_scope  # noqa: E402
from server.services.access import scope, users  # noqa: E402
from tests.integration import database  # noqa: E402
from tests.integration.live import prepare_database, publish_shipped_xforms  # noqa: E402

HOUSEHOLDS_ENV = "GIUPHO_BENCH_SCOPE_HOUSEHOLDS"
PER_COMMUNE, VILLAGES_PER_COMMUNE = 500, 5
CADRE_HOUSEHOLDS = 500
REPEAT = 7
OPENROSA = {"X-OpenRosa-Version": "1.0"}
VISIT_FORM = "giupho_household_visit"

#: The properties a registration gives a household (about the size of the real ones).
_PROPERTIES = """jsonb_build_object(
    'head_name', 'Lò Văn ' || g, 'head_sex', 'male', 'head_birth_year', 1950 + g % 50,
    'ethnicity', 'thai', 'village', v.code, 'commune', 'b', 'province', '11',
    'income', (900000 + g % 2000000)::text, 'members', (1 + g % 7)::text,
    'water', (g % 2)::text, 'latrine', (g % 3 % 2)::text, 'telecom', '0',
    'deprivation_count', (g % 5)::text, 'poverty_status', 'poor',
    'phone', '09' || lpad((g % 100000000)::text, 8, '0'))"""


def fill(conn: sa.Connection, households: int, cadre_villages: list[int]) -> None:
    """`households` households in new communes of the first province, `CADRE_HOUSEHOLDS` of
    them in `cadre_villages` (fewer when `households` is smaller); then ANALYZE."""
    province = conn.scalar(sa.text("SELECT id FROM admin_units WHERE path = '11'"))
    communes = max(1, households // PER_COMMUNE)
    conn.execute(
        sa.text(
            "INSERT INTO admin_units (code, name, level, kind, parent_id, path, created_at) "
            "SELECT 'b' || g, 'Xã ' || g, 'commune', 'Xã', :province, '11/b' || g, now() "
            "FROM generate_series(1, :communes) g"
        ),
        {"province": province, "communes": communes},
    )
    conn.execute(
        sa.text(
            "INSERT INTO admin_units (code, name, level, kind, parent_id, path, created_at) "
            "SELECT lpad(n::text, 2, '0'), 'Bản ' || n, 'village', 'Bản', c.id, "
            "c.path || '/' || lpad(n::text, 2, '0'), now() "
            "FROM admin_units c, generate_series(1, :villages) n "
            "WHERE c.parent_id = :province AND c.path LIKE '11/b%'"
        ),
        {"province": province, "villages": VILLAGES_PER_COMMUNE},
    )
    own = min(CADRE_HOUSEHOLDS, households)
    insert = (
        "INSERT INTO households (id, dataset, label, version, properties, status, village_id, "
        "commune_id, created_at, updated_at, flagged, open_conflicts, held_updates) "
        "SELECT md5(:salt || g)::uuid::text, 'households', 'Hộ Lò Văn ' || g, 1 + g % 3, "
        f"{_PROPERTIES}, 'active', v.id, v.parent_id, now(), now(), false, 0, 0 "
        "FROM generate_series(0, :n - 1) g JOIN {villages} v ON v.k = g % {count}"
    )
    bulk = (
        "(SELECT id, parent_id, code, row_number() OVER (ORDER BY id) - 1 AS k "
        "FROM admin_units WHERE level = 'village' AND path LIKE '11/b%')"
    )
    conn.execute(
        sa.text(
            insert.format(
                villages=bulk,
                count=communes * VILLAGES_PER_COMMUNE,
            )
        ),
        {"salt": "bulk", "n": households - own},
    )
    mine = (
        "(SELECT id, parent_id, code, row_number() OVER (ORDER BY id) - 1 AS k "
        "FROM admin_units WHERE id IN :ids)"
    )
    conn.execute(
        sa.text(insert.format(villages=mine, count=len(cadre_villages))).bindparams(
            sa.bindparam("ids", expanding=True)
        ),
        {"salt": "cadre", "n": own, "ids": cadre_villages},
    )
    conn.execute(sa.text("ANALYZE admin_units"))
    conn.execute(sa.text("ANALYZE households"))


class StatementClock:
    """Sums the time the database takes for the statements run while it is active."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine, self.total, self._started = engine, 0.0, {}

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        self._started[id(cursor)] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        self.total += time.perf_counter() - self._started.pop(id(cursor), time.perf_counter())

    def __enter__(self) -> StatementClock:
        self.total = 0.0
        sa.event.listen(self.engine, "before_cursor_execute", self._before)
        sa.event.listen(self.engine, "after_cursor_execute", self._after)
        return self

    def __exit__(self, *_exc) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._before)
        sa.event.remove(self.engine, "after_cursor_execute", self._after)


def timed(engine: sa.Engine, action) -> tuple[float, float]:
    """(database ms, wall ms) of `action()`: the median of `REPEAT` runs."""
    db_ms, wall_ms = [], []
    for _ in range(REPEAT):
        with StatementClock(engine) as clock:
            started = time.perf_counter()
            action()
            wall_ms.append((time.perf_counter() - started) * 1000)
        db_ms.append(clock.total * 1000)
    return statistics.median(db_ms), statistics.median(wall_ms)


def old_filter(user_id: int) -> sa.ColumnElement[bool]:
    """The cadre's household filter as it was: the recursive unit subquery inside the OR."""
    roots = sa.select(user_scope.c.unit_id).where(user_scope.c.user_id == user_id)
    tree = sa.select(AdminUnit.id).where(AdminUnit.id.in_(roots)).cte(recursive=True)
    child = aliased(AdminUnit)
    ids = sa.select(tree.union(sa.select(child.id).where(child.parent_id == tree.c.id)).c.id)
    return sa.or_(Household.village_id.in_(ids), Household.commune_id.in_(ids))


def measure(app, token: str, households: int) -> list[dict]:
    with app.app_context():
        engine = db.engine
    client = app.test_client()
    key = f"/key/{token}"
    with app.app_context():
        version = db.session.scalar(
            sa.text(
                "SELECT v.version FROM form_versions v JOIN forms f ON f.id = v.form_pk "
                "WHERE f.form_id = :form ORDER BY v.id DESC LIMIT 1"
            ),
            {"form": VISIT_FORM},
        )
    form = f"{key}/forms/{VISIT_FORM}/versions/{version}"

    def manifest_and_csv():
        assert client.get(f"{form}/manifest", headers=OPENROSA).status_code == 200
        answer = client.get(f"{form}/media/households.csv", headers=OPENROSA)
        assert answer.status_code == 200 and answer.data.count(b"\n") == CADRE_HOUSEHOLDS + 1
        return answer

    def cold():
        with app.app_context():
            db.session.execute(sa.text("DELETE FROM entity_list_cache"))
            db.session.commit()
        manifest_and_csv()

    # The cold figure includes the DELETE: small next to making the list.
    cold_db, cold_wall = timed(engine, cold)
    etag = manifest_and_csv().headers["ETag"]
    warm_db, warm_wall = timed(engine, manifest_and_csv)

    def not_modified():
        answer = client.get(
            f"{form}/media/households.csv", headers={**OPENROSA, "If-None-Match": etag}
        )
        assert answer.status_code == 304

    same_db, same_wall = timed(engine, not_modified)

    def page(limit: int):
        def get():
            answer = client.get(
                f"/api/v1/households?limit={limit}", headers={"Authorization": f"Bearer {token}"}
            )
            assert answer.status_code == 200 and len(answer.get_json()["households"]) == limit

        return get

    page50 = timed(engine, page(50))
    page200 = timed(engine, page(200))

    with app.app_context():
        cadre = users.find("cadre_a")
        old = sa.select(Household.id).where(
            Household.status == HouseholdStatus.ACTIVE, old_filter(cadre.id)
        )
        new = sa.select(Household.id).where(
            Household.status == HouseholdStatus.ACTIVE, scope.households(cadre)
        )

        def run(stmt):
            def go():
                with app.app_context():
                    assert len(db.session.execute(stmt).all()) == CADRE_HOUSEHOLDS

            return go

        old_db, _ = timed(engine, run(old))
        new_db, _ = timed(engine, run(new))

    at = f"{households:,} households, cadre of {CADRE_HOUSEHOLDS}"
    target = "< 50 ms at 1M"
    measured = [
        ("manifest + CSV, made", (cold_db, cold_wall), target),
        ("manifest + CSV, kept", (warm_db, warm_wall), target),
        ("CSV download answered 304", (same_db, same_wall), ""),
        ("/api/v1/households page of 50", page50, target),
        ("/api/v1/households page of 200", page200, target),
    ]
    rows = [
        row(f"scope: {what} ({at})", db_ms, "ms db", goal, f"wall {wall_ms:.1f} ms")
        for what, (db_ms, wall_ms), goal in measured
    ]
    rows.append(row(f"scope: cadre's households, literal ids ({at})", new_db, "ms db", "",
                    "the filter of issue 19"))  # fmt: skip
    rows.append(row(f"scope: cadre's households, recursive subquery in OR ({at})", old_db,
                    "ms db", "", "the filter before (issue 19: 3,800-7,400 ms at 1M)"))  # fmt: skip
    return rows


def row(name: str, measured, unit: str, target: str, reference: str) -> dict:
    return dict(name=name, measured=measured, unit=unit, target=target, reference=reference)


def speed_row() -> list[dict]:
    """The ingest bench's machine-speed row, when its shared kit is here (to compare runs)."""
    try:
        from ingest import machine_speed_us

        measured = machine_speed_us()
    except Exception:  # the shared load kit is not on this machine: no speed row
        return []
    return [row("scope: machine speed (parse + validate one kit submission)", measured,
                "µs CPU", "", "lower is faster; read the figures above through it")]  # fmt: skip


def run(households: int | None = None) -> list[dict]:
    from ingest import postgres_base

    households = households or int(os.environ.get(HOUSEHOLDS_ENV, "100000"))
    base = postgres_base()
    if base is None:
        return [row("scope: skipped (no PostgreSQL)", None, "", "", "")]
    os.environ[database.POSTGRES_ENV] = base
    schema, url = database.make_postgres_schema("giupho_bench_scope")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            world = prepare_database(url, Path(tmp), lambda: _populate(households))
            app = database.build_app(url, tmp)
            try:
                rows = measure(app, world.tokens["cadre_a"], households)
            finally:
                database.dispose_app(app)
    finally:
        database.drop_postgres_schema(schema)
    return speed_row() + rows


def _populate(households: int):
    from tests.integration.live import populate_world

    world = populate_world(publish_shipped_xforms)
    cadre = users.find("cadre_a")
    villages = sorted(u.id for u in cadre.units)
    started = time.perf_counter()
    fill(db.session.connection(), households, villages)
    db.session.commit()
    print(f"  filled {households:,} households in {time.perf_counter() - started:.1f} s",
          file=sys.stderr)  # fmt: skip
    return world


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=None)
    args = parser.parse_args()
    from run import table

    print(table(run(args.households)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
