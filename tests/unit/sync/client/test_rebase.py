"""C4: pending local edits re-applied on the pulled household state with the server's merge
(`sync.merge`, H3/H4); property-based over any server state, base and local edits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync.client.rebase import PendingEdit, merge_pending

NAMES = st.sampled_from(["hh_size", "income_per_person", "poverty_status", "area", "phone"])
VALUES = st.sampled_from(["1", "2", "poor", "near_poor", "urban", "rural"])
PROPS = st.dictionaries(NAMES, VALUES, max_size=5)
TIMES = st.floats(min_value=0, max_value=1e9, allow_nan=False)


@given(PROPS)
def test_c4_without_pending_edits_the_local_view_is_the_server_state(theirs):
    assert merge_pending(theirs, []).properties == theirs


@given(PROPS, PROPS)
def test_c4_an_edit_that_changed_nothing_never_hides_the_servers_change(theirs, base):
    unchanged = PendingEdit("uuid:1", base, dict(base))  # a form re-sends every property
    result = merge_pending(theirs, [unchanged])
    assert {k: result.properties[k] for k in theirs} == theirs and result.conflicts == []


@given(PROPS, PROPS)
def test_c4_on_an_unchanged_server_the_officer_sees_exactly_their_edit(base, ours):
    result = merge_pending(dict(base), [PendingEdit("uuid:1", base, ours)])
    for name, value in ours.items():
        assert result.properties[name] == value
    assert result.conflicts == []


@given(PROPS, PROPS, PROPS, TIMES, TIMES)
def test_c4_h3_conflict_iff_both_sides_changed_a_property_differently(
    theirs, base, ours, server_time, edit_time
):
    result = merge_pending(theirs, [PendingEdit("uuid:1", base, ours, edit_time)], server_time)
    conflicted = {c["property"]: c for c in result.conflicts}
    for name, value in ours.items():
        mine = value != base.get(name)
        server = name in theirs and theirs[name] != base.get(name)
        assert (name in conflicted) == (mine and server and theirs[name] != value)
        if name in conflicted:  # H4: the later write by corrected time is shown until decided
            later = value if (edit_time, "uuid:1") > (server_time, "server:") else theirs[name]
            assert result.properties[name] == later == conflicted[name]["provisional"]
            assert (conflicted[name]["theirs"], conflicted[name]["ours"]) == (theirs[name], value)
        elif mine:
            assert result.properties[name] == value
        elif name in theirs:
            assert result.properties[name] == theirs[name]


@given(PROPS, PROPS, st.lists(PROPS, min_size=1, max_size=4))
def test_c4_later_local_edits_win_over_earlier_ones_in_device_order(theirs, base, edits):
    pending = [PendingEdit(f"uuid:{n}", base, values, n) for n, values in enumerate(edits)]
    result = merge_pending(dict(base), pending)
    for name in {n for values in edits for n in values}:
        # Each local edit starts from the device's earlier ones: the last write wins.
        writes = [v[name] for v in edits if name in v]
        assert result.properties[name] == writes[-1]
