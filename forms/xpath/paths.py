"""Compile location paths, steps and predicates into closures over `forms.tree` nodes.

The common ODK path is absolute and made only of child names
(`/data/household/members`): it gets a fast path that follows each node's
child-name index (`Node.named`) instead of scanning child lists. Everything else goes through the
general step evaluator, which keeps XPath's document-order and predicate
position rules.
"""

from __future__ import annotations

from collections.abc import Callable

from forms.tree import NO_NODES, Attr, Node, index_of
from forms.xpath import ast
from forms.xpath.coerce import as_nodes
from forms.xpath.nodes import (
    Document,
    Text,
    axis_nodes,
    document_order,
    string_value,
    text_children,
)
from forms.xpath.registry import Closure, Compiled, Context
from forms.xpath.values import to_boolean

StepFn = Callable[[list, Context], list]
_REVERSE = frozenset({"ancestor", "ancestor-or-self", "preceding", "preceding-sibling"})
_FLAT_KEEPING = frozenset({"child", "attribute", "self"})


def local(name: str) -> str:
    """The local part of a QName: tree nodes keep local names (`orx:meta` is `meta`)."""
    return name.rpartition(":")[2]


def compile_path(path: ast.Path, compile_expr) -> Compiled:
    moves = _simple_moves(path.steps)
    if path.base is None and moves is not None:
        if not path.absolute:
            return _relative_moves(moves), "nodes"
        if moves and moves[0] is not None:
            return _absolute_moves(moves[0], moves[1:]), "nodes"
    base = path.base
    if moves and isinstance(base, ast.Call) and base.name == "current" and not base.args:
        # current()/../name, the key of a look-up inside a repeat: moves from the current node.
        return _current_moves(moves), "nodes"
    start, flat = _start(path, compile_expr)
    # A secondary instance is read-only while a form is evaluated: its predicates may be indexed.
    static = isinstance(path.base, ast.Call) and path.base.name == "instance"
    path_steps = path.steps
    if path.base is None and path.absolute and _plain_child(path_steps[:1]):
        # Skip the document node: the first step can only select the root element.
        start, path_steps = _root_named(local(path_steps[0].test)), path_steps[1:]
    elif static and _literal_instance(path.base) and _plain_child(path_steps[:1]):
        # instance('id')/root/...: the same, with the instance looked up by its literal id.
        first = local(path_steps[0].test)
        start, path_steps = _instance_root(path.base.args[0].value, first), path_steps[1:]
    steps = []
    for step in path_steps:
        steps.append(_compile_step(step, compile_expr, flat, static))
        flat = flat and (step.axis in _FLAT_KEEPING or step.axis == "parent")
    if not steps:
        return start, "nodes"

    def run(n, c):
        nodes = start(n, c)
        for step_fn in steps:
            if not nodes:
                return nodes
            nodes = step_fn(nodes, c)
        return nodes

    return run, "nodes"


def compile_filter(node: ast.Filter, compile_expr) -> Compiled:
    primary = as_nodes(compile_expr(node.primary), "A [condition]")
    preds = [_compile_predicate(p, compile_expr) for p in node.predicates]

    def run(n, c):
        nodes = primary(n, c)
        for pred in preds:
            nodes = pred(nodes, c)
        return nodes

    return run, "nodes"


def _plain_child(steps: tuple[ast.Step, ...]) -> bool:
    return bool(steps) and all(
        s.axis == "child" and not s.predicates and not s.test.endswith(("*", ")")) for s in steps
    )


def _simple_moves(steps: tuple[ast.Step, ...]) -> list[str | None] | None:
    """A path of predicate-free child names, '.' and '..' as moves (None is '..'), else None."""
    moves: list[str | None] = []
    for step in steps:
        if step == ast.SELF:
            continue
        if step == ast.PARENT:
            moves.append(None)
        elif _plain_child((step,)):
            moves.append(local(step.test))
        else:
            return None
    return moves


def _walk(nodes: list, moves: list[str | None]) -> list:
    """Follow child-name and parent moves; sets stay in document order without sorting.

    The result may be a list owned by a node's child-name index: node-sets
    inside the evaluator are read, never changed (`Expr.evaluate` copies).
    """
    for name in moves:
        if name is None:
            parents = [x.parent for x in nodes if x.parent is not None]
            nodes = parents if len(parents) < 2 else list(dict.fromkeys(parents))
        elif len(nodes) == 1:
            nodes = nodes[0].named(name)
        else:
            nodes = [x for p in nodes for x in p.named(name)]
        if not nodes:
            break
    return nodes


def _root_named(name: str) -> Closure:
    def run(n, c):
        root = c.env.root
        return [root] if root.name == name else []

    return run


def _literal_instance(call: ast.Call) -> bool:
    return len(call.args) == 1 and isinstance(call.args[0], ast.Literal)


