"""Turn an expression tree into nested Python closures `(node, ctx) -> value`, once per form.

Dispatch on node types happens here, at compile time; evaluation then only
calls closures. Each compiled piece carries its static result type so parents
can pick conversion-free wrappers (see `forms.xpath.coerce`).
"""

from __future__ import annotations

import math
import operator

from forms.i18n import N_

# Importing the function modules registers their implementations.
from forms.xpath import ast, fn_dates, fn_geo, fn_nodes, fn_numbers, fn_odk, fn_strings  # noqa: F401
from forms.xpath.coerce import as_bool, as_num, as_str, constant, not_nodes
from forms.xpath.errors import eval_error
from forms.xpath.nodes import document_order
from forms.xpath.paths import compile_filter, compile_path
from forms.xpath.registry import IMPLEMENTATIONS, PARAMS, Compiled
from forms.xpath.signatures import SIGNATURES
from forms.xpath.values import NAN, compare, numbers_equal, string_to_number

_SCALAR = frozenset({"bool", "num", "str"})
_RELATIONAL = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
_MIRROR = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def compile_expr(node: ast.Expression) -> Compiled:
    """The closure for `node` and its static type: bool, num, str, nodes or any."""
    if isinstance(node, ast.Literal):
        return constant(node.value), "str"
    if isinstance(node, ast.Number):
        return constant(node.value), "num"
    if isinstance(node, ast.Neg):
        operand = as_num(compile_expr(node.operand))
        return (lambda n, c: -operand(n, c)), "num"
    if isinstance(node, ast.Binary):
        return _binary(node)
    if isinstance(node, ast.Call):
        return _call(node)
    if isinstance(node, ast.Path):
        return compile_path(node, compile_expr)
    if isinstance(node, ast.Filter):
        return compile_filter(node, compile_expr)
    raise TypeError(f"not an expression node: {node!r}")


def _divide(a: float, b: float) -> float:
    """IEEE 754 division, as XPath requires: 1 div 0 is Infinity, 0 div 0 is NaN."""
    try:
        return a / b
    except ZeroDivisionError:
        if a != a or a == 0:
            return NAN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)


def _modulo(a: float, b: float) -> float:
    """XPath `mod`: the remainder of truncating division (Java's %), NaN for x mod 0."""
    try:
        return math.fmod(a, b)
    except ValueError:
        return NAN


_ARITHMETIC = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "div": _divide,
    "mod": _modulo,
}


def _binary(node: ast.Binary) -> Compiled:
    op = node.op
    if op in ("and", "or"):
        left, right = as_bool(compile_expr(node.left)), as_bool(compile_expr(node.right))
        if op == "and":
            return (lambda n, c: left(n, c) and right(n, c)), "bool"
        return (lambda n, c: left(n, c) or right(n, c)), "bool"
    if op in _ARITHMETIC:
        left, right = as_num(compile_expr(node.left)), as_num(compile_expr(node.right))
        fn = _ARITHMETIC[op]
        if op == "+":
            return (lambda n, c: left(n, c) + right(n, c)), "num"
        return (lambda n, c: fn(left(n, c), right(n, c))), "num"
    if op == "|":
        return _union(compile_expr(node.left), compile_expr(node.right))
    return _comparison(op, compile_expr(node.left), compile_expr(node.right), node)


def _union(left: Compiled, right: Compiled) -> Compiled:
    lf, rf = left[0], right[0]

    def union(n, c):
        a, b = lf(n, c), rf(n, c)
        for side in (a, b):
            if not isinstance(side, list):
                raise not_nodes("'|'", side)
        if not a:
            return b
        if not b:
            return a
        return document_order(a + b)

    return union, "nodes"


def _number_test(op: str):
    return numbers_equal if op == "=" else _not_equal if op == "!=" else _RELATIONAL[op]


def _not_equal(a: float, b: float) -> bool:
    return not numbers_equal(a, b)


