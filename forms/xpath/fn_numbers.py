"""Number and boolean functions: XPath 1.0 core plus ODK's int/round(x, n)/pow/math functions.

Java's Math functions return NaN or an infinity where Python's math module
raises, so each one goes through `_java` (JavaRosa evaluates them with
java.lang.Math in XPathFuncExpr).
"""

from __future__ import annotations

import math
import random
from decimal import ROUND_FLOOR, Decimal, InvalidOperation

from forms.xpath.coerce import not_nodes
from forms.xpath.nodes import string_value
from forms.xpath.registry import function
from forms.xpath.values import NAN, string_to_number, to_boolean, to_number, to_string


def numbers_of(value, tz) -> list[float]:
    """Every node's number for a node-set, else the value's number."""
    if isinstance(value, list):
        return [string_to_number(string_value(n), tz) for n in value]
    return [to_number(value, tz)]


@function("number", params="n")
def fn_number(n, c, value=None):
    return string_to_number(string_value(n), c.tz) if value is None else to_number(value, c.tz)


@function("boolean", params="b")
def fn_boolean(n, c, value):
    return to_boolean(value)


@function("not", params="b")
def fn_not(n, c, value):
    return not to_boolean(value)


@function("true")
def fn_true(n, c):
    return True


@function("false")
def fn_false(n, c):
    return False


@function("boolean-from-string", params="s")
def fn_boolean_from_string(n, c, value):
    """True for 'true' (any case, as JavaRosa's equalsIgnoreCase) or '1'."""
    text = to_string(value)
    return text == "1" or text.lower() == "true"


@function("sum")
def fn_sum(n, c, nodes):
    """Sum of the nodes' numbers, skipping empty and non-numeric ones as JavaRosa does.

    XPath 1.0 would return NaN when any node is empty; Collect users rely on
    sum() over repeats where some answers are blank.
    """
    return float(sum(x for x in numbers_of(_nodes(nodes, "sum()"), c.tz) if x == x))


def _nodes(value, what: str) -> list:
    if not isinstance(value, list):
        raise not_nodes(what, value)
    return value


def _extreme(values, tz, pick) -> float:
    """max()/min() over every argument's numbers, ignoring NaN; NaN when nothing is left.

    (JavaRosa starts max() from Double.MIN_VALUE, which breaks all-negative
    inputs; XPath 3.0 max, which the spec cites, does not.)
    """
    numbers = [x for v in values for x in numbers_of(v, tz) if x == x]
    return float(pick(numbers)) if numbers else NAN


@function("max")
def fn_max(n, c, *values):
    return _extreme(values, c.tz, max)


@function("min")
def fn_min(n, c, *values):
    return _extreme(values, c.tz, min)


@function("floor", params="n")
def fn_floor(n, c, value):
    x = to_number(value, c.tz)
    return x if x != x or math.isinf(x) else float(math.floor(x))


@function("ceiling", params="n")
def fn_ceiling(n, c, value):
    x = to_number(value, c.tz)
    return x if x != x or math.isinf(x) else float(math.ceil(x))


@function("int", params="n")
def fn_int(n, c, value):
    """Drop the fraction (toward zero), as JavaRosa's toInt."""
    x = to_number(value, c.tz)
    return x if x != x or math.isinf(x) else float(math.trunc(x))


@function("round", params="n")
def fn_round(n, c, value, places=None):
    """Round half toward +Infinity at `places` decimals (XPath 1.0 round, JavaRosa round(x, n)).

    The decimal digits of the number are rounded, not its binary value, as
    JavaRosa does with BigDecimal(Double.toString(x)): round(1.005, 2) is 1.01.
    """
    x = to_number(value, c.tz)
    if x != x or math.isinf(x):
        return x
    digits = 0
    if places is not None:
        p = to_number(places, c.tz)
        digits = 0 if p != p else int(p)  # Java's (int)NaN is 0
    if abs(digits) > 30:
        return NAN
    try:
        scaled = Decimal(repr(x)).scaleb(digits)
        rounded = (scaled + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)
        return float(rounded.scaleb(-digits))
    except InvalidOperation:
        return NAN


def _java(fn, x: float, *more: float) -> float:
    """Call a math function with java.lang.Math's NaN/Infinity results instead of exceptions."""
    try:
        return float(fn(x, *more))
    except OverflowError:
        return math.inf
    except ValueError:
        return NAN


def _log(fn, x: float) -> float:
    if x == 0:
        return -math.inf
    return _java(fn, x)


def _pow(base: float, exponent: float) -> float:
    if exponent == 0:
        return 1.0  # Java: pow(x, 0) is 1 even for NaN
    if exponent != exponent:
        return NAN  # Java: NaN exponent gives NaN, where C's pow(1, NaN) gives 1
    try:
        return math.pow(base, exponent)
    except OverflowError:
        negative = base < 0 and exponent == int(exponent) and int(exponent) % 2 == 1
        return -math.inf if negative else math.inf
    except (ValueError, ZeroDivisionError):
        if base == 0:
            return math.inf  # pow(0, negative)
        return NAN


_UNARY = {
    "abs": abs,
    "sin": math.sin,
    "cos": math.cos,
    "tan": math.tan,
    "asin": math.asin,
    "acos": math.acos,
    "atan": math.atan,
    "sqrt": math.sqrt,
    "exp": math.exp,
}


def _unary(fn):
    return lambda n, c, value: _java(fn, to_number(value, c.tz))


for _name, _fn in _UNARY.items():
    function(_name)(_unary(_fn))

function("log")(lambda n, c, value: _log(math.log, to_number(value, c.tz)))
function("log10")(lambda n, c, value: _log(math.log10, to_number(value, c.tz)))
function("exp10")(lambda n, c, value: _pow(10.0, to_number(value, c.tz)))
function("pow")(lambda n, c, base, exp: _pow(to_number(base, c.tz), to_number(exp, c.tz)))
function("atan2")(lambda n, c, y, x: _java(math.atan2, to_number(y, c.tz), to_number(x, c.tz)))
function("pi")(lambda n, c: math.pi)
function("random")(lambda n, c: random.random())
