"""Benchmark: the household step of ingest (create, visit on current, visit on an old version).

In process (no HTTP), on a fresh SQLite or PostgreSQL database with the test world, through
`bench/ingest_phases.py`: N registrations, then N visits on the current version (the
fast path, with the D4 check), then N visits on version 1 again (each one a three-way merge),
as JSON push batches of 100 (`--single`: one submission per transaction, as OpenRosa sends
them). Prints CPU milliseconds per submission of the household step and of the whole ingest.

Run: `.venv/bin/python bench/households_step.py [-n 500] [--postgres] [--single] [--phases]
[--profile STEP]` (`--postgres` uses GIUPHO_TEST_POSTGRES_URL). The machine is shared: take
the best of several runs. In batch mode the household column is `apply_many`, merges
included (they run inside it).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

import ingest_phases  # noqa: E402

from server.db import db, upgrade_database  # noqa: E402
from server.models import Device, User  # noqa: E402
from tests.integration.contract.drivers import answers_item  # noqa: E402
from tests.integration.contract.submissions import household_id, registration, visit  # noqa: E402
from tests.integration.database import (  # noqa: E402
    build_app,
    drop_postgres_schema,
    make_postgres_schema,
)
from tests.integration.live import populate_world, publish_shipped_xforms  # noqa: E402

FAMILY = ["Lò", "Quàng", "Cà", "Lường", "Vì", "Điêu", "Tòng", "Hoàng", "Nguyễn", "Trần"]
MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thanh"]
GIVEN = ["Minh", "Thắng", "Hoa", "Sim", "Pọm", "Ún", "Xuân", "Bình", "Hùng", "Lan", "Tâm",
         "Phương", "Dũng", "Hải", "Long", "Nam", "Sơn", "Tú", "Yến", "Khánh"]  # fmt: skip


def people(n: int, rng: random.Random) -> list[dict]:
    return [
        {
            "head_name": f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "head__head_birth_year": str(rng.randint(1950, 2000)),
            "head__phone": f"09{rng.randint(10**7, 10**8 - 1)}",
            "village": rng.choice(["03325_01", "03325_02"]),
        }
        for _ in range(n)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="on GIUPHO_TEST_POSTGRES_URL (a schema made and dropped)",
    )
    parser.add_argument("--profile", help="print a cProfile of this step (registration...)")
    parser.add_argument("--phases", action="store_true", help="print every phase's CPU ms")
    parser.add_argument("--single", action="store_true", help="one submission per transaction")
    args = parser.parse_args()
    rng = random.Random(7)
    schema = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            schema, url = make_postgres_schema("giupho_bench")
        else:
            url = f"sqlite:///{tmp}/bench.sqlite3"
        app = build_app(url, tmp)
        try:
            with app.app_context():
                upgrade_database()
                populate_world(publish_shipped_xforms)
                db.session.commit()
                run(args, rng)
        finally:
            if schema is not None:
                drop_postgres_schema(schema)


def run(args, rng: random.Random) -> None:
    user = db.session.query(User).filter_by(username="cadre_a").one()
    device = db.session.query(Device).filter_by(user_id=user.id, revoked_at=None).first()
    regs = [registration(**p) for p in people(args.n, rng)]
    ids = [household_id(r) for r in regs]
    current = [visit(h, base_version=1, visited__hh_size=str(rng.randint(1, 9))) for h in ids]
    stale = [visit(h, base_version=1, visited__hh_size=str(rng.randint(10, 19))) for h in ids]
    size = 1 if args.single else 100
    if not args.single:  # `apply` runs inside `apply_many`: count its time once
        ingest_phases.PHASES = tuple(
            p for p in ingest_phases.PHASES if p[1] not in ("apply", "replace_edit")
        )
    print(f"{args.n} each, {'1' if args.single else '100'} per transaction")
    print(f"{'step':<24}{'results':<28}{'household ms':>14}{'ingest ms':>12}{'per s':>9}")
    for name, roots in (("registration", regs), ("visit, current", current),
                        ("visit, old version", stale)):  # fmt: skip
        items = [answers_item(r) for r in roots]
        gc.collect()  # what earlier steps left is not collected in this one
        profile = cProfile.Profile() if args.profile and name.startswith(args.profile) else None
        if profile is not None:
            profile.enable()
        timing = ingest_phases.measure(
            items, user=user, device=device, per_transaction=size, grouped=not args.single
        )
        if profile is not None:
            profile.disable()
            pstats.Stats(profile).sort_stats("cumulative").print_stats(45)
        household = timing.phases_ms.get("household", 0.0)
        total = timing.cpu_seconds * 1000 / timing.count
        results = ",".join(f"{k}={v}" for k, v in sorted(timing.results.items()))
        print(f"{name:<24}{results:<28}{household:>14.3f}{total:>12.3f}{1000 / total:>9.0f}")
        if args.phases:
            print("    " + ", ".join(f"{k} {v:.3f}" for k, v in timing.phases_ms.items()))


if __name__ == "__main__":
    main()
