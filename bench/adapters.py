"""Table rows for the benchmarks that only print (`xpath_micro.py`, `forms_validate.py`).

Those two scripts predate the `run() -> list[dict]` convention of `bench/run.py`.
Rather than parse their printed output, these adapters call the same building
blocks the scripts use (their instance builders, case lists and timers), so
the figures in the table are measured exactly as the scripts measure them.
`bench/run.py` prefers a module's own `run()` if one is ever added.
"""

from __future__ import annotations

import statistics
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import forms_validate  # noqa: E402
import xpath_micro  # noqa: E402

from forms.load import load_form  # noqa: E402
from forms.xpath import Env, parse  # noqa: E402
from forms.xpath.dates import VN_TZ  # noqa: E402

#: JSON ingest must reach 2,000 visits/s with 4 workers on 2 cores, so one core must
#: validate well above 1,000/s to leave time for the database.
VALIDATE_TARGET = "≥ 3,000 /s/core"


def row(name: str, measured: float | None, unit: str, target: str = "", reference: str = ""):
    """One line of the benchmark table."""
    return {
        "name": name,
        "measured": measured,
        "unit": unit,
        "target": target,
        "reference": reference,
    }


def xpath_rows(repeat: int = 5_000) -> list[dict]:
    """Mean µs per evaluation of typical bind expressions, and all binds of one visit."""
    root = xpath_micro.household_instance()
    env = Env(
        root=root,
        instances={"prov": xpath_micro.provinces()},
        now=datetime(2024, 3, 20, 9, 0, tzinfo=VN_TZ),
    )
    timings = []
    for source, context_path in xpath_micro.CASES:
        expr = parse(source)
        node = root.find(context_path.removeprefix("/data")) if context_path != "/data" else root
        expr.eval_boolean(node, env)
        timings.append(xpath_micro._best(lambda e=expr, n=node: e.eval_boolean(n, env), repeat))
    binds = xpath_micro.form_binds(root)

    def one_submission() -> None:
        for expr, node in binds:
            expr.eval_boolean(node, env)

    per_visit = xpath_micro._best(one_submission, max(repeat // 20, 200))
    return [
        row("XPath: one bind expression (mean of 13)", statistics.mean(timings), "µs"),
        row(f"XPath: all {len(binds)} binds of one visit", per_visit, "µs"),
    ]


def validate_rows(n: int = 200, seconds: float = 1.0) -> list[dict]:
    """Submissions per CPU second (one core) of each forms step, for each benchmark form.

    Measured by `forms_validate.measure`: CPU time (`time.process_time`), best
    of several passes, validation on freshly parsed trees.
    """
    kit_module = forms_validate.load_kit(forms_validate.KIT)
    rows = []
    for label, path in forms_validate.bench_forms(forms_validate.KIT):
        form = load_form(path)
        docs = forms_validate.instances(kit_module, path, form, n)
        rates = forms_validate.measure(form, docs, seconds)
        # The target (issue: forms engine) is validation + computation of a parsed submission.
        rows.append(row(f"validate + compute ({label})", rates["validate"], "/s", VALIDATE_TARGET))
        rows.append(row(f"parse + validate ({label})", rates["parse + validate"], "/s"))
        rows.append(row(f"recompute calculates ({label})", rates["compute"], "/s"))
        rows.append(row(f"parse submission XML ({label})", rates["parse"], "/s"))
        rows.append(row(f"JSON answers -> tree ({label})", rates["answers_to_node"], "/s"))
        rows.append(row(f"tree -> JSON answers ({label})", rates["to_answers"], "/s"))
        rows.append(row(f"canonical answers hash ({label})", rates["answers_hash"], "/s"))
    return rows


ADAPTERS = {"xpath_micro": xpath_rows, "forms_validate": validate_rows}
