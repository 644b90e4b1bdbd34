"""XPath 1.0 values and conversions, with the ODK extensions for dates.

A value is a `str`, a `float`, a `bool` or a node-set (a `list` of nodes in
document order). Conversions follow XPath 1.0 section 4
(https://www.w3.org/TR/1999/REC-xpath-19991116/#section-String-Functions) and
the ODK XForms spec, which extends `number()` to turn date and dateTime
strings into days since 1970-01-01.
"""

from __future__ import annotations

import math
import operator
import re
from decimal import Decimal
from typing import Any

from forms.xpath.dates import VN_TZ, date_to_number
from forms.xpath.nodes import string_value

NAN = math.nan
NUMBER_PATTERN = re.compile(r"[\x20\t\r\n]*-?(?:\d+(?:\.\d*)?|\.\d+)[\x20\t\r\n]*\Z")
# Answers repeat across submissions ("1", "2", "yes"); remembering their numeric value saves
# a regex match per comparison. Only tz-independent results are kept, and the size is capped.
_NUMBER_CACHE: dict[str, float] = {}
_CACHE_LIMIT = 20_000


def string_to_number(text: str, tz=VN_TZ) -> float:
    """XPath `number(string)`, extended to date (and dateTime) strings as ODK specifies."""
    cached = _NUMBER_CACHE.get(text)
    if cached is not None:
        return cached
    if NUMBER_PATTERN.match(text):
        value = float(text)
    else:
        days = date_to_number(text, tz)
        if days is None:
            value = NAN
        elif "T" in text:
            return days  # a dateTime's local day depends on tz: not cached
        else:
            value = days
    if len(_NUMBER_CACHE) < _CACHE_LIMIT:
        _NUMBER_CACHE[text] = value
    return value


def format_number(x: float, exact: bool = False) -> str:
    """XPath number-to-string: no exponent, integers without '.0', NaN and Infinity spelled out.

    Unless `exact`, values within 1e-12 of an integer print as that integer,
    as JavaRosa's toString(Double) does, so `0.1 * 3 - 0.3` shows "0" in
    calculations as it does in Collect.
    """
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    whole = math.trunc(x)
    if x == whole or (not exact and abs(x - whole) < 1e-12):
        return str(int(whole))
    text = repr(x)
    if "e" in text:
        text = format(Decimal(text), "f")
    return text


def to_string(value: Any) -> str:
    """XPath `string()`."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        return format_number(float(value))
    if isinstance(value, list):
        return string_value(value[0]) if value else ""
    raise TypeError(f"not an XPath value: {value!r}")


def to_number(value: Any, tz=VN_TZ) -> float:
    """XPath `number()`; date and dateTime strings become days since 1970-01-01."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float | int):
        return float(value)
    if isinstance(value, str):
        return string_to_number(value, tz)
    if isinstance(value, list):
        return string_to_number(string_value(value[0]), tz) if value else NAN
    raise TypeError(f"not an XPath value: {value!r}")


def to_boolean(value: Any) -> bool:
    """XPath `boolean()`: a node-set is true when it has a node, even an empty one.

    JavaRosa instead looks at the first node's text (getodk/javarosa#767,
    acknowledged there as out of spec); we follow the spec, as Enketo and Web Forms do.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, float | int):
        return value != 0 and value == value
    return len(value) > 0


def numbers_equal(a: float, b: float) -> bool:
    """`=` on numbers with JavaRosa's 1e-12 tolerance (XPathEqExpr), so 0.1 + 0.2 = 0.3."""
    return a == b or abs(a - b) < 1e-12


_RELATIONAL = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_MIRROR = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def compare(op: str, a: Any, b: Any, tz=VN_TZ) -> bool:
    """XPath 1.0 comparison (section 3.4), including node-sets on either side."""
    a_nodes, b_nodes = isinstance(a, list), isinstance(b, list)
    if a_nodes and b_nodes:
        return _nodes_vs_nodes(op, a, b, tz)
    if a_nodes:
        return _nodes_vs_value(op, a, b, tz)
    if b_nodes:
        return _nodes_vs_value(_MIRROR[op], b, a, tz)
    return _values(op, a, b, tz)


def _values(op: str, a: Any, b: Any, tz) -> bool:
    if op in ("=", "!="):
        if isinstance(a, bool) or isinstance(b, bool):
            same = to_boolean(a) == to_boolean(b)
        elif isinstance(a, float | int) or isinstance(b, float | int):
            same = numbers_equal(to_number(a, tz), to_number(b, tz))
        else:
            same = a == b
        return same if op == "=" else not same
    return _RELATIONAL[op](to_number(a, tz), to_number(b, tz))


def _nodes_vs_value(op: str, nodes: list, value: Any, tz) -> bool:
    if isinstance(value, bool):
        return _values(op, bool(nodes), value, tz)
    if isinstance(value, float | int):
        return any(_values(op, string_to_number(string_value(n), tz), value, tz) for n in nodes)
    if op in ("=", "!="):
        want = op == "="
        return any((string_value(n) == value) is want for n in nodes)
    number = to_number(value, tz)
    test = _RELATIONAL[op]
    return any(test(string_to_number(string_value(n), tz), number) for n in nodes)


def _nodes_vs_nodes(op: str, a: list, b: list, tz) -> bool:
    if not a or not b:
        return False
    if op == "=":
        right = {string_value(n) for n in b}
        return any(string_value(n) in right for n in a)
    if op == "!=":
        return len({string_value(n) for n in a} | {string_value(n) for n in b}) > 1
    test = _RELATIONAL[op]
    right = [string_to_number(string_value(n), tz) for n in b]
    left = (string_to_number(string_value(n), tz) for n in a)
    return any(test(x, y) for x in left for y in right)
