"""What an expression reads and calls, found from its tree without evaluating it.

`references` gives absolute name paths in the primary instance
(`/data/members/age`), used to order calculations and to report references to
fields a form does not have. Positions and predicates are dropped from the
paths, but the paths read inside predicates are reported too. Secondary
instances (`instance('x')/...`) are not part of the primary data and are left
out, as are relative paths evaluated against their nodes. A step that cannot be
named (`*`, `//`, `ancestor::`) stops the path at the part that can, so the
reference is to the enclosing group.
"""

from __future__ import annotations

from forms.xpath import ast
from forms.xpath.parser import parse_ast
from forms.xpath.signatures import CONTEXT_FUNCTIONS, CONTEXT_WHEN_EMPTY, VOLATILE_FUNCTIONS

Location = tuple[str, ...] | None  # name segments from the root element; None: secondary data


def references(tree: ast.Expression, context_path: str) -> set[str]:
    """Absolute name paths `tree` reads from the primary instance when evaluated at context_path."""
    context = _segments(context_path)
    found: set[str] = set()
    _collect(tree, context, context, found)
    return found


def function_names(tree: ast.Expression) -> set[str]:
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.Call)}


def is_constant(tree: ast.Expression) -> bool:
    """True when the value depends on nothing: no paths, no clock, no randomness, no context."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Path | ast.Filter):
            return False
        if isinstance(node, ast.Call) and (
            node.name in VOLATILE_FUNCTIONS
            or node.name in CONTEXT_FUNCTIONS
            or (node.name in CONTEXT_WHEN_EMPTY and not node.args)
        ):
            return False
    return True


def needs_own_context(tree: ast.Expression) -> bool:
    """True when evaluation writes predicate positions or reads the outermost context node.

    Expressions without these can share one read-only context per Env.
    """
    for node in ast.walk(tree):
        if isinstance(node, ast.Filter):
            return True
        if isinstance(node, ast.Path) and any(step.predicates for step in node.steps):
            return True
        if isinstance(node, ast.Call) and node.name in ("current", "once", "jr:choice-name"):
            return True
    return False


def select_path(text: str, context_path: str) -> str:
    """The absolute name path a jr:choice-name() path argument names (' /data/q ', '../q')."""
    tree = parse_ast(text)
    context = _segments(context_path)
    if not isinstance(tree, ast.Path):
        return text.strip()
    locations = _locations(tree, context, context, set())
    return _text(locations[0]) if locations and locations[0] is not None else text.strip()


def _segments(path: str) -> tuple[str, ...]:
    return tuple(part for part in path.strip().split("/") if part)


def _text(location: tuple[str, ...]) -> str:
    return "/" + "/".join(location)


def _collect(node: ast.Expression, context: Location, current: tuple, found: set[str]) -> None:
    """Record the primary-instance reads of `node`, evaluated with `context` as context node."""
    if isinstance(node, ast.Path | ast.Filter) or _is_nodes_call(node):
        for location in _locations(node, context, current, found):
            if location:
                found.add(_text(location))
        return
    if isinstance(node, ast.Neg):
        _collect(node.operand, context, current, found)
    elif isinstance(node, ast.Binary):
        _collect(node.left, context, current, found)
        _collect(node.right, context, current, found)
    elif isinstance(node, ast.Call):
        for arg in node.args:
            _collect(arg, context, current, found)


def _is_nodes_call(node: ast.Expression) -> bool:
    return isinstance(node, ast.Call) and node.name in ("current", "instance")


def _locations(node, context: Location, current: tuple, found: set[str]) -> list[Location]:
    """Where a node-set expression points; reads inside it are added to `found`."""
    if isinstance(node, ast.Call) and node.name == "current":
        return [current]
    if isinstance(node, ast.Call) and node.name == "instance":
        return [None]
    if isinstance(node, ast.Binary) and node.op == "|":
        left = _locations(node.left, context, current, found)
        return left + _locations(node.right, context, current, found)
    if isinstance(node, ast.Filter):
        starts = _locations(node.primary, context, current, found)
        for start in starts:
            for pred in node.predicates:
                _collect(pred, start, current, found)
        return starts
    if isinstance(node, ast.Path):
        if node.base is not None:
            starts = _locations(node.base, context, current, found)
        elif node.absolute:
            starts = [()]
        else:
            starts = [context]
        return [_follow(start, node.steps, current, found) for start in starts]
    _collect(node, context, current, found)  # a value used as a node-set: an evaluation error
    return []


_DOWN = frozenset({"child", "attribute", "descendant", "descendant-or-self", "self"})
_SIDEWAYS = frozenset({"following-sibling", "preceding-sibling"})


def _follow(start: Location, steps, current: tuple, found: set[str]) -> Location:
    location = start
    stopped = False
    for step in steps:
        if location is not None and not stopped:
            moved = _step(location, step)
            if moved is None:
                stopped = True
                location = _enclosing(location, step.axis, current)
            else:
                location = moved
        for pred in step.predicates:
            _collect(pred, location, current, found)
    return location


def _enclosing(location: tuple[str, ...], axis: str, current: tuple) -> tuple[str, ...]:
    """The nearest nameable node whose subtree holds what an unnameable step selects."""
    if axis in _DOWN and location:
        return location
    if axis in _SIDEWAYS and len(location) > 1:
        return location[:-1]
    return location[:1] or current[:1]  # ancestors, following, preceding: the whole instance


def _step(location: tuple[str, ...], step: ast.Step) -> tuple[str, ...] | None:
    """The location after a nameable step, or None when the step cannot be named."""
    if step.axis == "self" and step.test == "node()":
        return location
    if step.axis == "parent" and step.test == "node()":
        return location[:-1]
    if step.axis == "child" and not step.test.endswith(("*", ")")):
        return (*location, step.test.rpartition(":")[2])
    if step.axis == "attribute" and not step.test.endswith(("*", ")")):
        return (*location, "@" + step.test.rpartition(":")[2])
    if step.test == "text()" and step.axis == "child":
        return location
    return None
