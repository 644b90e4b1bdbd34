"""Look-ups in a secondary instance (`item[name = ${x}]`) go through an index: same answers.

`forms.xpath.paths._keyed_predicate` answers `instance('s')/root/item[name = value]` from an
index of the items' `name` values instead of comparing every item. These tests compare it,
for any instance and any value, with the general predicate (`... and true()` is not indexed),
so an index that drops, adds or reorders an item fails here.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from forms.tree import Node
from forms.xpath import Context, parse
from tests.unit.forms.xpath.xpath_helpers import make_env

KEYS = st.sampled_from(["rice", "cow", "", "Rice", "1", "01", "bò", "rice "])


def secondary(items: list[list[str]]) -> Node:
    root = Node("root")
    for position, names in enumerate(items):
        item = Node("item")
        for name in names:
            item.append(Node("name", name))
        item.append(Node("unit", f"u{position}"))
        root.append(item)
    return root


def primary(values: list[str]) -> Node:
    data = Node("data")
    for value in values:
        data.append(Node("k", value))
    data.append(Node("n", "1"))
    return data


def units(source: str, data: Node, env) -> list[str]:
    return [n.text for n in parse(source).evaluate(data, env)]


@settings(max_examples=300, deadline=None)
@given(
    items=st.lists(st.lists(KEYS, max_size=2), max_size=8),
    values=st.lists(KEYS, min_size=1, max_size=3),
    other=KEYS,
)
def test_an_indexed_look_up_finds_what_comparing_every_item_finds(items, values, other):
    instance = secondary(items)
    data = primary(values)
    env = make_env(data, {"s": instance})
    for value_expr in ("/data/k", "/data/k[1]", "string(/data/k)", "current()/k", "'cow'"):
        indexed = f"instance('s')/root/item[name = {value_expr}]/unit"
        general = f"instance('s')/root/item[name = {value_expr} and true()]/unit"
        assert units(indexed, data, env) == units(general, data, env), value_expr
        reversed_ = f"instance('s')/root/item[{value_expr} = name]/unit"
        assert units(reversed_, data, env) == units(general, data, env), value_expr
    # The same compiled expression, evaluated again after the answer changed, reads it afresh.
    expr = parse("instance('s')/root/item[name = /data/k[1]]/unit")
    before = [n.text for n in expr.evaluate(data, env)]
    data.find("k").text = other
    after = [n.text for n in expr.evaluate(data, env)]
    general = parse("instance('s')/root/item[name = /data/k[1] and true()]/unit")
    assert after == [n.text for n in general.evaluate(data, env)]
    assert before == [f"u{i}" for i, names in enumerate(items) if values[0] in names]


def test_numbers_compare_as_numbers_and_positions_stay_positions():
    instance = secondary([["1"], ["01"], ["2"]])
    data = primary(["x"])
    env = make_env(data, {"s": instance})
    # A number compares each name as a number: '1' and '01' both equal 1.
    assert units("instance('s')/root/item[name = /data/n * 1]/unit", data, env) == ["u0", "u1"]
    assert units("instance('s')/root/item[name = number(/data/n)]/unit", data, env) == [
        "u0",
        "u1",
    ]
    # Text compares as text: only '1'.
    assert units("instance('s')/root/item[name = /data/n]/unit", data, env) == ["u0"]
    assert units("instance('s')/root/item[name = position()]/unit", data, env) == ["u0"]


def test_one_expression_reads_each_forms_own_instance():
    """parse() caches compiled expressions: two forms' instances must not share an index."""
    data = primary(["rice"])
    first = make_env(data, {"s": secondary([["rice"], ["cow"]])})
    second = make_env(data, {"s": secondary([["cow"], ["cow"], ["rice"]])})
    source = "instance('s')/root/item[name = /data/k]/unit"
    assert units(source, data, first) == ["u0"]
    assert units(source, data, second) == ["u2"]
    assert units(source, data, first) == ["u0"]


