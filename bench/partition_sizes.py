"""Measure: rows and bytes per household of each table, to choose what to partition.

In process on a fresh PostgreSQL schema (GIUPHO_TEST_POSTGRES_URL) with the test world:
N registrations, then N visits on the current version and N on version 1 again (three-way
merges), as JSON push batches of 100 (`bench/ingest_phases.py`, as `households_step.py`).
Prints, per table, rows and `pg_total_relation_size` (heap, indexes, TOAST) divided by the
households, and the same times 25 million: the sizing in `docs/partitioning.md`.

Run: `.venv/bin/python bench/partition_sizes.py [-n 2000]`.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

import households_step  # noqa: E402
import ingest_phases  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from server.db import db, upgrade_database  # noqa: E402
from server.models import Device, User  # noqa: E402
from tests.integration.contract.drivers import answers_item  # noqa: E402
from tests.integration.contract.submissions import household_id, registration, visit  # noqa: E402
from tests.integration.database import build_app, drop_postgres_schema, make_postgres_schema  # noqa: E402
from tests.integration.live import populate_world, publish_shipped_xforms  # noqa: E402

NATIONAL = 25_000_000

SIZES = """
SELECT c.relname, (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid),
       COALESCE((SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i
                 WHERE i.inhparent = c.oid), 0) + pg_total_relation_size(c.oid)
FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
  AND NOT c.relispartition
"""


def fill(n: int, rng: random.Random) -> None:
    user = db.session.query(User).filter_by(username="cadre_a").one()
    device = db.session.query(Device).filter_by(user_id=user.id, revoked_at=None).first()
    regs = [registration(**p) for p in households_step.people(n, rng)]
    ids = [household_id(r) for r in regs]
    current = [visit(h, base_version=1, visited__hh_size=str(rng.randint(1, 9))) for h in ids]
    stale = [visit(h, base_version=1, visited__hh_size=str(rng.randint(10, 19))) for h in ids]
    for roots in (regs, current, stale):
        items = [answers_item(r) for r in roots]
        ingest_phases.measure(items, user=user, device=device, per_transaction=100, grouped=True)


def report(n_households: int) -> None:
    db.session.execute(sa.text("ANALYZE"))
    rows = []
    for name, parts, size in db.session.execute(sa.text(SIZES)):
        count = db.session.scalar(sa.text(f'SELECT count(*) FROM "{name}"'))
        rows.append((size, name, parts, count))
    print(f"{n_households} households (1 registration + 2 visits each)")
    print(f"{'table':<28}{'parts':>6}{'rows/hh':>9}{'bytes/hh':>10}{'GiB at 25M':>12}")
    for size, name, parts, count in sorted(rows, reverse=True)[:16]:
        per = size / n_households
        print(
            f"{name:<28}{parts:>6}{count / n_households:>9.2f}{per:>10.0f}"
            f"{per * NATIONAL / 2**30:>12.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000)
    args = parser.parse_args()
    schema, url = make_postgres_schema("giupho_sizes")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = build_app(url, tmp)
            with app.app_context():
                upgrade_database()
                populate_world(publish_shipped_xforms)
                db.session.commit()
                fill(args.n, random.Random(7))
                db.session.commit()
                report(args.n)
                db.session.remove()
                db.engine.dispose()
    finally:
        drop_postgres_schema(schema)


if __name__ == "__main__":
    main()
