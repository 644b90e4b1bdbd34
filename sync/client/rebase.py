"""Rebase (C4): the officer's unsent edits re-applied on top of the pulled household state,
with the server's own merge (`sync.merge.resolve`, rules H3/H4), so tablet and server agree.

Each pending visit remembers the household properties it started from
(`base`) and the properties it sets (`values`). The local view is the
resolution of: the base (the state the visits started from), the server's
current state as one update on top of that base, and the pending visits on
top of the base in the device's own order (each one's base holds the
device's earlier visits, so a later local visit wins over an earlier one).
A property only we changed takes our value; one only the server changed
keeps the server's; both to the same value is no conflict; both to
different values is a conflict, shown with the provisional value the server
will choose (the later by corrected device time, H4) until someone decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sync.merge import DECISION, SUBMISSION, Update, resolve

BASE, SERVER = "base:", "server:"


@dataclass
class PendingEdit:
    """One unsent visit's effect on a household."""

    id: str  # the instanceID
    base: dict[str, Any]  # the household's properties when the visit was filled
    values: dict[str, Any]  # the properties the visit sets
    time: float = 0.0  # device time corrected by the clock offset (POSIX seconds)


@dataclass
class RebaseResult:
    properties: dict[str, Any]
    conflicts: list[dict[str, Any]] = field(default_factory=list)


def _text(values: dict[str, Any]) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in values.items()}


def merge_pending(
    theirs: dict[str, Any], edits: list[PendingEdit], server_time: float = float("inf")
) -> RebaseResult:
    """`theirs` (the pulled properties, changed at `server_time`) with `edits` re-applied."""
    if not edits:
        return RebaseResult(dict(theirs))
    base = _text(edits[0].base)
    updates = [Update(BASE, base, frozenset(), float("-inf"), DECISION)]
    updates.append(Update(SERVER, _text(theirs), frozenset({BASE}), server_time, SUBMISSION))
    mine: list[str] = []
    for edit in edits:
        updates.append(
            Update(edit.id, _text(edit.values), frozenset({BASE, *mine}), edit.time, SUBMISSION)
        )
        mine.append(edit.id)
    resolution = resolve(updates)
    properties = {**theirs, **resolution.values}
    conflicts = []
    for conflict in resolution.conflicts:
        writes = {w.update: w.value for w in conflict.writes}
        ours = [w for w in conflict.writes if w.update != SERVER]
        conflicts.append(
            {
                "property": conflict.property,
                "base": conflict.base,
                "theirs": writes.get(SERVER),
                "ours": ours[-1].value if ours else None,
                "instance_id": ours[-1].update if ours else None,
                "provisional": conflict.provisional,
            }
        )
    return RebaseResult(properties, conflicts)