def test_forms_taking_turns_keep_each_ones_index(monkeypatch):
    """A rebuild reads registrations and visits in turn, and the two forms share the compiled
    look-up: each form's instance is indexed once, not again at every turn."""
    from forms.xpath import paths

    data = primary(["rice"])
    first = make_env(data, {"s": secondary([["rice"], ["cow"]])})
    second = make_env(data, {"s": secondary([["cow"], ["cow"], ["rice"]])})
    source = "instance('s')/root/item[name = string(/data/k)]/unit"
    assert units(source, data, first) == ["u0"] and units(source, data, second) == ["u2"]
    read: list[object] = []
    monkeypatch.setattr(paths, "string_value", lambda n: read.append(n) or n.text)
    for _turn in range(3):
        assert units(source, data, first) == ["u0"]
        assert units(source, data, second) == ["u2"]
    assert read == []  # no item's name was read again


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(st.lists(KEYS, max_size=2), max_size=4),
    instance_id=st.sampled_from(["s", "missing"]),
    first=st.sampled_from(["root", "item", "other"]),
)
def test_an_instance_path_starts_where_the_document_node_would_lead(items, instance_id, first):
    """`instance('id')/root/...` starts at the instance's root element without its document
    node; `self::node()` first keeps the general route: both select the same nodes."""
    data = primary(["cow"])
    env = make_env(data, {"s": secondary(items)})
    for rest in ("", "/item", "/item/unit", "/item[name = 'cow']/unit", "/*"):
        direct = f"instance('{instance_id}')/{first}{rest}"
        general = f"instance('{instance_id}')/self::node()/{first}{rest}"
        found = parse(direct).evaluate(data, env)
        assert found == parse(general).evaluate(data, env), direct


def test_moves_from_current_select_what_the_general_steps_select():
    """`current()/../name` (the key of a look-up in a repeat) follows parent and child-name
    moves from the current node; a predicate on `current()` keeps the general steps."""
    data = primary(["cow", "rice"])
    group = data.append(Node("g"))
    group.append(Node("k", "bò"))
    group.append(Node("inner"))
    env = make_env(data, {})
    contexts = [data, data.child("n"), group, group.child("k"), group.child("inner")]
    for moves in ("../k", "k", "../../k", "..", "../g/k", "../n", "../../g/inner/.."):
        direct = parse(f"current()/{moves}")
        general = parse(f"current()[true()]/{moves}")
        for current in contexts:
            for node in contexts:  # inside a predicate the context node is another one
                ctx = Context(env, current)
                found = direct.as_value(node, ctx)
                assert found == general.as_value(node, ctx), (moves, current.name, node.name)


# -- look-ups by several fields (`_remembered_predicate`) ------------------------------------

DAYS = st.sampled_from(["20160101", "20211231", "20220101", "20251231", "", "abc", "2e7"])
AREAS = st.sampled_from(["rural", "urban", "", "Rural"])


def lines(rows: list[tuple[str, str, str]]) -> Node:
    root = Node("root")
    for position, (area, start, end) in enumerate(rows):
        item = Node("item")
        for name, text in (("area", area), ("from_day", start), ("to_day", end)):
            item.append(Node(name, text))
        item.append(Node("unit", f"u{position}"))
        root.append(item)
    return root


RANGES = (
    "area = /data/area and from_day <= /data/day and to_day >= /data/day",
    "/data/day >= from_day and area = /data/area and /data/day <= to_day",
    "area != /data/area and from_day < /data/day",
    "area = 'rural' and to_day > /data/day",
    "from_day = /data/day and area = current()/area",
)


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.tuples(AREAS, DAYS, DAYS), max_size=6),
    answers=st.lists(st.tuples(AREAS, DAYS), min_size=1, max_size=4),
)
def test_a_remembered_look_up_finds_what_comparing_every_item_finds(rows, answers):
    """The same compiled look-up, evaluated for answer after answer (the remembered ones
    again), keeps exactly the items the general predicate keeps."""
    env_data = Node("data")
    area, day = env_data.append(Node("area", "")), env_data.append(Node("day", ""))
    env = make_env(env_data, {"s": lines(rows)})
    for predicate in RANGES:
        remembered = parse(f"instance('s')/root/item[{predicate}]/unit")
        general = parse(f"instance('s')/root/item[{predicate} and true()]/unit")
        for value_area, value_day in [*answers, *answers]:
            area.text, day.text = value_area, value_day
            found = [n.text for n in remembered.evaluate(env_data, env)]
            assert found == [n.text for n in general.evaluate(env_data, env)], predicate


def test_a_remembered_look_up_reads_each_forms_own_instance():
    data = Node("data")
    data.append(Node("area", "rural"))
    data.append(Node("day", "20220101"))
    first = make_env(data, {"s": lines([("rural", "20160101", "20211231"),
                                        ("rural", "20220101", "20251231")])})  # fmt: skip
    second = make_env(data, {"s": lines([("rural", "20220101", "20301231")])})
    source = "instance('s')/root/item[area = /data/area and from_day <= /data/day]/unit"
    assert units(source, data, first) == ["u0", "u1"]
    assert units(source, data, second) == ["u0"]
    assert units(source, data, first) == ["u0", "u1"]
