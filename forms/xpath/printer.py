"""Canonical text of an expression tree: parse(unparse(tree)) == tree, and unparse is idempotent.

Canonical form: binary operators with one space either side, function
arguments separated by ", ", the fewest parentheses the precedence allows,
abbreviated steps (`.`, `..`, `@x`, `//`), strings in single quotes unless they
contain one, numbers without exponent or trailing `.0`.
"""

from __future__ import annotations

from forms.xpath import ast
from forms.xpath.values import format_number

_PRECEDENCE = {
    "or": 1,
    "and": 2,
    "=": 3,
    "!=": 3,
    "<": 4,
    "<=": 4,
    ">": 4,
    ">=": 4,
    "+": 5,
    "-": 5,
    "*": 6,
    "div": 6,
    "mod": 6,
    "|": 8,
}
_ROOT = ast.Path((), absolute=True)
_UNARY = 7
_ATOM = 9


def unparse(node: ast.Expression) -> str:
    """The canonical text of `node`."""
    if isinstance(node, ast.Literal):
        quote = '"' if "'" in node.value else "'"
        return f"{quote}{node.value}{quote}"
    if isinstance(node, ast.Number):
        return format_number(node.value, exact=True)
    if isinstance(node, ast.Neg):
        return "-" + _wrap(node.operand, _UNARY)
    if isinstance(node, ast.Binary):
        prec = _PRECEDENCE[node.op]
        left = _wrap(node.left, prec)
        right = _wrap(node.right, prec + 1)  # left-associative: equal precedence on the right
        return f"{left} | {right}" if node.op == "|" else f"{left} {node.op} {right}"
    if isinstance(node, ast.Call):
        return f"{node.name}({', '.join(unparse(a) for a in node.args)})"
    if isinstance(node, ast.Filter):
        head = _primary(node.primary)
        if isinstance(node.primary, ast.Filter):
            head = f"({head})"  # (x[1])[2] is one filter applied to another, not x[1][2]
        return head + "".join(f"[{unparse(p)}]" for p in node.predicates)
    if isinstance(node, ast.Path):
        return _path(node)
    raise TypeError(f"not an expression node: {node!r}")


def _precedence(node: ast.Expression) -> int:
    if isinstance(node, ast.Binary):
        return _PRECEDENCE[node.op]
    if isinstance(node, ast.Neg):
        return _UNARY
    return _ATOM


def _wrap(node: ast.Expression, minimum: int) -> str:
    """An operand's text, in parentheses when precedence needs them.

    A bare "/" is always wrapped: in "/ or x" or "-/ and y" XPath reads the
    operator name as a step ("/or"), so the root must stand in parentheses.
    """
    text = unparse(node)
    return f"({text})" if _precedence(node) < minimum or node == _ROOT else text


def _primary(node: ast.Expression) -> str:
    """A filter expression's head: literals, numbers and calls stand alone, the rest need ()."""
    if isinstance(node, ast.Literal | ast.Number | ast.Call | ast.Filter):
        return unparse(node)
    return f"({unparse(node)})"


def _path(node: ast.Path) -> str:
    steps = node.steps
    if node.base is not None:
        return _primary(node.base) + _joined(steps, leading=True)
    if node.absolute:
        return _joined(steps, leading=True) if steps else "/"
    return _joined(steps, leading=False)


def _joined(steps: tuple[ast.Step, ...], leading: bool) -> str:
    """Steps separated by '/', folding descendant-or-self::node() into '//' where legal."""
    out = []
    i = 0
    sep = "/" if leading else ""
    while i < len(steps):
        step = steps[i]
        foldable = step == ast.DESCENDANT_OR_SELF and i + 1 < len(steps)
        if foldable and (leading or i > 0) and sep != "//":
            sep = "//"
            i += 1
            continue
        out.append(sep + _step(step))
        sep = "/"
        i += 1
    return "".join(out)


def _step(step: ast.Step) -> str:
    preds = "".join(f"[{unparse(p)}]" for p in step.predicates)
    if not preds and step == ast.SELF:
        return "."
    if not preds and step == ast.PARENT:
        return ".."
    if step.axis == "child":
        head = step.test
    elif step.axis == "attribute":
        head = "@" + step.test
    else:
        head = f"{step.axis}::{step.test}"
    return head + preds
