"""XPath's view of a `forms.tree` instance: the document node, text nodes, axes, document order.

`forms.tree.Node` has no document node above the root element and keeps a
leaf's text as a string, while XPath needs both (`/` and `text()`). The
wrappers here stand in for them without touching the shared tree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from forms.tree import Attr, Node


class Document:
    """The XPath root node above an instance's root element (`/`, `instance('x')`)."""

    __slots__ = ("children",)
    name = ""
    text = ""
    parent = None
    attrs: dict[str, str] = {}  # noqa: RUF012 - shared empty mapping, never written

    def __init__(self, root: Node) -> None:
        self.children = [root]

    def named(self, name: str) -> list:
        """The root element if it is called `name` (see `Node.named`)."""
        root = self.children[0]
        return self.children if root.name == name else []

    def string_value(self) -> str:
        return self.children[0].string_value()

    def iter(self) -> Iterator:
        yield self
        yield from self.children[0].iter()

    def path(self) -> str:
        return "/"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Document) and other.children[0] is self.children[0]

    def __hash__(self) -> int:
        return hash(("doc", id(self.children[0])))


class Text:
    """The text node of a leaf element, for `text()` steps."""

    __slots__ = ("parent",)
    name = ""
    children = ()
    attrs: dict[str, str] = {}  # noqa: RUF012 - shared empty mapping, never written

    def __init__(self, parent: Node) -> None:
        self.parent = parent

    def named(self, name: str) -> list:
        return []

    @property
    def text(self) -> str:
        return self.parent.text

    def string_value(self) -> str:
        return self.parent.text

    def path(self) -> str:
        return self.parent.path() + "/text()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Text) and other.parent is self.parent

    def __hash__(self) -> int:
        return hash(("text", id(self.parent)))


XNode = Node | Attr | Document | Text


def string_value(node: XNode) -> str:
    """XPath string-value: a leaf's text without a method call in the common case."""
    return node.text if not node.children else node.string_value()


def text_children(node: XNode) -> list[Text]:
    return [Text(node)] if isinstance(node, Node) and not node.children and node.text else []


def attributes(node: XNode) -> list[Attr]:
    return [Attr(node, name) for name in node.attrs] if isinstance(node, Node) else []


def _ancestors(node: XNode) -> Iterator[XNode]:
    parent = node.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def _siblings(node: XNode) -> tuple[list, int]:
    parent = node.parent
    if parent is None or not isinstance(node, Node):
        return [], -1
    kids = parent.children
    return kids, next(i for i, c in enumerate(kids) if c is node)


def _top(node: XNode) -> XNode:
    while node.parent is not None:
        node = node.parent
    return node


def axis_nodes(axis: str, node: XNode) -> Iterable[XNode]:
    """Nodes on `axis` from `node`, in axis order (nearest first on reverse axes)."""
    if axis == "child":
        return node.children
    if axis == "attribute":
        return attributes(node)
    if axis == "self":
        return (node,)
    if axis == "parent":
        return (node.parent,) if node.parent is not None else ()
    if axis == "descendant-or-self":
        return list(node.iter()) if hasattr(node, "iter") else [node]
    if axis == "descendant":
        return list(node.iter())[1:] if hasattr(node, "iter") else []
    if axis == "ancestor":
        return list(_ancestors(node))
    if axis == "ancestor-or-self":
        return [node, *_ancestors(node)]
    if axis in ("following-sibling", "preceding-sibling"):
        kids, index = _siblings(node)
        if index < 0:
            return []
        return kids[index + 1 :] if axis == "following-sibling" else kids[:index][::-1]
    if axis in ("following", "preceding"):
        return _following_or_preceding(axis, node)
    raise ValueError(axis)


def _following_or_preceding(axis: str, node: XNode) -> list[XNode]:
    """Document-order neighbours excluding ancestors and descendants (rare; linear scan)."""
    top = _top(node)
    everything = list(top.iter()) if hasattr(top, "iter") else [top]
    anchor = node.parent if isinstance(node, Attr | Text) else node
    index = next(i for i, n in enumerate(everything) if n is anchor)
    if axis == "following":
        inside = {id(n) for n in (anchor.iter() if hasattr(anchor, "iter") else [anchor])}
        return [n for n in everything[index + 1 :] if id(n) not in inside]
    above = {id(n) for n in _ancestors(anchor)}
    return [n for n in everything[:index][::-1] if id(n) not in above]


def document_order(nodes: Iterable[XNode]) -> list[XNode]:
    """Distinct nodes sorted in document order (needed after unions and non-child axes)."""
    unique = list(dict.fromkeys(nodes))  # Node hashes by identity, Attr/Text/Document by position
    if len(unique) < 2:
        return unique
    return sorted(unique, key=_order_key)


def _order_key(node: XNode) -> tuple:
    key: list = []
    while True:
        if isinstance(node, Attr):
            key.append((-2, list(node.parent.attrs).index(node.name)))
        elif isinstance(node, Text):
            key.append((-1, 0))
        elif node.parent is not None:
            siblings = node.parent.children
            key.append((next(i for i, c in enumerate(siblings) if c is node), 0))
        else:
            # Separate trees (primary and secondary instances) sort apart, consistently.
            root = node.children[0] if isinstance(node, Document) else node
            key.append((id(root), 1 if isinstance(node, Document) else 2))
            return tuple(reversed(key))
        node = node.parent
