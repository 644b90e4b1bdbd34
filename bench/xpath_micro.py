"""Micro-benchmark of forms.xpath: microseconds per evaluation of typical bind expressions.

Run: .venv/bin/python bench/xpath_micro.py [--repeat N]

The instance imitates a household visit: about 60 answers in groups plus a
members repeat. Each expression is parsed once and evaluated many times, as
the validator does for every submission.
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime

from forms.tree import Node
from forms.xpath import Env, Expr, parse
from forms.xpath.dates import VN_TZ
from forms.xpath.parser import parse_ast


def household_instance() -> Node:
    root = Node("data")
    root.append(Node("a", "yes"))
    root.append(Node("b", "7"))
    hh = root.append(Node("household"))
    for i in range(20):
        hh.append(Node(f"q{i}", str(i)))
    hh.append(Node("phone", "0912345678"))
    hh.append(Node("visit_date", "2024-03-15"))
    housing = root.append(Node("housing"))
    for i in range(20):
        housing.append(Node(f"h{i}", "no" if i % 3 else "yes"))
    for m in range(5):
        member = root.append(Node("members"))
        member.append(Node("name", f"Nguyễn Văn {m}"))
        member.append(Node("age", str(20 + m * 7)))
        member.append(Node("insured", "yes" if m % 2 else "no"))
    meta = root.append(Node("meta"))
    meta.append(Node("instanceID", "uuid:0b5e6a0e-3c1f-4e39-9d7a-1f2a3b4c5d6e"))
    return root


CASES = [
    # (expression, context path: the node the bind belongs to)
    ("/data/a = 'yes' and /data/b > 3", "/data/b"),
    (". >= 1 and . <= 20", "/data/household/q7"),
    ("regex(., '^[0-9]{10}$')", "/data/household/phone"),
    ("selected(/data/housing/h3, 'yes')", "/data/housing/h3"),
    (" /data/household/q3  != ''", "/data/household/q3"),
    ("count(/data/members)", "/data"),
    ("sum(/data/members/age)", "/data"),
    ("../age >= 16 and ../insured = 'no'", "/data/members/name"),
    ("if(/data/b > 5, 'big', 'small')", "/data"),
    ("concat(/data/household/q1, '-', /data/household/q2)", "/data"),
    (". <= today()", "/data/household/visit_date"),
    ("count(/data/members[age >= 18])", "/data"),
    ("instance('prov')/root/item[name = /data/a]/label", "/data"),
]


def provinces() -> Node:
    root = Node("root")
    for code, label in [("no", "Không"), ("yes", "Có"), ("hn", "Hà Nội")]:
        item = root.append(Node("item"))
        item.append(Node("name", code))
        item.append(Node("label", label))
    return root


def form_binds(root: Node) -> list[tuple[object, Node]]:
    """About 60 bind expressions of a household visit, each with the node it is evaluated at."""
    household = root.child("household")
    housing = root.child("housing")
    binds = [(parse("/data/a = 'yes'"), root.child("b"))]
    for q in household.children[:20]:
        binds.append((parse(". >= 0 and . <= 20"), q))  # constraint
        binds.append((parse(" /data/a  = 'yes'"), q))  # relevant, as pyxform spaces it
    binds.append((parse("regex(., '^0[0-9]{9}$')"), household.child("phone")))
    binds.append((parse(". <= today()"), household.child("visit_date")))
    for h in housing.children[:10]:
        binds.append((parse("selected(../h0, 'yes') or . != ''"), h))
    for member in root.children_named("members"):
        age = member.child("age")
        binds.append((parse(". >= 0 and . <= 120"), age))
        binds.append((parse("../age >= 6 and ../insured = 'no'"), member.child("insured")))
    binds.append((parse("count(/data/members)"), root))
    binds.append((parse("sum(/data/members/age)"), root))
    binds.append((parse("count(/data/members[insured = 'no'])"), root))
    return binds


def _best(fn, repeat: int, rounds: int = 5) -> float:
    """Microseconds per call: the best of several rounds, as timeit advises on a busy machine."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeat):
            fn()
        best = min(best, (time.perf_counter() - start) / repeat * 1e6)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10_000)
    args = parser.parse_args()
    root = household_instance()
    env = Env(
        root=root,
        instances={"prov": provinces()},
        now=datetime(2024, 3, 20, 9, 0, tzinfo=VN_TZ),
    )
    total = 0.0
    print(f"{'µs/eval':>8}  expression")
    for source, context_path in CASES:
        expr = parse(source)
        node = root.find(context_path.removeprefix("/data")) if context_path != "/data" else root
        expr.eval_boolean(node, env)  # warm up
        micro = _best(lambda expr=expr, node=node: expr.eval_boolean(node, env), args.repeat)
        total += micro
        print(f"{micro:8.2f}  {source}")
    print(f"{total / len(CASES):8.2f}  mean")
    binds = form_binds(root)

    def one_submission():
        for expr, node in binds:
            expr.eval_boolean(node, env)

    per_submission = _best(one_submission, max(args.repeat // 20, 200))
    print(
        f"{per_submission:8.1f}  all {len(binds)} binds of one household visit "
        f"({1e6 / per_submission:,.0f} submissions/s on one core, XPath only)"
    )
    start = time.perf_counter()
    rounds = 500
    for _ in range(rounds):
        for source, _ in CASES:
            Expr(source, parse_ast(source))  # bypass parse()'s cache to time the real work
    per_parse = (time.perf_counter() - start) / rounds / len(CASES) * 1e6
    print(f"{per_parse:8.2f}  parse + compile, once per form load (mean)")


if __name__ == "__main__":
    main()
