"""Wrap a compiled closure so it returns a given XPath type, choosing the wrapper at compile time.

Knowing the static type of a sub-expression (a comparison is boolean, `+` is a
number, a path is a node-set) lets us skip the run-time type dispatch of
`to_boolean`/`to_number`/`to_string` on the hot path.
"""

from __future__ import annotations

from forms.xpath.errors import XPathEvalError
from forms.xpath.registry import Closure, Compiled
from forms.xpath.values import (
    NAN,
    format_number,
    string_to_number,
    to_boolean,
    to_number,
    to_string,
)


def as_bool(compiled: Compiled) -> Closure:
    fn, kind = compiled
    if kind == "bool":
        return fn
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
    shown = to_string(value)
    return XPathEvalError(
        f"{what} needs a field or path (a node-set), not the value '{shown}'",
        f"{what} cần một trường hoặc đường dẫn (tập nút), không phải giá trị '{shown}'",
    )
