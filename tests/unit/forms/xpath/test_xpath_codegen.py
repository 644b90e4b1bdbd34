"""The generated functions (`forms.xpath.codegen`) compute what the compiler's closures compute.

`Expr` evaluates an expression's operators (`and`, `+`, comparisons of
values, `if()`, `not()`, `selected()` with a literal) through Python source
generated once per expression; the compiler's closure tree
(`compile_expr` with the `coerce` conversions) is the reference. For random
expressions over an instance with blank, absent, numeric, date, list and
repeated answers, at several context nodes and in two time zones, each
generated variant (value, boolean, number, string) must give the same value
of the same type, or raise the same error.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from hypothesis import example, given, settings
from hypothesis import strategies as st

from forms.tree import Node
from forms.xpath import Context, Env, XPathError
from forms.xpath.codegen import _combines, generate
from forms.xpath.coerce import as_bool, as_num, as_str
from forms.xpath.compiler import compile_expr
from forms.xpath.dates import VN_TZ
from forms.xpath.parser import parse_ast


def instance() -> Node:
    root = Node("data")
    for name, text in [
        ("yes", "yes"), ("n", "4"), ("half", "0.5"), ("blank", ""), ("day", "2024-03-14"),
        ("moment", "2024-03-14T23:30:00+00:00"), ("list", "water  telecom nutrition"),
        ("pad", " 7 "),
    ]:  # fmt: skip
        root.append(Node(name, text))
    for age in ("3", "40"):
        member = root.append(Node("m"))
        member.append(Node("age", age))
        member.append(Node("yes", "no"))
    return root


ROOT = instance()
ENVS = [Env(root=ROOT, now=datetime(2024, 3, 15, 10, 0), tz=tz) for tz in (VN_TZ, UTC)]
CONTEXTS = [ROOT, ROOT.child("n"), ROOT.child("list"), ROOT.children_named("m")[1].child("age")]

numbers = st.sampled_from(
    ["0", "1", "-2.5", "4", "0.1", "0.3", "(0.1 * 3)", "1000000", "12345678.25", "1 div 0"]
)
strings = st.sampled_from([
    "''", "'yes'", "' 7 '", "'2024-03-14'", "'2024-03-14T23:30:00+00:00'", "'4'", "'NaN'",
    "'water'",
])  # fmt: skip
paths = st.sampled_from([
    "/data/n", "/data/yes", "/data/blank", "/data/none", "/data/day", "/data/moment",
    "/data/list", "/data/half", "/data/pad", "/data/m/age", "/data/m", ".", "../yes", "../age",
    "current()/../yes",
])  # fmt: skip
closures = st.sampled_from([
    "count(/data/m)", "string-length(/data/yes)", "concat(/data/yes, '-', .)", "today()",
    "count-selected(/data/list)", "number(/data/day)", "/data/m/age > 10", "/data/yes = 'yes'",
    "format-date(/data/day, '%Y%m%d')", "contains(/data/list, 'tele')", "/data/m | /data/n",
])  # fmt: skip
choices = st.sampled_from(["'water'", "'telecom'", "''", "' water '", "'water telecom'", "'x'"])
leaves = st.one_of(numbers, strings, paths, closures, st.sampled_from(["true()", "false()"]))
OPERATORS = ["and", "or", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"]


def combined(inner):
    return st.one_of(
        st.builds(lambda a, op, b: f"({a} {op} {b})", inner, st.sampled_from(OPERATORS), inner),
        st.builds(lambda c, a, b: f"if({c}, {a}, {b})", inner, inner, inner),
        st.builds(lambda a: f"not({a})", inner),
        st.builds(lambda a: f"-({a})", inner),
        st.builds(lambda a, b: f"selected({a}, {b})", inner, choices),
    )


expressions = st.recursive(leaves, combined, max_leaves=8)


def outcome(fn, node, env):
    """What `fn` gives: ("value", its type, the value) or ("error", the message)."""
    try:
        value = fn(node, Context(env, node))
    except XPathError as exc:
        return ("error", str(exc))
    if isinstance(value, float) and math.isnan(value):
        return ("value", float, "NaN")
    if isinstance(value, list):
        return ("value", list, [id(x) if isinstance(x, Node) else x for x in value])
    return ("value", type(value), value)


@settings(max_examples=1500, deadline=None)
@given(expressions)
@example("((0.1 * 3) = 0.3)")  # JavaRosa's tolerance on `=` between numbers
@example("((0.1 * 3) != 0.3)")
@example("(/data/moment < '2024-03-15T01:00:00+07:00')")  # dates compare as local days
def test_generated_functions_give_what_the_closures_give(source):
    tree = parse_ast(source)
    generated = generate(tree)
    if _combines(tree):
        assert generated is not None  # the generated path is the one tested here
    else:
        assert generated is None
        return
    compiled = compile_expr(tree)
    reference = {
        "value": compiled[0],
        "bool": as_bool(compiled),
        "num": as_num(compiled),
        "str": as_str(compiled),
    }
    for env in ENVS:
        for node in CONTEXTS:
            for want, fn in reference.items():
                expected = outcome(fn, node, env)
                assert outcome(generated[want], node, env) == expected, (want, node.path())


def test_every_operator_is_generated():
    """The shapes the visit form is made of compile to one function each."""
    for source in [
        "if(selected(/data/list, 'water') and /data/m/age = 1, 1, 0) + if(/data/n > 3, 1, 0)",
        "not(/data/n * 2 > /data/half) or -/data/n != 4 div 2",
        "if(/data/yes = '', '', if(true(), 'a', false()))",
    ]:
        assert generate(parse_ast(source)) is not None, source
    for source in ["/data/n", "count(/data/m)", "'x'", "/data/m | /data/n", "selected(., .)"]:
        assert generate(parse_ast(source)) is None, source


def test_the_selected_fast_path_is_javarosa_multiselected():
    """(" " + list + " ") contains (" " + trim(choice) + " "): spaces inside a choice and
    doubled spaces in the answer count as JavaRosa counts them."""
    env = ENVS[0]
    cases = {
        "selected(/data/list, 'water')": True,
        "selected(/data/list, ' telecom ')": True,
        "selected(/data/list, 'tele')": False,
        "selected(/data/list, '')": True,  # the doubled space holds an empty value
        "selected(/data/list, 'telecom nutrition')": True,
        "selected(/data/list, 'water telecom')": False,
        "selected(/data/blank, '')": True,
        "selected(/data/none, 'water')": False,
    }
    for source, expected in cases.items():
        functions = generate(parse_ast(f"({source}) and true()"))
        assert functions["bool"](ROOT, Context(env, ROOT)) is expected, source
