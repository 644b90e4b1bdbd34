"""The instance tree: the one in-memory shape of XForm data.

Primary instances (a submission's answers), secondary instances (choice lists,
the households entity list) and form templates are all trees of `Node`. The
XPath evaluator walks them; `forms.instance` converts them to and from XML and
to and from the JSON answers used by the sync API.

Kept deliberately small (slots, plain lists) because validation walks a tree
per submission thousands of times a second.
"""

from __future__ import annotations

from collections.abc import Iterator


class Node:
    """An element: a local name, text (leaves), attributes and child elements."""

    __slots__ = ("attrs", "children", "name", "parent", "text")

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
        for child in children or ():
            self.append(child)

    def append(self, child: Node) -> Node:
        child.parent = self
        self.children.append(child)
        return child

    def child(self, name: str) -> Node | None:
        """The first child element called `name`, or None."""
        for c in self.children:
            if c.name == name:
                return c
        return None

    def children_named(self, name: str) -> list[Node]:
        return [c for c in self.children if c.name == name]

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
        clone = Node(self.name, self.text, dict(self.attrs))
        for c in self.children:
            clone.append(c.copy())
        return clone

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        if self.children:
            return f"<Node {self.name} ({len(self.children)} children)>"
        return f"<Node {self.name}={self.text!r}>"


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

    def string_value(self) -> str:
        return self.text

    def path(self) -> str:
        return f"{self.parent.path()}/@{self.name}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Attr) and other.parent is self.parent and other.name == self.name

    def __hash__(self) -> int:
        return hash((id(self.parent), self.name))
