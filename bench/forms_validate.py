"""Benchmark: submissions validated per second, on one core.

For the household visit form shipped in `forms/library/` (when present) and
the benchmark kit's `household_visit.xml`, generates realistic instances with
the kit's form-driven generator (`xform_instances.py`, standard library only),
then measures each step the server takes for a submission:

- parse: `parse_submission` (safe lxml parse into a `Node` tree), what each
  OpenRosa POST costs before anything else;
- validate (+ calculates): `validate` on a freshly parsed tree (the target:
  validation + computation of a parsed submission);
- parse + validate: both, what the server does for each OpenRosa POST;
- compute: `compute` alone (copy + calculates), what a merge re-derivation costs;
- JSON in: `answers_to_node` (the tree of a JSON sync submission), JSON out:
  `to_answers` (the answers the server stores), and `answers_hash` (rule R2).

The "one core" figure is CPU time: every rate is items per second of this
process's CPU time (`time.process_time`), printed with the CPU microseconds
per submission, so it measures one core even when other work shares the
machine. The best of several passes is kept. Trees are parsed afresh (and
untimed) before each pass, so no pass profits from work an earlier pass left
in a tree (the child-name index of `forms.tree.Node`).

The first line is a machine-speed row: CPU microseconds of a fixed piece of
pure-Python work that touches no project code (`reference_work`), so that two
runs on this shared machine, whose speed drifts by up to half from one hour to
the next, compare through it even when the code under test changed. (The
ingest bench's machine-speed row validates a kit submission, which a change to
`forms/` also moves; the kit form's "parse + validate" row below is that row.)

Run: `python bench/forms_validate.py [-n 400] [--kit DIR] [--seconds 2]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import statistics
import sys
import time
import uuid
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from forms.canonical import answers_hash  # noqa: E402
from forms.instance import answers_to_node, parse_submission, to_answers, to_xml  # noqa: E402
from forms.load import load_form  # noqa: E402
from forms.poverty import load_standards  # noqa: E402
from forms.poverty import media as poverty_media  # noqa: E402
from forms.validation import FormValidator, compute, validate  # noqa: E402
from tests.shared import BENCH_KIT  # noqa: E402

KIT = BENCH_KIT  # the ODK Central load kit, from the shared material (GIUPHO_SHARED)


def load_kit(kit: Path):
    """Import the kit's generator module from its file (it is not a package)."""
    spec = importlib.util.spec_from_file_location("xform_instances", kit / "xform_instances.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_forms(kit: Path) -> list[tuple[str, Path]]:
    """(label, path) of each form to measure: the shipped visit form first, then the kit's."""
    forms = []
    library = ROOT / "forms" / "library"
    shipped = sorted(p for p in library.glob("*visit*") if p.suffix in (".xlsx", ".xml", ".md"))
    if shipped:
        forms.append(("shipped " + shipped[0].name, shipped[0]))
    forms.append(("kit household_visit.xml", kit / "household_visit.xml"))
    return forms


def instances(kit_module, form_path: Path, form, n: int) -> list[bytes]:
    """`n` generated submissions as XML bytes (seeded, so runs are comparable)."""
    xform = form.xform if form_path.suffix != ".xml" else form_path.read_bytes()
    generator = kit_module.InstanceGenerator(kit_module.FormModel(xform), seed=1)
    rnd = random.Random(1)
    return [complete(form, generator.document()[1].encode("utf-8"), rnd) for _ in range(n)]


def complete(form, xml: bytes, rnd: random.Random) -> bytes:
    """Fill in what only a tablet knows: a household picked from its entity list, and
    the entity's id and version. The kit leaves these blank, which is not a realistic load."""
    root = parse_submission(xml).root
    for f in form.questions():
        node = root.find(f.path.split("/", 2)[2]) if f.path.count("/") > 1 else None
        if node is not None and not node.text and f.choices is not None and f.choices.external:
            node.text = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    for entity in form.entities:
        node = root.find(entity.path.split("/", 2)[2])
        if node is not None:
            node.attrs["baseVersion"] = str(rnd.randint(1, 9))
    return to_xml(compute(form, root))


def rate(fn, items, seconds: float) -> float:
    """Best of several passes over `items`, in items per CPU second.

    `items` is a list, or a function making the list for each pass (untimed),
    for steps that must start from fresh inputs.
    """
    best = 0.0
    deadline = time.process_time() + seconds
    while True:
        batch = items() if callable(items) else items
        started = time.process_time()
        for item in batch:
            fn(item)
        elapsed = time.process_time() - started
        best = max(best, len(batch) / elapsed)
        if time.process_time() > deadline:
            return best


def measure(form, docs: list[bytes], seconds: float) -> dict[str, float]:
    """Submissions per CPU second of each step (see the module docstring), by step name."""
    now = datetime.now()
    roots = [parse_submission(d).root for d in docs]
    answers = [to_answers(r, form) for r in roots]
    name = form.root_name

    def fresh() -> list:
        return [parse_submission(d).root for d in docs]

    return {
        "parse": rate(parse_submission, docs, seconds),
        "validate": rate(lambda r: validate(form, r, now=now), fresh, seconds),
        "parse + validate": rate(
            lambda d: validate(form, parse_submission(d).root, now=now), docs, seconds
        ),
        "compute": rate(lambda r: compute(form, r, now=now), fresh, seconds),
        "answers_to_node": rate(lambda a: answers_to_node(a, name, form=form), answers, seconds),
        "to_answers": rate(lambda r: to_answers(r, form), roots, seconds),
        "answers_hash": rate(answers_hash, roots, seconds),
    }


LABELS = {
    "parse": "parse (XML -> tree)",
    "validate": "validate (+ calculates)",
    "parse + validate": "parse + validate",
    "compute": "compute (copy + calcs)",
    "answers_to_node": "JSON in (answers_to_node)",
    "to_answers": "JSON out (to_answers)",
    "answers_hash": "answers_hash (R2)",
}


def run_form(label: str, path: Path, kit_module, n: int, seconds: float) -> None:
    form = load_form(path)
    # The poverty lines the server attaches to a form that reads them (as ingest evaluates it).
    poverty_media.attach(form, load_standards())
    started = time.process_time()
    FormValidator(form)
    prepare_ms = (time.process_time() - started) * 1000
    docs = instances(kit_module, path, form, n)
    now = datetime.now()
    issues = Counter(
        i.code for d in docs for i in validate(form, parse_submission(d).root, now=now).issues
    )
    rates = measure(form, docs, seconds)
    size = statistics.mean(len(d) for d in docs)
    print(f"{label}: {len(form.questions())} fields, {n} instances of {size:.0f} bytes")
    print(f"  prepare validator           {prepare_ms:8.1f} ms (once per form)")
    for key, per_second in rates.items():
        cpu_us = 1e6 / per_second
        print(f"  {LABELS[key]:<27} {per_second:8.0f} submissions/s  {cpu_us:7.1f} µs CPU each")
    print(f"  issues found: {dict(issues) or 'none'}")


def reference_work() -> int:
    """Fixed interpreter work, like validation's (dict look-ups, strings, small loops),
    using nothing of the project: its time tracks the machine, not the code."""
    counts: dict[str, int] = {}
    for i in range(2_000):
        key = f"q{i % 97}"
        counts[key] = counts.get(key, 0) + len(key.strip()) * i
    return sum(value for _key, value in sorted(counts.items()))


def machine_speed_us(seconds: float = 1.0) -> float:
    """CPU microseconds per `reference_work` (the best of several passes)."""
    return 1e6 / rate(lambda _: reference_work(), range(50), seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=400, help="instances per form")
    parser.add_argument("--kit", type=Path, default=KIT, help="the openrosa-load kit folder")
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    kit_module = load_kit(args.kit)
    speed = machine_speed_us()
    print(f"machine speed: fixed pure-Python work {speed:8.1f} µs CPU (lower is faster)")
    for label, path in bench_forms(args.kit):
        run_form(label, path, kit_module, args.n, args.seconds)


if __name__ == "__main__":
    main()
