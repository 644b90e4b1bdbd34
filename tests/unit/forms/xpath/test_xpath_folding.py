"""Conversions done at compile time give what the same conversions give at run time.

`as_str`/`as_num`/`as_bool` convert a literal once, and convert each branch of
an `if()` instead of its result (so `if(x = 'yes', 1, 0)` stored as text
returns "1" without formatting a number per submission). Whatever is folded,
`eval_string`, `eval_number` and `eval_boolean` must equal `string()`,
`number()` and `boolean()` of the value `evaluate` gives.
"""

from __future__ import annotations

import math
from datetime import UTC, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from forms.tree import Node
from forms.xpath import Env, parse, to_boolean, to_number, to_string

ROOT = Node("data", children=[Node("yes", "yes"), Node("n", "4"), Node("blank")])
ENV = Env(root=ROOT)

numbers = st.sampled_from(
    ["0", "1", "-2.5", "0.1 * 3", "1 div 0", "0 div 0", "1000000", "12345678.25"]
)
strings = st.sampled_from(["''", "'yes'", "' 7 '", "'2024-03-14'", "'abc'", "'NaN'"])
booleans = st.sampled_from(
    ["true()", "false()", "/data/yes = 'yes'", "/data/n > 5", ". = '4'", ". != 'yes'", ". >= 4"]
)
paths = st.sampled_from(["/data/n", "/data/yes", "/data/blank", "/data/none", ".", "../yes"])
leaves = st.one_of(numbers, strings, booleans, paths)


def branches(inner):
    return st.builds(lambda c, a, b: f"if({c}, {a}, {b})", booleans, inner, inner)


expressions = st.recursive(leaves, branches, max_leaves=6)


def same_number(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@given(expressions, st.sampled_from(["data", "yes", "n", "blank"]))
@settings(max_examples=300, deadline=None)
def test_folded_conversions_equal_run_time_conversions(source, context):
    expr = parse(source)
    node = ROOT if context == "data" else ROOT.child(context)
    value = expr.evaluate(node, ENV)
    assert expr.eval_string(node, ENV) == to_string(value)
    assert same_number(expr.eval_number(node, ENV), to_number(value))
    assert expr.eval_boolean(node, ENV) == to_boolean(value)


def test_if_with_number_branches_stored_as_text():
    assert parse("if(/data/yes = 'yes', 1, 0)").eval_string(ROOT, ENV) == "1"
    assert parse("if(/data/n > 5, 1, 0.5)").eval_string(ROOT, ENV) == "0.5"
    assert parse("if(true(), 0.1 * 3 - 0.3, 2)").eval_string(ROOT, ENV) == "0"


def test_a_datetime_literal_is_converted_to_a_number_in_the_zone_of_each_evaluation():
    """Not folded at compile time: its local day depends on the environment's zone."""
    expr = parse("floor(number('2024-03-14T23:30:00+00:00'))")
    utc = Env(root=ROOT, tz=UTC)
    hanoi = Env(root=ROOT, tz=timezone(timedelta(hours=7)))
    assert expr.eval_number(ROOT, hanoi) == expr.eval_number(ROOT, utc) + 1
