"""`make bench`: run every benchmark and print one table (also written to bench/results/latest.md).

Each benchmark module in bench/ exposes `run() -> list[dict]`, one dict per
table row with the keys name, measured, unit, target and reference, and can
also run on its own (`python bench/ingest.py`). The modules that only print
(`xpath_micro.py`, `forms_validate.py`) are measured through `bench/adapters.py`.

A benchmark that fails shows as a FAILED row; the others still run, and the
exit status is 1 so a CI job notices.

Run: `.venv/bin/python bench/run.py [--only ingest,forms_validate]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import os
import platform
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

#: In table order: cheap micro-benchmarks first, the server benchmarks last.
BENCHES = (
    "xpath_micro",
    "forms_validate",
    "monitoring",
    "ingest",
    "dedup",
    "web",
    "dashboard",
    "sync_client",
    "exports",
    "rebuild",
    "scope",
)
RESULTS = HERE / "results" / "latest.md"
COLUMNS = ("name", "measured", "unit", "target", "reference")


def rows_of(name: str) -> list[dict]:
    """The rows of one benchmark: its `run()`, or its adapter for print-only scripts."""
    module = importlib.import_module(name)
    run = getattr(module, "run", None)
    if run is None:
        from adapters import ADAPTERS

        run = ADAPTERS[name]
    return run()


def collect(names: list[str]) -> tuple[list[dict], bool]:
    """Every row of `names`, with a FAILED row for a benchmark that raised; and whether all ran."""
    rows, ok = [], True
    for name in names:
        started = time.monotonic()
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            rows += rows_of(name)
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            ok = False
            traceback.print_exc()
            reason = f"{type(exc).__name__}: {exc}"[:200]
            failed = {"name": f"{name}: FAILED", "measured": None, "reference": reason}
            rows.append({"unit": "", "target": ""} | failed)
        print(f"  {name} took {time.monotonic() - started:.1f} s", file=sys.stderr, flush=True)
    return rows, ok


def fmt(value) -> str:
    """A measured figure with sensible precision (thousands separated)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(rows: list[dict]) -> str:
    """The rows as one Markdown table (readable as plain text too)."""
    cells = [[r["name"], fmt(r["measured"]), r["unit"], r["target"], r["reference"]] for r in rows]
    widths = [max(len(c[i]) for c in [list(COLUMNS), *cells]) for i in range(len(COLUMNS))]
    right = {1}  # numbers align right

    def line(values):
        parts = [
            v.rjust(w) if i in right else v.ljust(w)
            for i, (v, w) in enumerate(zip(values, widths, strict=True))
        ]
        return "| " + " | ".join(parts) + " |"

    rule = (
        "|"
        + "|".join("-" * (w + 1) + (":" if i in right else "-") for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([line(COLUMNS), rule, *map(line, cells)])


def machine() -> str:
    """Where the figures were measured: CPU count, Python, commit."""
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=HERE.parent,
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            ).stdout.strip()
            or "uncommitted"
        )
    except OSError:
        commit = "unknown"
    return (f"{os.cpu_count()} CPU, {platform.machine()}, Python {platform.python_version()}, "
            f"commit {commit}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated benchmark names (default: all)")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHES)
    rows, ok = collect(names)
    text = table(rows)
    print(text)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        f"# Benchmarks: latest run\n\n{stamp}; {machine()}.\n\n{text}\n", encoding="utf-8"
    )
    print(f"\nwritten to {RESULTS.relative_to(HERE.parent)}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