def _comparison(op: str, left: Compiled, right: Compiled, node: ast.Binary) -> Compiled:
    """Specialise the frequent shapes: node-set against a literal or number, two numbers."""
    (lf, lt), (rf, rt) = left, right
    if rt == "nodes" and lt in _SCALAR:
        return _comparison(_MIRROR[op], right, left, node)
    if lt == "nodes" and rt == "str" and op in ("=", "!=") and isinstance(node.right, ast.Literal):
        return _nodes_equal_literal(lf, node.right.value, op == "="), "bool"
    if lt == "nodes" and (rt == "num" or (rt == "str" and op in _RELATIONAL)):
        # Relational operators compare node-sets and strings as numbers (XPath 1.0 3.4).
        return _nodes_against_number(lf, as_num(right), _number_test(op)), "bool"
    if lt == "nodes" and rt == "str":
        return _nodes_equal_string(lf, rf, op == "="), "bool"
    if lt in _SCALAR and rt in _SCALAR:
        return _scalars(op, left, right), "bool"
    return (lambda n, c: compare(op, lf(n, c), rf(n, c), c.tz)), "bool"


def _nodes_equal_literal(nodes_fn, literal: str, want: bool):
    if getattr(nodes_fn, "is_self", False):  # `. = 'x'`

        def self_equal(n, c):
            return ((n.text if not n.children else n.string_value()) == literal) is want

        return self_equal

    def run(n, c):
        for x in nodes_fn(n, c):
            if ((x.text if not x.children else x.string_value()) == literal) is want:
                return True
        return False

    return run


def _nodes_equal_string(nodes_fn, string_fn, want: bool):
    def run(n, c):
        text = string_fn(n, c)
        for x in nodes_fn(n, c):
            if ((x.text if not x.children else x.string_value()) == text) is want:
                return True
        return False

    return run


def _nodes_against_number(nodes_fn, number_fn, test):
    if hasattr(number_fn, "value"):  # a constant, such as `. >= 0`: nothing to evaluate
        number = number_fn.value
        if getattr(nodes_fn, "is_self", False):

            def self_against_constant(n, c):
                text = n.text if not n.children else n.string_value()
                return test(string_to_number(text, c.tz), number)

            return self_against_constant

        def against_constant(n, c):
            tz = c.tz
            for x in nodes_fn(n, c):
                text = x.text if not x.children else x.string_value()
                if test(string_to_number(text, tz), number):
                    return True
            return False

        return against_constant

    def run(n, c):
        number = number_fn(n, c)
        tz = c.tz
        for x in nodes_fn(n, c):
            if test(string_to_number(x.text if not x.children else x.string_value(), tz), number):
                return True
        return False

    return run


def _scalars(op: str, left: Compiled, right: Compiled):
    kinds = {left[1], right[1]}
    if op in ("=", "!="):
        if "bool" in kinds:
            lf, rf = as_bool(left), as_bool(right)
        elif "num" in kinds:
            lf, rf = as_num(left), as_num(right)
            test = _number_test(op)
            return lambda n, c: test(lf(n, c), rf(n, c))
        else:
            lf, rf = as_str(left), as_str(right)
        if op == "=":
            return lambda n, c: lf(n, c) == rf(n, c)
        return lambda n, c: lf(n, c) != rf(n, c)
    lf, rf = as_num(left), as_num(right)
    test = _RELATIONAL[op]
    return lambda n, c: test(lf(n, c), rf(n, c))


def _call(node: ast.Call) -> Compiled:
    found = IMPLEMENTATIONS.get(node.name)
    if found is None:
        name = node.name

        def unknown(n, c):
            raise eval_error(
                N_("Unknown function %(name)s(): ODK clients cannot evaluate it"), name=name
            )

        return unknown, "any"
    kind, impl = found
    args = [compile_expr(a) for a in node.args]
    if kind == "builder":
        return impl(node, args)
    returns = SIGNATURES[node.name].returns
    fns = _typed_arguments(node.name, args)
    if not fns:
        return (lambda n, c: impl(n, c)), returns
    if len(fns) == 1:
        a = fns[0]
        return (lambda n, c: impl(n, c, a(n, c))), returns
    if len(fns) == 2:
        a, b = fns
        return (lambda n, c: impl(n, c, a(n, c), b(n, c))), returns
    return (lambda n, c: impl(n, c, *[f(n, c) for f in fns])), returns


_CONVERTERS = {"s": as_str, "n": as_num, "b": as_bool}


def _typed_arguments(name: str, args: list[Compiled]) -> list:
    """The argument closures, converted as the function declares (`registry.PARAMS`)."""
    params = PARAMS.get(name)
    if not params:
        return [a[0] for a in args]
    fns = []
    for i, arg in enumerate(args):
        convert = _CONVERTERS.get(params[min(i, len(params) - 1)])
        fns.append(convert(arg) if convert is not None else arg[0])
    return fns