def _instance_root(instance_id: str, name: str) -> Closure:
    """`instance('id')/name`: the secondary instance's root element if it is called `name`
    (what `fn_instance` and a child step from its document node select, without them)."""

    def run(n, c):
        root = c.env.instances.get(instance_id)
        return [root] if root is not None and root.name == name else []

    return run


def _absolute_moves(first: str, rest: list[str | None]) -> Closure:
    if rest and None not in rest and len(rest) <= 3:
        return _absolute_names(first, rest)

    def run(n, c):
        root = c.env.root
        if root.name != first:
            return []
        return _walk([root], rest) if rest else [root]

    return run


def _absolute_names(first: str, names: list[str]) -> Closure:
    """/first/a, /first/a/b and /first/a/b/c: most ODK references, unrolled.

    Every node on the way is a `Node` below the primary root, so its child-name
    index is read directly (`Node.named` without the call).
    """
    a = names[0]
    if len(names) == 1:

        def one(n, c):
            root = c.env.root
            if root.name != first:
                return NO_NODES
            index = root._index
            if index is None:
                index = root._index = index_of(root.children)
            return index.get(a, NO_NODES)

        return one
    tail = names[1:]
    if len(tail) == 1:
        b = tail[0]

        def two(n, c):
            root = c.env.root
            if root.name != first:
                return NO_NODES
            index = root._index
            if index is None:
                index = root._index = index_of(root.children)
            nodes = index.get(a)
            if nodes is None:
                return NO_NODES
            if len(nodes) != 1:
                return _walk(nodes, tail)
            node = nodes[0]
            index = node._index
            if index is None:
                index = node._index = index_of(node.children)
            return index.get(b, NO_NODES)

        return two

    def run(n, c):
        root = c.env.root
        if root.name != first:
            return NO_NODES
        index = root._index
        if index is None:
            index = root._index = index_of(root.children)
        nodes = index.get(a)
        if nodes is None:
            return NO_NODES
        for i, name in enumerate(tail):
            if len(nodes) != 1:
                return _walk(nodes, tail[i:])
            node = nodes[0]
            index = node._index
            if index is None:
                index = node._index = index_of(node.children)
            nodes = index.get(name)
            if nodes is None:
                return NO_NODES
        return nodes

    return run


def _relative_moves(moves: list[str | None]) -> Closure:
    if not moves:

        def self_node(n, c):
            return [n]

        self_node.is_self = True  # `.`: comparisons read the node itself (compiler)
        return self_node
    if len(moves) == 1 and moves[0] is not None:
        name = moves[0]
        return lambda n, c: n.named(name)
    if len(moves) == 2 and moves[0] is None and moves[1] is not None:
        name = moves[1]  # ../name: a sibling, the usual reference inside a repeat

        def sibling(n, c):
            parent = n.parent
            return parent.named(name) if parent is not None else NO_NODES

        return sibling
    return lambda n, c: _walk([n], moves)


def _current_moves(moves: list[str | None]) -> Closure:
    """Child-name and parent moves from `current()` (see `fn_nodes.build_current`)."""
    if len(moves) == 2 and moves[0] is None and moves[1] is not None:
        name = moves[1]

        def sibling(n, c):
            parent = c.current.parent
            return parent.named(name) if parent is not None else NO_NODES

        return sibling
    return lambda n, c: _walk([c.current], moves)


def _start(path: ast.Path, compile_expr) -> tuple[Closure, bool]:
    """Where the path starts, and whether that node-set is 'flat' (no node inside another)."""
    if path.base is not None:
        base = as_nodes(compile_expr(path.base), "A path after '/'")
        single = isinstance(path.base, ast.Call) and path.base.name in ("instance", "current")
        return base, single
    if path.absolute:
        return (lambda n, c: [Document(c.env.root)]), True
    return (lambda n, c: [n]), True


def _node_test(axis: str, test: str) -> Callable[[object], bool] | None:
    """A predicate on candidate nodes, or None when every candidate passes."""
    if test == "node()":
        return None
    if test == "text()":
        return lambda x: isinstance(x, Text)
    if axis == "attribute":
        if test.endswith("*"):
            return None
        name = local(test)
        return lambda x: x.name == name
    if test.endswith("*"):
        return lambda x: isinstance(x, Node)
    name = local(test)
    return lambda x: isinstance(x, Node) and x.name == name


def _candidates(axis: str, test: str) -> Callable[[object], list]:
    """Nodes along `axis` that pass `test`, with fast versions of the frequent cases."""
    if axis == "child" and test in ("node()", "text()"):
        if test == "text()":
            return text_children
        return lambda x: [*x.children, *text_children(x)]
    if axis == "attribute" and not test.endswith(("*", ")")):
        name = local(test)
        return lambda x: [Attr(x, name)] if isinstance(x, Node) and name in x.attrs else []
    if axis == "child" and not test.endswith(("*", ")")):
        name = local(test)
        return lambda x: x.named(name)
    match = _node_test(axis, test)
    if match is None:
        return lambda x: list(axis_nodes(axis, x))
    return lambda x: [y for y in axis_nodes(axis, x) if match(y)]


