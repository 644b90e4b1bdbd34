"""Node-set functions: count, position, last, instance, current, randomize, indexed-repeat...

`position()` outside a predicate returns the context node's position among
same-named siblings, as JavaRosa does (`position(refAt.getMultLast())`), which
is how forms number repeat instances. `indexed-repeat` and `randomize` follow
getodk/web-forms, which states its compatibility with JavaRosa.
"""

from __future__ import annotations

import hashlib
import math
import random

from forms.tree import Node
from forms.xpath.coerce import as_nodes, as_num, not_nodes
from forms.xpath.nodes import Document, string_value
from forms.xpath.registry import builder, function
from forms.xpath.values import NAN, to_number, to_string


def _nodes(value, what: str) -> list:
    if not isinstance(value, list):
        raise not_nodes(what, value)
    return value


def sibling_position(node) -> float:
    """1-based position of `node` among its parent's children of the same name."""
    parent = node.parent
    if parent is None or not isinstance(node, Node):
        return 1.0
    k = 0
    for child in parent.children:
        if child.name == node.name:
            k += 1
        if child is node:
            break
    return float(k)


@function("count")
def fn_count(n, c, nodes):
    return float(len(_nodes(nodes, "count()")))


@function("count-non-empty")
def fn_count_non_empty(n, c, nodes):
    return float(sum(1 for x in _nodes(nodes, "count-non-empty()") if string_value(x) != ""))


@function("position")
def fn_position(n, c, nodes=None):
    if nodes is None:
        return float(c.pos) if c.pos else sibling_position(n)
    nodes = _nodes(nodes, "position()")
    return sibling_position(nodes[0]) if nodes else NAN


@function("last")
def fn_last(n, c):
    return float(c.size) if c.pos else 1.0


@builder("current")
def build_current(call, args):
    return (lambda n, c: [c.current]), "nodes"


@function("instance")
def fn_instance(n, c, instance_id):
    """The secondary instance's document node: instance('x')/root/item starts at its root."""
    root = c.env.instances.get(to_string(instance_id))
    return [Document(root)] if root is not None else []


@function("pulldata")
def fn_pulldata(n, c, instance_id, wanted, key, value):
    """Shortcut for instance(id)/root/item[key = value]/wanted (ODK XForms spec)."""
    root = c.env.instances.get(to_string(instance_id))
    if root is None:
        return ""
    wanted, key, value = to_string(wanted), to_string(key), to_string(value)
    for item in root.children:
        if any(k.name == key and string_value(k) == value for k in item.children):
            found = item.child(wanted)
            return string_value(found) if found is not None else ""
    return ""


_MAX_INT32 = 2_147_483_647


def _seed(value, tz) -> int:
    """The Park-Miller seed JavaRosa derives: Java's Double.longValue(), or a hash of text.

    NaN becomes 0 and infinities the long limits (getodk/web-forms#49);
    non-numeric text is hashed with SHA-256, first 8 bytes as a signed long
    (getodk/javarosa#800).
    """
    x = to_number(value, tz)
    if x != x and not isinstance(value, float):
        text = to_string(value)
        if text == "":
            return 0
        return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], signed=True)
    if x != x:
        return 0
    if math.isinf(x):
        return 2**63 - 1 if x > 0 else -(2**63)
    return int(x)


def _park_miller(seed: int):
    state = abs(seed) % _MAX_INT32 * (1 if seed >= 0 else -1)  # JavaScript/Java remainder
    if state <= 0:
        state += _MAX_INT32 - 1

    def next_float() -> float:
        nonlocal state
        state = state * 16807 % _MAX_INT32
        return (state - 1) / (_MAX_INT32 - 1)

    return next_float


@function("randomize")
def fn_randomize(n, c, nodes, seed=None):
    """Inside-out Fisher-Yates shuffle; with a seed the order is reproducible on every client."""
    nodes = _nodes(nodes, "randomize()")
    rng = random.random if seed is None else _park_miller(_seed(seed, c.tz))
    out: list = [None] * len(nodes)
    for i, node in enumerate(nodes):
        j = math.floor(rng() * (i + 1))
        if j != i:
            out[i] = out[j]
        out[j] = node
    return out


def _inside(node, container) -> bool:
    while node is not None:
        if node is container:
            return True
        node = node.parent
    return False


def _depth(nodes: list) -> int:
    if not nodes:
        return 0
    depth, node = 0, nodes[0]
    while node.parent is not None:
        depth, node = depth + 1, node.parent
    return depth


@builder("indexed-repeat")
def build_indexed_repeat(call, args):
    """indexed-repeat(target, repeat1, index1, ...): the target inside the chosen repeat instances.

    Indexes are 1-based; an index below 1 or NaN selects the first instance,
    as JavaRosa's indexedRepeat() does; an index past the end selects nothing.
    """
    target = as_nodes(args[0], "indexed-repeat()")
    pairs = [
        (as_nodes(args[i], "indexed-repeat()"), as_num(args[i + 1])) for i in range(1, len(args), 2)
    ]

    def run(n, c):
        chosen = []
        for repeats_fn, index_fn in pairs:
            chosen.append((repeats_fn(n, c), index_fn(n, c)))
        chosen.sort(key=lambda pair: _depth(pair[0]))
        container = None
        for repeats, index in chosen:
            if container is not None:
                repeats = [r for r in repeats if _inside(r, container)]
            k = 1 if index != index or index < 1 else index
            if k > len(repeats):
                return []
            container = repeats[int(k) - 1]
        return [x for x in target(n, c) if _inside(x, container)]

    return run, "nodes"
