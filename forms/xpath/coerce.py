"""Wrap a compiled closure so it returns a given XPath type, choosing the wrapper at compile time.

Knowing the static type of a sub-expression (a comparison is boolean, `+` is a
number, a path is a node-set) lets us skip the run-time type dispatch of
`to_boolean`/`to_number`/`to_string` on the hot path. Two shapes are converted
at compile time instead: a constant (`constant()`, which keeps its value on
the closure) and an `if()` (whose closure keeps its `branches`), so that
`if(x = 'yes', 1, 0)` stored as text returns "1" without formatting a number.
"""

from __future__ import annotations

from forms.i18n import N_
from forms.xpath.errors import XPathEvalError, eval_error
from forms.xpath.registry import Closure, Compiled
from forms.xpath.values import (
    NAN,
    format_number,
    string_to_number,
    to_boolean,
    to_number,
    to_string,
)


def constant(value) -> Closure:
    """The closure of a literal: it returns `value`, which it also keeps as `.value`."""

    def literal(n, c):
        return value

    literal.value = value
    return literal


_FOLD: dict = {}  # converter -> the same conversion of a value (filled below)


def _pushed(compiled: Compiled, convert) -> Closure | None:
    """`convert` applied at compile time to a constant, or to each branch of an if()."""
    fn = compiled[0]
    if hasattr(fn, "value"):
        value = fn.value
        # A string's number can depend on the time zone (dateTime text): not folded.
        if convert is not as_num or not isinstance(value, str):
            return constant(_FOLD[convert](value))
        return None
    branches = getattr(fn, "branches", None)
    if branches is None:
        return None
    test, then_fn, else_fn = branches[0], convert(branches[1]), convert(branches[2])
    return lambda n, c: then_fn(n, c) if test(n, c) else else_fn(n, c)


def as_bool(compiled: Compiled) -> Closure:
    fn, kind = compiled
    if kind == "bool":
        return fn
    pushed = _pushed(compiled, as_bool)
    if pushed is not None:
        return pushed
    if kind == "num":

        def number_truth(n, c):
            x = fn(n, c)
            return x != 0 and x == x

        return number_truth
    if kind in ("str", "nodes"):
        return lambda n, c: len(fn(n, c)) > 0
    return lambda n, c: to_boolean(fn(n, c))


def as_num(compiled: Compiled) -> Closure:
    fn, kind = compiled
    if kind == "num":
        return fn
    pushed = _pushed(compiled, as_num)
    if pushed is not None:
        return pushed
    if kind == "bool":
        return lambda n, c: 1.0 if fn(n, c) else 0.0
    if kind == "str":
        return lambda n, c: string_to_number(fn(n, c), c.tz)
    if kind == "nodes":

        def first_node_number(n, c):
            nodes = fn(n, c)
            if not nodes:
                return NAN
            x = nodes[0]
            return string_to_number(x.text if not x.children else x.string_value(), c.tz)

        return first_node_number
    return lambda n, c: to_number(fn(n, c), c.tz)


def as_str(compiled: Compiled) -> Closure:
    fn, kind = compiled
    if kind == "str":
        return fn
    pushed = _pushed(compiled, as_str)
    if pushed is not None:
        return pushed
    if kind == "num":
        return lambda n, c: format_number(fn(n, c))
    if kind == "bool":
        return lambda n, c: "true" if fn(n, c) else "false"
    if kind == "nodes":

        def first_node_string(n, c):
            nodes = fn(n, c)
            if not nodes:
                return ""
            x = nodes[0]
            return x.text if not x.children else x.string_value()

        return first_node_string
    return lambda n, c: to_string(fn(n, c))


_FOLD.update({as_bool: to_boolean, as_num: to_number, as_str: to_string})


def as_nodes(compiled: Compiled, what: str) -> Closure:
    """A closure that returns a node-set or raises XPathEvalError naming `what`."""
    fn, kind = compiled
    if kind == "nodes":
        return fn

    def checked(n, c):
        value = fn(n, c)
        if not isinstance(value, list):
            raise not_nodes(what, value)
        return value

    return checked


def not_nodes(what: str, value) -> XPathEvalError:
    return eval_error(
        N_("%(what)s needs a field or path (a node-set), not the value '%(value)s'"),
        what=what,
        value=to_string(value),
    )