def _compile_step(step: ast.Step, compile_expr, flat: bool, static: bool = False) -> StepFn:
    candidates = _candidates(step.axis, step.test)
    preds = [
        (
            (_keyed_predicate(p, compile_expr) or _remembered_predicate(p, compile_expr))
            if static and i == 0
            else None
        )
        or _compile_predicate(p, compile_expr)
        for i, p in enumerate(step.predicates)
    ]
    reverse = step.axis in _REVERSE  # candidates come nearest first: sort them back
    merge = not (flat and step.axis in _FLAT_KEEPING)  # several inputs may interleave

    def run(nodes, c):
        if len(nodes) == 1 and not preds:
            found = candidates(nodes[0])
            return document_order(found) if reverse else found
        out = []
        for x in nodes:
            found = candidates(x)
            for pred in preds:
                found = pred(found, c)
            out.extend(found)
        return document_order(out) if reverse or (merge and len(nodes) > 1) else out

    return run


def _compile_predicate(pred: ast.Expression, compile_expr) -> StepFn:
    """Keep the candidates for which `pred` holds; a number means 'at this position'."""
    if isinstance(pred, ast.Number):
        index = pred.value

        def at_position(nodes, c):
            k = int(index)
            return [nodes[k - 1]] if k == index and 1 <= k <= len(nodes) else []

        return at_position
    fn, kind = compile_expr(pred)

    def keep(nodes, c):
        if not nodes:
            return nodes
        saved = c.pos, c.size
        c.size = len(nodes)
        out = []
        try:
            for i, x in enumerate(nodes, 1):
                c.pos = i
                value = fn(x, c)
                if value == i if type(value) is float else to_boolean(value):
                    out.append(x)
        finally:
            c.pos, c.size = saved
        return out

    if kind == "bool":

        def keep_bool(nodes, c):
            if not nodes:
                return nodes
            saved = c.pos, c.size
            c.size = len(nodes)
            out = []
            try:
                for i, x in enumerate(nodes, 1):
                    c.pos = i
                    if fn(x, c):
                        out.append(x)
            finally:
                c.pos, c.size = saved
            return out

        return keep_bool
    return keep


# Functions whose value depends on the context position, or changes at each call.
_CONTEXTUAL_CALLS = frozenset({"position", "last", "random", "once"})


def _context_free(expr: ast.Expression) -> bool:
    """Whether `expr` has one value for every candidate of a predicate (it never reads `.`).

    Paths must start from the root, `current()` or an instance; position(), last() and
    random() are out.
    """
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and node.name in _CONTEXTUAL_CALLS:
            return False
        if isinstance(node, ast.Path) and not node.absolute:
            base = node.base
            if not (isinstance(base, ast.Call) and base.name in ("current", "instance")):
                return False
    return True


def _keyed_predicate(pred: ast.Expression, compile_expr) -> StepFn | None:
    """`item[name = $value]` on a secondary instance, through an index of `name`'s values.

    The look-up ODK forms make most (`instance('kinds')/root/item[name = ${kind}]/unit`)
    would otherwise compare every item at every evaluation: a visit with four such
    calculates per support repeat spent 70% of its validation there. The index maps each
    item's `name` string-value to the items holding it, in document order; it is kept
    while the candidate list is the same object (`Node.named` returns its index's list,
    replaced on any change of the tree), and used only on secondary instances, which a
    form never changes. Forms that share an expression share its compiled closure (`Expr`
    is cached by its text) but each has its own instance, so an index is kept per candidate
    list: with one, a rebuild alternating registrations and visits built it every time.
    Anything else (a number or boolean to compare, a key read from the item, a position)
    keeps the general predicate.
    """
    if not (isinstance(pred, ast.Binary) and pred.op == "="):
        return None
    for key_side, value_side in ((pred.left, pred.right), (pred.right, pred.left)):
        if _item_field(key_side) and _context_free(value_side):
            break
    else:
        return None
    key = local(key_side.steps[0].test)
    value_fn, value_kind = compile_expr(value_side)
    if value_kind in ("num", "bool"):
        return None  # numbers and booleans compare by XPath's other rules
    lists: dict[int, tuple[list, dict]] = {}  # id(candidates) -> (candidates, index)

    def index_of_keys(nodes: list) -> dict[str, list]:
        entry = lists.get(id(nodes))
        if entry is not None and entry[0] is nodes:
            return entry[1]
        index: dict[str, list] = {}
        for position, x in enumerate(nodes):
            seen = set()
            for k in x.named(key):
                text = string_value(k)
                if text not in seen:
                    seen.add(text)
                    index.setdefault(text, []).append(position)
        if len(lists) >= 16:  # forms loaded since: forget the older lists
            lists.clear()
        lists[id(nodes)] = (nodes, index)
        return index

    def keyed(nodes, c):
        if not nodes:
            return nodes
        value = value_fn(nodes[0], c)
        if type(value) is str:
            return [nodes[i] for i in index_of_keys(nodes).get(value, ())]
        if type(value) is list:
            index = index_of_keys(nodes)
            if len(value) == 1:  # the usual `${field}`: one node, its items already in order
                return [nodes[i] for i in index.get(string_value(value[0]), ())]
            positions = sorted({i for v in value for i in index.get(string_value(v), ())})
            return [nodes[i] for i in positions]
        return slow(nodes, c)  # a number or boolean at run time

    slow = _compile_predicate(pred, compile_expr)
    return keyed


