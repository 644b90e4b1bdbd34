"""The pure household merge (sync contract H3-H5): a state is a function of a set of updates."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.merge import DECISION, Update, chain_position, resolve

REG = Update("reg", {"name": "Lò Văn Minh", "income": "1000", "water": "piped"}, time=1)


def visit(uid, base, time, **values):
    return Update(uid, {**REG.values, **values}, frozenset(base), time)


def test_h2_a_linear_history_is_the_last_value_of_each_property():
    v2 = visit("v2", {"reg"}, 2, income="2000")
    v3 = visit("v3", {"reg", "v2"}, 3, income="2000", water="well")

    found = resolve([REG, v2, v3])

    assert found.values == {"name": "Lò Văn Minh", "income": "2000", "water": "well"}
    assert found.conflicts == () and found.order == ("reg", "v2", "v3")
    assert found.changes["v3"] == {"water": "well"}  # income re-sent unchanged: no change


def test_h3_only_we_changed_is_applied_and_only_they_changed_is_kept():
    theirs = visit("theirs", {"reg"}, 5, income="2000")
    ours = visit("ours", {"reg"}, 3, water="well")  # re-sends income 1000: not a change

    found = resolve([REG, theirs, ours])

    assert found.values["income"] == "2000" and found.values["water"] == "well"
    assert found.conflicts == ()


def test_h3_both_changed_to_the_same_value_is_no_conflict():
    a = visit("a", {"reg"}, 3, income="2000")
    b = visit("b", {"reg"}, 4, income="2000")

    assert resolve([REG, a, b]).conflicts == ()


def test_h3_both_changed_differently_is_a_conflict_with_base_both_values_and_a_winner():
    a = visit("uuid:a", {"reg"}, 9, income="2000")
    b = visit("uuid:b", {"reg"}, 4, income="3000")

    found = resolve([REG, b, a])

    (conflict,) = found.conflicts
    assert (conflict.property, conflict.base) == ("income", "1000")
    assert {(w.update, w.value, w.base_value) for w in conflict.writes} == {
        ("uuid:a", "2000", "1000"),
        ("uuid:b", "3000", "1000"),
    }
    assert (conflict.provisional, conflict.provisional_update) == ("2000", "uuid:a")
    assert found.values["income"] == "2000"


def test_h4_ties_of_device_time_are_broken_by_instance_id():
    a = visit("uuid:a", {"reg"}, 4, income="2000")
    b = visit("uuid:b", {"reg"}, 4, income="3000")

    assert resolve([REG, a, b]).values["income"] == "3000"


def test_h4_a_causal_successor_wins_whatever_the_clocks_say():
    early = visit("early", {"reg"}, 100, income="2000")
    later = visit("later", {"reg", "early"}, 1, income="3000")  # its clock runs behind

    found = resolve([REG, early, later])

    assert found.values["income"] == "3000" and found.conflicts == ()


def test_h4_three_concurrent_writers_make_one_conflict_with_all_three():
    writers = [visit(f"w{i}", {"reg"}, i, income=str(2000 + i)) for i in range(3)]

    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        found = resolve([REG, *(writers[i] for i in order)])
        (conflict,) = found.conflicts
        assert {w.update for w in conflict.writes} == {"w0", "w1", "w2"}
        assert conflict.provisional == "2002"


def test_h3_a_decision_settles_a_conflict_even_when_it_keeps_the_provisional_value():
    a = visit("a", {"reg"}, 9, income="2000")
    b = visit("b", {"reg"}, 4, income="3000")
    decision = Update("decision:4", {"income": "2000"}, frozenset({"reg", "a", "b"}), 0, DECISION)

    found = resolve([REG, a, b, decision])

    assert found.conflicts == () and found.values["income"] == "2000"


def test_h4_a_concurrent_update_after_a_decision_conflicts_with_it():
    a = visit("a", {"reg"}, 9, income="2000")
    decision = Update("decision:3", {"income": "5000"}, frozenset({"reg", "a"}), 10, DECISION)
    late = visit("late", {"reg"}, 11, income="7000")

    (conflict,) = resolve([REG, a, decision, late]).conflicts

    assert {w.update for w in conflict.writes} == {"decision:3", "late"}


def test_h5_an_update_whose_predecessor_is_missing_is_recomputed_when_it_arrives():
    first = visit("first", {"reg"}, 2, income="2000")
    second = visit("second", {"reg", "first"}, 3, income="2000", water="well")

    alone = resolve([REG, second])
    both = resolve([REG, second, first])

    assert alone.values["income"] == "2000"  # applied anyway (after the hold timeout)
    assert both.values == {**REG.values, "income": "2000", "water": "well"}
    assert both.changes["second"] == {"water": "well"} and both.conflicts == ()


def test_h5_chain_position_counts_from_the_trunk_version():
    assert chain_position(3, 3, "b") == 0
    assert chain_position(5, 3, "b") == 2
    assert chain_position(5, None, None) == 0
    assert chain_position(5, 3, None) == 0


# -- property-based: random offline histories ------------------------------------------------

PROPS = ("a", "b", "c")
VALUES = ("0", "1", "2")


@st.composite
def histories(draw):
    """A server history, then 2-6 tablets each making 1-5 offline updates from a base
    that existed on the server before they went offline, plus their own earlier updates."""
    values = st.fixed_dictionaries({p: st.sampled_from(VALUES) for p in PROPS})
    server = [Update("reg", draw(values), frozenset(), 0)]
    for i in range(draw(st.integers(0, 3))):
        base = frozenset(u.id for u in server)
        server.append(Update(f"s{i}", draw(values), base, i + 1))
    tablets = []
    for t in range(draw(st.integers(2, 6))):
        start = draw(st.integers(1, len(server)))
        base = {u.id for u in server[:start]}
        own = []
        for k in range(draw(st.integers(1, 5))):
            time = draw(st.integers(0, 20))  # clocks are wrong and collide
            uid = f"uuid:t{t}-{k}"
            own.append(Update(uid, draw(values), frozenset(base), time))
            base = base | {uid}
        tablets.append(own)
    return server, tablets


def arrivals(tablets, rng: random.Random) -> list[Update]:
    """An interleaving of the tablets' updates that keeps each tablet's own order."""
    queues = [list(t) for t in tablets]
    found = []
    while any(queues):
        q = rng.choice([q for q in queues if q])
        found.append(q.pop(0))
    return found


def summary(resolution):
    return resolution.values, {c.key: (c.base, c.provisional) for c in resolution.conflicts}


@settings(max_examples=200, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_h4_any_arrival_order_gives_the_same_state_and_the_same_conflicts(history, rng):
    server, tablets = history
    expected = summary(resolve(server + arrivals(tablets, rng)))
    for _ in range(4):
        arrived = list(server)
        for update in arrivals(tablets, rng):  # the server recomputes at every arrival
            arrived.append(update)
            resolve(arrived)
        assert summary(resolve(arrived)) == expected
        assert summary(resolve(reversed(arrived))) == expected


@settings(max_examples=200, deadline=None)
@given(histories())
def test_h3_h4_every_value_comes_from_a_maximal_write_and_conflicts_show_the_winner(history):
    server, tablets = history
    updates = server + [u for t in tablets for u in t]
    found = resolve(updates)
    by_id = {u.id: u for u in updates}
    for conflict in found.conflicts:
        assert len({w.value for w in conflict.writes}) >= 2
        assert found.values[conflict.property] == conflict.provisional
        winner = max(conflict.writes, key=lambda w: (by_id[w.update].time, w.update))
        assert winner.update == conflict.provisional_update
        for w in conflict.writes:  # no write in a conflict is an ancestor of another
            assert all(w.update not in by_id[o.update].base for o in conflict.writes)
    # The last update of a single tablet on top of everything always wins (causal successor).
    everything = frozenset(by_id)
    last = Update("uuid:zz", {p: "9" for p in PROPS}, everything, -1)
    assert resolve([*updates, last]).values == {p: "9" for p in PROPS}
    assert resolve([*updates, last]).conflicts == ()
