"""Benchmark: the household rebuild (H8) on PostgreSQL, in one process and by job workers.

Fills a fresh schema with N households (default 5,000) through the real ingest path (JSON
push batches of 100, in process): registrations split between two communes, and a visit
for every second household (so histories hold one or two submissions, as a year of work
does). Then:

* one process (`rebuild_commune` for each commune, as `giupho households rebuild --here`):
  CPU milliseconds per household of this process (the database's own CPU apart), and wall;
* `rebuild_all(workers=2)`: `giupho worker --concurrency 2` processes take one job per
  commune from the queue (Procrastinate), as `giupho households rebuild` asks them; wall time.

`rebuild_all(workers)` is the hook `bench/scale.py` calls at 1M households (in an app
context of the database to rebuild). Run: `.venv/bin/python bench/rebuild.py [-n 5000]
[--profile]` (GIUPHO_TEST_POSTGRES_URL names the server; a schema is made and dropped).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from flask import current_app  # noqa: E402

from server.db import db, upgrade_database  # noqa: E402
from server.models import Device, User  # noqa: E402
from server.runtime import tune_gc  # noqa: E402
from server.services import transactional  # noqa: E402
from server.services.households import rebuild as household_rebuild  # noqa: E402
from server.services.receiving import batch as ingest_batch  # noqa: E402
from tests.integration.contract.drivers import answers_item  # noqa: E402
from tests.integration.contract.submissions import household_id, registration, visit  # noqa: E402
from tests.integration.database import (  # noqa: E402
    build_app,
    drop_postgres_schema,
    make_postgres_schema,
)
from tests.integration.live import populate_world, publish_shipped_xforms  # noqa: E402

#: Target (issue 19): 1M households in under 15 minutes on 2 cores.
TARGET_MS = 1.5
FAMILY = ["Lò", "Quàng", "Cà", "Lường", "Vì", "Điêu", "Tòng", "Hoàng", "Nguyễn", "Trần"]
GIVEN = ["Minh", "Thắng", "Hoa", "Sim", "Pọm", "Ún", "Xuân", "Bình", "Hùng", "Lan"]


def fill(n: int, rng: random.Random) -> None:
    """N households through ingest: half by cadre_a (commune 03325), half by cadre_b
    (03316), and a visit for every second one."""
    for username, villages in (("cadre_a", ["03325_01", "03325_02"]), ("cadre_b", ["03316_01"])):
        user = db.session.query(User).filter_by(username=username).one()
        device = db.session.query(Device).filter_by(user_id=user.id, revoked_at=None).first()
        roots = []
        for i in range(n // 2):
            name = f"{rng.choice(FAMILY)} Văn {rng.choice(GIVEN)} {i}"
            phone = f"09{rng.randint(10**7, 10**8 - 1)}"
            roots.append(registration(head_name=name, village=rng.choice(villages),
                                      head__phone=phone))  # fmt: skip
        visits = [visit(household_id(r), base_version=1, visited__hh_size=str(rng.randint(1, 9)))
                  for r in roots[::2]]  # fmt: skip
        items = [answers_item(r) for r in roots + visits]
        for start in range(0, len(items), 100):
            transactional(ingest_batch.receive_batch)(
                items[start : start + 100], user=user, device=device
            )


def backend_cpu_s(pid: int) -> float | None:
    """CPU seconds a PostgreSQL backend used (from /proc: the server runs on this machine);
    None when it cannot be read (another machine, another user)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rebuild_here(profile: bool = False) -> dict:
    """Rebuild every commune in this process; CPU ms per household of this process and of
    its PostgreSQL backend (the two costs a rebuild puts on the machine's cores: with both,
    the time on N free cores is (process + backend) / N, whatever else runs beside it)."""
    todo = household_rebuild.begin(restart=True)
    tune_gc()  # as `giupho worker` does
    pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
    db.session.commit()  # the same pooled connection serves the batches after it
    profiler = cProfile.Profile() if profile else None
    backend = backend_cpu_s(pid)
    wall, cpu = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    found = sum(len(household_rebuild.rebuild_commune(key)) for key in todo)
    if profiler:
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(30)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    after = backend_cpu_s(pid)
    done = household_rebuild.progress()
    db.session.rollback()
    n = max(done.households, 1)
    db_ms = (after - backend) * 1000 / n if backend is not None and after is not None else None
    return {"households": done.households, "differences": found, "wall_s": wall,
            "cpu_ms_per_household": cpu * 1000 / n, "db_cpu_ms_per_household": db_ms}  # fmt: skip


def _worker_env() -> dict[str, str]:
    config = current_app.config
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIUPHO_")}
    env.update(GIUPHO_DATABASE_URL=config["SQLALCHEMY_DATABASE_URI"],
               GIUPHO_SECRET_KEY=config["SECRET_KEY"], GIUPHO_JOBS="procrastinate",
               GIUPHO_JOBS_POLL_S="0.5", PYTHONPATH=str(HERE.parent))  # fmt: skip
    return env