_COMPARISONS = frozenset({"=", "!=", "<", "<=", ">", ">="})


def _item_field(side: ast.Expression) -> bool:
    """A child of the candidate item, by name (`area` in `item[area = ${area}]`)."""
    return (
        isinstance(side, ast.Path)
        and side.base is None
        and not side.absolute
        and len(side.steps) == 1
        and side.steps[0].axis == "child"
        and not side.steps[0].predicates
        and not side.steps[0].test.endswith(("*", ")"))
    )


def _outer_value(side: ast.Expression) -> bool:
    """A literal, or a path that never reads the candidate and calls nothing but its start
    (`/data/area`, `current()/../day`, `instance('x')/...`): its value is the same for every
    item, and the same when evaluated twice."""
    if isinstance(side, ast.Literal | ast.Number):
        return True
    if not (isinstance(side, ast.Path) and _context_free(side)):
        return False
    if any(isinstance(node, ast.Call) and node is not side.base for node in ast.walk(side)):
        return False
    base = side.base  # None, current() or instance(...): an instance named by a literal only
    return not isinstance(base, ast.Call) or all(isinstance(a, ast.Literal) for a in base.args)


def _comparisons(pred: ast.Expression) -> list[ast.Binary] | None:
    """The comparisons of a predicate made only of `and`ed comparisons, each between a field
    of the item and an outer value; None for any other predicate."""
    if isinstance(pred, ast.Binary) and pred.op == "and":
        left, right = _comparisons(pred.left), _comparisons(pred.right)
        return None if left is None or right is None else left + right
    if not (isinstance(pred, ast.Binary) and pred.op in _COMPARISONS):
        return None
    if _item_field(pred.left) and _outer_value(pred.right):
        return [pred]
    return [pred] if _item_field(pred.right) and _outer_value(pred.left) else None


def _remembered_predicate(pred: ast.Expression, compile_expr) -> StepFn | None:
    """`item[area = ${area} and from_day <= ${day} and to_day >= ${day}]` on a secondary
    instance, remembered by the outer values it compares with.

    Each comparison is between a field of the item and a value the same for every item
    (`_comparisons`), and a secondary instance never changes while a form is evaluated: so
    which items it keeps depends only on the string-values of those outer values (XPath
    compares node-sets by them). The general predicate runs once per distinct set of outer
    values and candidate list, and its answer is kept (a few hundred at most per list). The
    shipped forms look up the poverty line in force this way for every assessment, which
    compared each row of `poverty_lines` three times per submission: a tenth of the
    household rebuild's CPU.
    """
    found = _comparisons(pred)
    if not found:
        return None
    outer = [
        compile_expr(side)[0]
        for comparison in found
        for side in (comparison.left, comparison.right)
        if not _item_field(side) and not isinstance(side, ast.Literal | ast.Number)
    ]
    if not outer:
        return None  # constants only: the general predicate is as quick
    general = _compile_predicate(pred, compile_expr)
    lists: dict[int, tuple[list, dict]] = {}  # id(candidates) -> (candidates, answers)

    def remembered(nodes, c):
        if not nodes:
            return nodes
        key = []
        for fn in outer:
            value = fn(nodes[0], c)
            key.append(tuple(string_value(v) for v in value) if type(value) is list else value)
        key = tuple(key)
        entry = lists.get(id(nodes))
        if entry is None or entry[0] is not nodes:
            if len(lists) >= 16:
                lists.clear()
            entry = lists[id(nodes)] = (nodes, {})
        answers = entry[1]
        positions = answers.get(key)
        if positions is None:
            kept = {id(x) for x in general(nodes, c)}
            positions = [i for i, x in enumerate(nodes) if id(x) in kept]
            if len(answers) >= 512:
                answers.clear()
            answers[key] = positions
        return [nodes[i] for i in positions]

    return remembered
