"""`bench/scale.py` end to end on a small province, so the 1M benchmark cannot rot.

2,000 households copied from 20 templates sent through the JSON API: the copies must be
households the app itself accepts as its own (the rebuild from their submissions finds
no difference), the measured cadre's village holds 500 of them and every row is filled.
"""

from __future__ import annotations

import os
import re

import pytest
import sqlalchemy as sa

from bench import scale
from tests.integration import database


@pytest.fixture
def postgres():
    database._postgres_url_or_skip()


def _bench_schemas() -> set[str]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    engine = sa.create_engine(os.environ[database.POSTGRES_ENV])
    with engine.connect() as conn:
        names = conn.execute(
            sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
            {"p": f"giupho_scale_{worker}_%"},
        ).scalars()
        found = {n for n in names if not n.endswith("_snapshots")}
    engine.dispose()
    return found


def test_the_scale_bench_loads_a_province_the_app_serves_and_measures_every_figure(postgres):
    before = _bench_schemas()
    rows = {r["name"]: r for r in scale.run(2000, templates=20, ingest_n=100, keep=True)}
    (kept,) = _bench_schemas() - before
    try:
        # Load once, measure again (--schema): nothing is loaded, every figure is there.
        again = {r["name"]: r for r in scale.run(schema=kept, ingest_n=20, skip_rebuild=True)}
    finally:
        database.drop_postgres_schema(kept)
    assert not any(name.startswith("scale: load") for name in again)
    assert again.keys() == rows.keys() - {
        "scale: load 2,000 households (COPY)",
        "scale: giupho households rebuild, 2,000 households",
    }
    assert (
        "500 households in the CSV"
        in again["scale: manifest + households CSV of the form listing them, 500-household cadre"][
            "reference"
        ]
    )

    loaded = rows["scale: load 2,000 households (COPY)"]
    assert "4,000 submissions" in loaded["reference"]
    fetched = rows["scale: manifest + households CSV of the form listing them, 500-household cadre"]
    assert "500 households in the CSV" in fetched["reference"]
    refresh = rows["scale: a whole Collect refresh: formList + every form's manifest and media"]
    assert refresh["measured"] >= fetched["measured"] > 0
    rebuilt = rows["scale: giupho households rebuild, 2,000 households"]
    assert "0 differences" in rebuilt["reference"], rebuilt
    assert "2,000 households done" in rebuilt["reference"], rebuilt
    assert "PostgreSQL's" in rebuilt["reference"], rebuilt
    # Where the job processes' wall time went (Linux's scheduler counts): on a core or not.
    # Only the two spawned workers: the parent and multiprocessing's resource tracker sleep.
    spent = re.search(r"2 job processes: (\d+) s running, \d+ s waiting for a core, \d+ s "
                      r"blocked", rebuilt["reference"])  # fmt: skip
    assert spent and int(spent[1]) > 0, rebuilt
    recheck = rows["scale: giupho duplicates recheck --since 24 (a day's registrations)"]
    assert "finished" in recheck["reference"], recheck
    # Without ODK Central's load kit (the shared material) there is no ingest to measure.
    no_kit = {"scale: OpenRosa ingest", "machine speed: parse + validate one kit submission"}
    missing = {name for name, r in rows.items() if r["measured"] is None}
    assert not missing or missing == no_kit, missing