def rebuild_all(workers: int, *, batch_size: int = household_rebuild.BATCH) -> dict:
    """Rebuild every household with `workers` job-worker processes (one job per commune,
    Procrastinate's queue; 0 rebuilds in this process). Call in an app context of the
    database; returns households, differences, communes and wall seconds."""
    if workers <= 0:
        return rebuild_here()
    from server import jobs

    current_app.config["JOBS"] = "procrastinate"
    jobs.init_app(current_app)
    command = [sys.executable, "-c", "from server.cli import main; main()", "worker",
               "--concurrency", str(workers)]  # fmt: skip
    children_cpu = _children_cpu()
    process = subprocess.Popen(command, env=_worker_env())
    try:
        wall = time.perf_counter()
        todo = household_rebuild.begin(restart=True)
        for key in todo:
            jobs.defer("households.rebuild_commune", commune_key=key, batch_size=batch_size)
        while True:
            done = household_rebuild.progress()
            db.session.rollback()
            if done.finished >= done.communes:
                break
            if process.poll() is not None:
                raise RuntimeError(f"giupho worker stopped ({process.returncode})")
            time.sleep(0.2)
        wall = time.perf_counter() - wall
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    workers_cpu = _children_cpu() - children_cpu  # start-up (imports, app) included
    per_household = workers_cpu * 1000 / max(done.households, 1)
    return {"households": done.households, "differences": done.differences,
            "communes": done.communes, "wall_s": wall,
            "workers_cpu_ms_per_household": per_household}  # fmt: skip


def _children_cpu() -> float:
    """CPU seconds of the finished child processes (the worker and the processes it ran)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(n: int, profile: bool = False) -> tuple[dict, dict]:
    schema, url = make_postgres_schema("giupho_bench_rebuild")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = build_app(url, tmp, JOBS="inprocess")
            with app.app_context():
                upgrade_database()
                populate_world(publish_shipped_xforms)
                fill(n, random.Random(19))
                here = min((rebuild_here(profile) for _ in range(2)),
                           key=lambda r: r["cpu_ms_per_household"])  # fmt: skip
                parallel = rebuild_all(2)
                db.session.remove()
                db.engine.dispose()
    finally:
        drop_postgres_schema(schema)
    return here, parallel


def run(n: int = 5000) -> list[dict]:
    """The rows of `make bench`."""
    if not os.environ.get("GIUPHO_TEST_POSTGRES_URL"):
        reason = "GIUPHO_TEST_POSTGRES_URL is not set"
        return [{"name": "household rebuild: skipped", "measured": None, "unit": "",
                 "target": "", "reference": reason}]  # fmt: skip
    here, parallel = measure(n)
    assert here["differences"] == 0 == parallel["differences"], (here, parallel)
    db_ms = here["db_cpu_ms_per_household"]
    cores_min = "? (backend not readable)"
    if db_ms is not None:
        cores_min = f"{(here['cpu_ms_per_household'] + db_ms) * 1e6 / 2 / 60_000:.1f} min"
    per_million_min = parallel["wall_s"] / parallel["households"] * 1_000_000 / 60
    cpu_million_min = parallel["workers_cpu_ms_per_household"] * 1_000_000 / 2 / 60_000
    return [
        {"name": f"household rebuild, one process ({here['households']:,} households, PG)",
         "measured": here["cpu_ms_per_household"], "unit": "CPU ms/household",
         "target": f"≤ {TARGET_MS}", "reference": "4–8 before issue 19"},
        {"name": "household rebuild, one process: its PostgreSQL backend's CPU",
         "measured": here["db_cpu_ms_per_household"], "unit": "CPU ms/household",
         "target": "", "reference": f"with the row above: 1M on 2 free cores ≈ {cores_min}"},
        {"name": f"household rebuild, 2 workers by commune ({parallel['households']:,})",
         "measured": parallel["wall_s"], "unit": "s wall",
         "target": "1M < 15 min",
         "reference": f"≈ {per_million_min:.0f} min per 1M at this rate, on a shared machine"},
        {"name": "household rebuild, 2 workers: their CPU per household",
         "measured": parallel["workers_cpu_ms_per_household"], "unit": "CPU ms/household",
         "target": "", "reference": f"start-up included; 1M on 2 free cores ≈ "
                                    f"{cpu_million_min:.0f} min of worker CPU"},
        *_speed_row(),
    ]  # fmt: skip


def _speed_row() -> list[dict]:
    """The machine-speed row of bench/ingest.py, to read the CPU figures through."""
    try:
        from ingest import machine_speed_us

        speed = machine_speed_us()
    except Exception as exc:  # the kit form lives in ../shared: without it, no row
        print(f"machine speed not measured: {exc}", file=sys.stderr)
        return []
    return [
        {
            "name": "machine speed: parse + validate one kit submission",
            "measured": speed,
            "unit": "µs",
            "target": "",
            "reference": "CPU; the rebuild's CPU moves with it",
        }
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000)
    parser.add_argument("--profile", action="store_true", help="cProfile of the one-process run")
    args = parser.parse_args()
    here, parallel = measure(args.n, args.profile)
    print(f"one process: {here}")
    print(f"2 workers:   {parallel}")
    for row in _speed_row():
        print(f"{row['name']}: {row['measured']:.0f} µs")


if __name__ == "__main__":
    main()
