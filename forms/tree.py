"""The instance tree: the one in-memory shape of XForm data.

Primary instances (a submission's answers), secondary instances (choice lists,
the households entity list) and form templates are all trees of `Node`. The
XPath evaluator walks them; `forms.instance` converts them to and from XML and
to and from the JSON answers used by the sync API.

Kept deliberately small (slots, plain lists) because validation walks a tree
per submission thousands of times a second. Each node also keeps an index of
its children by name (`Node.named`), which XPath path steps read instead of
scanning child lists; every change to `children` goes through the node's
methods (`append`, `insert`, `remove`, `replace`, `set_children`) so that
the index is never stale. Code that builds new nodes in bulk (the XML parser,
`copy`, the JSON reader) fills fresh lists directly: a new node has no index.
"""

from __future__ import annotations

from collections.abc import Iterator


class Node:
    """An element: a local name, text (leaves), attributes and child elements.

    `children` is for reading. Change it only through `append`, `insert`,
    `remove`, `replace` and `set_children`: they keep `parent` links and the
    child-name index right. The index (`named`) maps each child name to its
    children of that name, in document order; it is built on first use and
    dropped by every change, so a tree that is only parsed and written never
    pays for it, and one that is evaluated many times pays once.
    """

    __slots__ = ("_index", "attrs", "children", "name", "parent", "text")

    def __init__(
        self,
        name: str,
        text: str = "",
        attrs: dict[str, str] | None = None,
        children: list[Node] | None = None,
    ) -> None:
        self.name = name
        self.text = text
        self.attrs: dict[str, str] = attrs if attrs is not None else {}
        self.children: list[Node] = []
        self.parent: Node | None = None
        self._index: dict[str, list[Node]] | None = None
        for child in children or ():
            self.append(child)

    @classmethod
    def detached(cls, name: str, parent: Node | None) -> Node:
        """An empty element that knows `parent` while `parent` does not list it.

        Validation uses these as stand-ins for elements a submission lacks, so
        that relative paths resolve from them while expressions still see the
        element as absent.
        """
        node = cls.__new__(cls)
        node.name, node.text, node.attrs, node.children = name, "", {}, []
        node.parent, node._index = parent, None
        return node

    # -- changing the children (the only ways to) ---------------------------------

    def append(self, child: Node) -> Node:
        child.parent = self
        self.children.append(child)
        self._index = None
        return child

    def insert(self, index: int, child: Node) -> Node:
        """Put `child` at position `index` among the children (list.insert semantics)."""
        child.parent = self
        self.children.insert(index, child)
        self._index = None
        return child

    def remove(self, child: Node) -> None:
        """Take `child` (this very node, not an equal one) out of the children."""
        self.children.remove(child)  # Node has no __eq__: this is by identity
        child.parent = None
        self._index = None

    def replace(self, old: Node, new: Node) -> Node:
        """Put `new` where the child `old` is."""
        children = self.children
        children[children.index(old)] = new  # by identity, as in remove()
        old.parent = None
        new.parent = self
        self._index = None
        return new

    def set_children(self, children: list[Node]) -> None:
        """Make `children` (in that order) the children of this node."""
        kept = list(children)
        for child in kept:
            child.parent = self
        self.children = kept
        self._index = None

    def release(self) -> None:
        """Unlink the whole tree below this node from its parents, once nobody reads it again.

        Parent links make every tree a reference cycle, which only CPython's
        cyclic collector frees: ingest leaves ~250 such objects per submission,
        and collecting them cost a quarter of a JSON push's CPU. Without the
        upward links, reference counting frees the tree as soon as the last
        reference goes. The tree stays readable downwards (`path()` and
        relative XPath no longer work on it).
        """
        stack = [self]
        while stack:
            node = stack.pop()
            node.parent = node._index = None
            stack.extend(node.children)

    # -- reading -------------------------------------------------------------------

    def named(self, name: str) -> list[Node]:
        """The children called `name`, in document order, through the child-name index.

        The list returned belongs to the index: read it, never change it.
        """
        index = self._index
        if index is None:
            index = self._index = index_of(self.children)
        return index.get(name, NO_NODES)

    def child(self, name: str) -> Node | None:
        """The first child element called `name`, or None."""
        index = self._index
        if index is not None:
            found = index.get(name)
            return found[0] if found else None
        for c in self.children:
            if c.name == name:
                return c
        return None

    def children_named(self, name: str) -> list[Node]:
        return list(self.named(name))

    def find(self, relpath: str) -> Node | None:
        """Follow a slash-separated relative path of child names (first match each step)."""
        node: Node | None = self
        for step in relpath.strip("/").split("/"):
            if not step or node is None:
                continue
            node = node.child(step)
        return node

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def string_value(self) -> str:
        """XPath string-value: the text of a leaf, the concatenated text below otherwise."""
        if not self.children:
            return self.text
        return "".join(d.text for d in self.iter() if not d.children)

    def iter(self) -> Iterator[Node]:
        """This node and every descendant, in document order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    def path(self) -> str:
        """Absolute path by names, without positions: /data/group/question."""
        names = []
        node: Node | None = self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "/" + "/".join(reversed(names))

    def indexed_path(self) -> str:
        """Absolute path with 1-based positions on repeated siblings: /data/m[2]/name."""
        parts = []
        node: Node | None = self
        while node is not None:
            part = node.name
            parent = node.parent
            if parent is not None:
                same = [c for c in parent.children if c.name == node.name]
                if len(same) > 1:
                    part += f"[{same.index(node) + 1}]"
            parts.append(part)
            node = parent
        return "/" + "/".join(reversed(parts))

    def copy(self) -> Node:
        """A deep copy (without the parent): built without recursion or `__init__`."""
        new = Node.__new__
        clone = new(Node)
        clone.name, clone.text, clone.attrs = self.name, self.text, dict(self.attrs)
        clone.children, clone.parent, clone._index = [], None, None
        stack = [(self, clone)]
        while stack:
            source, target = stack.pop()
            kids = target.children
            for child in source.children:
                node = new(Node)
                node.name, node.text, node.parent, node.children = (
                    child.name, child.text, target, [],
                )  # fmt: skip
                node.attrs = dict(child.attrs) if child.attrs else {}
                node._index = None
                kids.append(node)
                if child.children:
                    stack.append((child, node))
        return clone

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        if self.children:
            return f"<Node {self.name} ({len(self.children)} children)>"
        return f"<Node {self.name}={self.text!r}>"


NO_NODES: list[Node] = []  # what `named` gives for an absent name: shared, never changed


def index_of(children: list[Node]) -> dict[str, list[Node]]:
    """Children by name, each name's in document order: what `Node.named` reads."""
    index: dict[str, list[Node]] = {}
    for c in children:
        same = index.get(c.name)
        if same is None:
            index[c.name] = [c]
        else:
            same.append(c)
    return index


class Attr:
    """An attribute seen as an XPath node (for `meta/entity/@id` and similar)."""

    __slots__ = ("name", "parent")

    def __init__(self, parent: Node, name: str) -> None:
        self.parent = parent
        self.name = name

    @property
    def text(self) -> str:
        return self.parent.attrs.get(self.name, "")

    @text.setter
    def text(self, value: str) -> None:
        self.parent.attrs[self.name] = value

    children: tuple = ()

    def named(self, name: str) -> list:
        return NO_NODES

    def string_value(self) -> str:
        return self.text

    def path(self) -> str:
        return f"{self.parent.path()}/@{self.name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Attr) and other.parent is self.parent and other.name == self.name

    def __hash__(self) -> int:
        return hash((id(self.parent), self.name))
