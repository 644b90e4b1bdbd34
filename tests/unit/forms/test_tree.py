"""The instance tree's one mutation API keeps its child-name index right.

Path steps read `Node.named` (the index) instead of scanning child lists, and
validation builds the index while it binds a submission. A stale index would
make an expression miss an answer or see a removed one, so these tests change
trees through every mutation method and compare the index with the children.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from forms.instance import parse_submission
from forms.load import load_form
from forms.tree import Node
from forms.validation import validate
from forms.xpath import Env, parse

ROOT = Path(__file__).resolve().parents[3]
NAMES = ("a", "b", "c")


def assert_index_right(node: Node) -> None:
    for n in node.iter():
        for name in (*NAMES, "absent"):
            expected = [c for c in n.children if c.name == name]
            assert n.named(name) == expected
            assert n.child(name) is (expected[0] if expected else None)
        assert all(c.parent is n for c in n.children)


operations = st.lists(
    st.tuples(
        st.sampled_from(("append", "insert", "remove", "replace", "set_children", "read")),
        st.sampled_from(NAMES),
        st.integers(min_value=0, max_value=8),
    ),
    max_size=30,
)


@given(operations)
@settings(max_examples=200, deadline=None)
def test_every_mutation_keeps_the_child_name_index_right(ops):
    root = Node("data", children=[Node("a"), Node("b")])
    for op, name, k in ops:
        kids = root.children
        if op == "append":
            root.append(Node(name))
        elif op == "insert":
            root.insert(k, Node(name))
        elif op == "remove" and kids:
            root.remove(kids[k % len(kids)])
        elif op == "replace" and kids:
            root.replace(kids[k % len(kids)], Node(name))
        elif op == "set_children":
            root.set_children([*kids[k % 3 :], Node(name)])
        root.named(name)  # build the index between changes, as evaluation does
        assert_index_right(root)


def test_removed_and_replaced_nodes_lose_their_parent():
    a, b, c = Node("a"), Node("b"), Node("c")
    root = Node("data", children=[a, b])
    root.remove(a)
    root.replace(b, c)
    assert a.parent is None and b.parent is None and c.parent is root
    assert root.children == [c]


def test_paths_see_every_change_made_through_the_api():
    root = Node("data", children=[Node("g", children=[Node("q", "1")])])
    env = Env(root=root)
    count = parse("count(/data/g/q)")
    assert count.eval_number(root, env) == 1
    group = root.child("g")
    group.append(Node("q", "2"))
    assert count.eval_number(root, env) == 2
    group.remove(group.children[0])
    assert parse("/data/g/q").eval_string(root, env) == "2"
    group.replace(group.children[0], Node("r", "3"))
    assert count.eval_number(root, env) == 0
    group.insert(0, Node("q", "4"))
    assert parse("/data/g/q").eval_string(root, env) == "4"
    group.set_children([])
    assert count.eval_number(root, env) == 0


def test_evaluate_gives_the_caller_a_node_set_of_its_own():
    root = Node("data", children=[Node("q", "1"), Node("q", "2")])
    env = Env(root=root)
    found = parse("/data/q").evaluate(root, env)
    found.clear()
    assert [n.text for n in parse("/data/q").evaluate(root, env)] == ["1", "2"]


def test_a_tree_changed_after_validation_is_validated_as_changed():
    """Validation builds the index while binding; a later change must still be seen."""
    form = load_form(ROOT / "forms" / "library" / "household_visit.xlsx")
    root = Node(form.root_name, attrs={"id": form.form_id, "version": form.version})
    now = datetime(2026, 11, 22, 9, 0)
    first = validate(form, root, now=now)
    assert any(i.code == "required" and i.path.endswith("/hh_size") for i in first.issues)
    visited = root.child("visited") or root.append(Node("visited"))
    visited.append(Node("hh_size", "0"))
    second = validate(form, root, now=now)
    assert not any(i.code == "required" and i.path.endswith("/hh_size") for i in second.issues)
    assert any(i.code == "constraint" and i.path.endswith("/hh_size") for i in second.issues)
    visited.remove(visited.child("hh_size"))
    third = validate(form, root, now=now)
    assert [i.to_dict() for i in third.issues] == [i.to_dict() for i in first.issues]


def test_validation_leaves_a_parsed_tree_and_its_index_as_given():
    form = load_form(ROOT / "forms" / "library" / "household_visit.xlsx")
    xml = (
        f'<data id="{form.form_id}" version="{form.version}"><visited><area>urban</area>'
        "<hh_size>3</hh_size></visited><result/></data>"
    ).encode()
    root = parse_submission(xml).root
    before = [(n.name, n.text, len(n.children)) for n in root.iter()]
    validate(form, root, now=datetime(2026, 11, 22, 9, 0))
    assert [(n.name, n.text, len(n.children)) for n in root.iter()] == before
    assert_index_right(root)


# Receivers of `.children` that are not `Node`s (form fields and validation plans).
_NOT_NODES = re.compile(r"\b(f|plan)\.children\.")
_DIRECT = re.compile(
    r"\.children\.(append|insert|remove|extend|pop|clear|sort|reverse)\("
    r"|\.children\s*(\+=|=(?!=))|\.children\[[^\]]*\]\s*=(?!=)"
)


def test_only_the_tree_api_changes_the_children_of_a_node():
    """Changing `children` directly would leave the child-name index stale."""
    offenders = []
    for package in ("forms", "server", "sync"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.name == "tree.py" and path.parent.name == "forms":
                continue  # the API itself
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if "no index to keep yet" in line or _NOT_NODES.search(code):
                    continue  # a node being built, or not a Node
                if _DIRECT.search(code) and "self.children = [root]" not in code:
                    offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []
