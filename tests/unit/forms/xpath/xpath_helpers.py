"""Build `forms.tree` instances from XML text and find nodes by indexed path, for the tests."""

from __future__ import annotations

import re
from datetime import datetime

from defusedxml import ElementTree

from forms.tree import Node
from forms.xpath import Env
from forms.xpath.dates import VN_TZ

FIXED_NOW = datetime(2024, 3, 15, 10, 30, 45, 123000, tzinfo=VN_TZ)


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def tree(xml: str) -> Node:
    """A Node tree: local names, leaf text kept as is, whitespace between elements dropped."""

    def convert(element) -> Node:
        attrs = {_local(k): v for k, v in element.attrib.items()}
        node = Node(_local(element.tag), "" if len(element) else (element.text or ""), attrs)
        for child in element:
            node.append(convert(child))
        return node

    return convert(ElementTree.fromstring(xml.strip()))


def find(root: Node, indexed_path: str) -> Node:
    """The node at '/data/members[2]/age' (1-based positions among same-named siblings)."""
    parts = [p for p in indexed_path.split("/") if p]
    assert parts[0] == root.name, indexed_path
    node = root
    for part in parts[1:]:
        m = re.fullmatch(r"(.+?)(?:\[(\d+)\])?", part)
        matches = node.children_named(m[1])
        node = matches[int(m[2] or 1) - 1]
    return node


def make_env(root: Node, instances: dict[str, Node] | None = None, labels=None) -> Env:
    labels = labels or {}
    return Env(
        root=root,
        instances=instances or {},
        now=FIXED_NOW,
        tz=VN_TZ,
        choice_name=lambda value, path: labels.get((path, value), ""),
        uuid=lambda: "11111111-2222-4333-8444-555555555555",
    )
