"""Arguments converted at compile time (`@function(..., params=...)`) change no result.

A function that declares `params` receives its arguments already converted
(a node-set's first text, a literal folded once). That is only right when the
implementation makes that very conversion itself: for every declared function,
called with node-sets, numbers, booleans, literals and `if()`s, the compiled
call must give what the implementation gives on the unconverted values.
Also: the memory of parsed dates keeps time zones apart, and `today()` follows
a change of the environment's clock or zone.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from forms.tree import Node
from forms.xpath import Context, Env, XPathError, parse
from forms.xpath.compiler import compile_expr
from forms.xpath.dates import VN_TZ, format_moment, parse_datetime, parse_moment
from forms.xpath.parser import parse_ast
from forms.xpath.registry import IMPLEMENTATIONS, PARAMS
from forms.xpath.signatures import SIGNATURES

ROOT = Node("data", children=[
    Node("yes", "yes"), Node("n", "4.5"), Node("blank"), Node("day", "2024-03-14"),
    Node("list", "a b  c"), Node("pad", " x  y "), Node("moment", "2024-03-14T23:30:00Z"),
])  # fmt: skip
ENVS = [Env(root=ROOT, tz=VN_TZ), Env(root=ROOT, tz=UTC)]
ARGUMENTS = [
    "/data/yes", "/data/n", "/data/blank", "/data/none", "/data/day", "/data/list", "/data/pad",
    "/data/moment", "'%Y-%m-%d %H'", "'b'", "' x '", "''", "'2024-03-14T23:30:00Z'", "2",
    "-1.5", "0 div 0", "true()", "false()", "/data/n > 4", "if(/data/n > 4, 1, 'one')",
    "if(true(), /data/list, 3)", "/data/yes | /data/n",
]  # fmt: skip


def outcome(thunk):
    try:
        value = thunk()
    except XPathError as exc:
        return ("error", str(exc))
    if isinstance(value, float) and math.isnan(value):
        return ("NaN",)
    return (type(value), value)


@settings(max_examples=600, deadline=None)
@given(
    st.sampled_from(sorted(PARAMS)),
    st.lists(st.sampled_from(ARGUMENTS), min_size=3, max_size=3),
)
def test_declared_conversions_are_the_ones_the_implementation_makes(name, arguments):
    signature = SIGNATURES[name]
    count = min(max(signature.min_args, 1), 3) if signature.max_args != 0 else 0
    args = arguments[:count]
    call = f"{name}({', '.join(args)})"
    _kind, impl = IMPLEMENTATIONS[name]
    compiled, _ = compile_expr(parse_ast(call))
    raw = [compile_expr(parse_ast(a))[0] for a in args]
    for env in ENVS:
        c = Context(env, ROOT)
        expected = outcome(lambda c=c: impl(ROOT, c, *[fn(ROOT, c) for fn in raw]))
        assert outcome(lambda c=c: compiled(ROOT, c)) == expected, call


def test_every_function_declaring_params_exists():
    assert PARAMS, "no function declares its conversions"
    for name, params in PARAMS.items():
        assert IMPLEMENTATIONS[name][0] == "eager", name
        assert set(params) <= set("snb-"), name


def test_remembered_dates_keep_each_time_zone():
    """Zones equal as keys (same offset, or the same instant) still give their own answer."""
    hanoi = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")
    bangkok = timezone(timedelta(hours=7), "Asia/Bangkok")  # == hanoi for Python
    assert parse_datetime("2024-03-14T10:00", hanoi).tzinfo is hanoi
    assert parse_datetime("2024-03-14T10:00", bangkok).tzinfo is bangkok
    assert parse_datetime("2024-03-14T10:00Z", bangkok).tzinfo is UTC
    assert parse_datetime("2024-03-14T10:00+05:30", hanoi).utcoffset() == timedelta(minutes=330)
    assert parse_moment("2024-03-14", UTC).tzinfo is UTC
    assert parse_moment("2024-03-14", hanoi).tzinfo is hanoi
    # The same instant seen in two zones: equal datetimes, different local fields.
    instant = datetime(2024, 3, 14, 23, 30, tzinfo=UTC)
    local = instant.astimezone(hanoi)
    assert instant == local
    assert format_moment(instant, "%d %H:%M") == "14 23:30"
    assert format_moment(local, "%d %H:%M") == "15 06:30"
    expr = parse("format-date-time(/data/moment, '%Y-%m-%d %H:%M')")
    assert expr.eval_string(ROOT, ENVS[0]) == "2024-03-15 06:30"
    assert expr.eval_string(ROOT, ENVS[1]) == "2024-03-14 23:30"
    assert parse_datetime("2024-02-30T10:00", hanoi) is None
    assert parse_datetime("2024-02-30T10:00", hanoi) is None  # a remembered failure


def test_today_follows_the_environment_clock_and_zone():
    env = Env(root=ROOT, now=datetime(2024, 3, 14, 20, 0), tz=UTC)
    today = parse("today()")
    assert today.eval_string(ROOT, env) == "2024-03-14"
    env.now = datetime(2024, 3, 15, 20, 0)
    assert today.eval_string(ROOT, env) == "2024-03-15"
    env.now = datetime(2024, 3, 15, 20, 0, tzinfo=UTC)
    env.tz = VN_TZ  # 20:00 UTC is 03:00 the next day in Hanoi
    assert today.eval_string(ROOT, env) == "2024-03-16"
