"""The household merge (sync contract H3-H5, C4): a household is a function of its SET of updates.

PURE: the standard library only, so the server (`server.services.households.merge`)
and the tablet client (rebase, C4) run the very same code.

Why a set and not a fold over arrivals: rule H4 demands that the final state
and the set of conflicts do not depend on arrival order. Pairwise merging in
arrival order does not give that (three concurrent writers of one property
give different conflict pairs in different orders). So every property is a
multi-value register and the state is recomputed from all updates:

- Each `Update` names the updates contained in the state it started from
  (`base`). `u` is a causal predecessor of `w` when `u` is in `w`'s base
  (transitively). A decision (a reviewer's resolution, a duplicate merge, an
  undo) has every update applied before it in its base, so it is a causal
  successor of all of them and wins.
- What an update changed is what differs from the state of its base set (a
  form re-sends every mapped property, so "changed" means different from base,
  not merely present); a decision writes every value it carries, so choosing
  the provisional value of a conflict still settles it.
- Per property, the maximal writes are those with no causal successor that
  also writes the property. One distinct value among them: that value. Several:
  a `Conflict`, whose provisional value is the one of the latest maximal write
  by (corrected device time, id) (H4). A causal successor always wins over its
  predecessor, whatever the clocks say.

The state of a base set is computed the same way (memoised by set); a base
with a single maximal member is that member's base state plus its changes, so
a linear history costs one dictionary update per version.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

SUBMISSION = "submission"
DECISION = "decision"


@dataclass(frozen=True)
class Update:
    """One update of a household: a submission's entity block, or a person's decision.

    `id` is the instanceID of the record (its root, so an edit keeps the id of
    the update it replaces, rule R4) or a decision id; `values` every property
    the update sends; `base` the ids of the updates contained in the state it
    started from (empty for a registration); `time` the device time corrected
    by the device's clock offset (any comparable number, e.g. POSIX seconds).
    """

    id: str
    values: Mapping[str, str]
    base: frozenset[str] = frozenset()
    time: float = 0.0
    kind: str = SUBMISSION


@dataclass(frozen=True)
class Write:
    """One update's value in a conflict, with the value of the property in its own base."""

    update: str
    value: str
    base_value: str | None


@dataclass(frozen=True)
class Conflict:
    """Concurrent updates wrote different values to `property` (H3).

    `base` is the value in the state of their common ancestors (the three-way
    base); `writes` each conflicting write, by update id; `provisional` the
    value shown until a person decides, from the update `provisional_update`.
    """

    property: str
    base: str | None
    writes: tuple[Write, ...]
    provisional: str
    provisional_update: str

    @property
    def key(self) -> tuple[str, frozenset[tuple[str, str]]]:
        """What identifies the conflict whatever the order of arrival: property and writes."""
        return self.property, frozenset((w.update, w.value) for w in self.writes)


@dataclass(frozen=True)
class Resolution:
    """The household's state for a set of updates: values, open conflicts, causal order,
    and what each update changed relative to its base (for the version history, H7)."""

    values: dict[str, str]
    conflicts: tuple[Conflict, ...]
    order: tuple[str, ...]
    changes: dict[str, dict[str, str]] = field(default_factory=dict)


def resolve(updates: Iterable[Update]) -> Resolution:
    """The state of a household made of exactly these updates (see the module docstring).

    Ids in a base that are not among `updates` (an update whose predecessor
    has not arrived) are ignored; when it arrives, the state is recomputed.
    """
    return _Resolver(updates).resolution()


def chain_position(
    base_version: int | None, trunk_version: int | None, branch_id: str | None
) -> int:
    """An offline chain member's place in its branch (ODK entities 2024.1, H5).

    ODK Collect gives every update made offline from the same server version
    (`trunkVersion`) one `branchId`, and counts `baseVersion` up locally: the
    first update of a branch has `baseVersion == trunkVersion` (position 0),
    the k-th `trunkVersion + k`. Its predecessor is the branch member at
    position - 1. Without branch information every update is at position 0.
    """
    if branch_id is None or trunk_version is None or base_version is None:
        return 0
    return max(base_version - trunk_version, 0)


class _Resolver:
    def __init__(self, updates: Iterable[Update]) -> None:
        self.by_id: dict[str, Update] = {}
        for u in updates:
            self.by_id[u.id] = u
        self.order: list[str] = []
        self.ancestors: dict[str, frozenset[str]] = {}
        self.parents: dict[str, list[str]] = {}
        self.changes: dict[str, dict[str, str]] = {}
        self._states: dict[frozenset[str], dict[str, str]] = {frozenset(): {}}
        self._sort()
        for uid in self.order:
            self._changes_of(uid)

    def _key(self, uid: str) -> tuple[float, str]:
        return self.by_id[uid].time, uid

    def _sort(self) -> None:
        """Kahn's algorithm over the base relation, ready updates by (time, id).

        Updates caught in a base cycle (impossible from real histories) are
        taken by (time, id) with the edges to updates not yet placed dropped.
        """
        known = self.by_id
        parents = {
            uid: sorted(b for b in u.base if b in known and b != uid) for uid, u in known.items()
        }
        waiting = {uid: len(p) for uid, p in parents.items()}
        children: dict[str, list[str]] = {uid: [] for uid in known}
        for uid, ps in parents.items():
            for p in ps:
                children[p].append(uid)
        ready = [self._key(uid) for uid, n in waiting.items() if n == 0]
        heapq.heapify(ready)
        placed: set[str] = set()
        while len(placed) < len(known):
            if not ready:  # a cycle: take the earliest remaining update
                rest = min(self._key(uid) for uid in known if uid not in placed)
                heapq.heappush(ready, rest)
            _, uid = heapq.heappop(ready)
            if uid in placed:
                continue
            placed.add(uid)
            self.parents[uid] = [p for p in parents[uid] if p in placed]
            ancestors: set[str] = set()
            for p in self.parents[uid]:
                ancestors.add(p)
                ancestors |= self.ancestors[p]
            self.ancestors[uid] = frozenset(ancestors)
            self.order.append(uid)
            for child in children[uid]:
                waiting[child] -= 1
                if waiting[child] == 0:
                    heapq.heappush(ready, self._key(child))

    def _changes_of(self, uid: str) -> None:
        u = self.by_id[uid]
        if u.kind == DECISION:
            self.changes[uid] = dict(u.values)
            return
        base = self._state_of_ancestors(uid)
        self.changes[uid] = {p: v for p, v in u.values.items() if base.get(p) != v}

    def _state_of_ancestors(self, uid: str) -> dict[str, str]:
        """The state of `uid`'s base set, using a single maximal parent when there is one."""
        members = self.ancestors[uid]
        found = self._states.get(members)
        if found is not None:
            return found
        for p in self.parents[uid]:
            if len(self.ancestors[p]) + 1 == len(members):  # members == ancestors(p) + {p}
                found = {**self._state_of_ancestors(p), **self.changes[p]}
                break
        else:
            found = self._fold(members)[0]
        self._states[members] = found
        return found

    def _state(self, members: frozenset[str]) -> dict[str, str]:
        found = self._states.get(members)
        if found is None:
            found = self._states[members] = self._fold(members)[0]
        return found

    def _fold(self, members: frozenset[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
        """Values of a down-closed set of updates, and the maximal writers of each property."""
        writers: dict[str, list[str]] = {}
        for uid in self.order:
            if uid in members:
                for p in self.changes[uid]:
                    writers.setdefault(p, []).append(uid)
        values: dict[str, str] = {}
        maximal: dict[str, list[str]] = {}
        for p, ws in writers.items():
            covered: set[str] = set()
            for w in ws:
                covered |= self.ancestors[w]
            top = [w for w in ws if w not in covered]
            winner = max(top, key=self._key)
            values[p] = self.changes[winner][p]
            maximal[p] = top
        return values, maximal

    def resolution(self) -> Resolution:
        members = frozenset(self.by_id)
        values, maximal = self._fold(members)
        conflicts = []
        for p in sorted(maximal):
            top = maximal[p]
            if len({self.changes[w][p] for w in top}) < 2:
                continue
            common = frozenset.intersection(*(self.ancestors[w] for w in top))
            winner = max(top, key=self._key)
            writes = tuple(
                Write(w, self.changes[w][p], self._state_of_ancestors(w).get(p))
                for w in sorted(top)
            )
            conflicts.append(Conflict(p, self._state(common).get(p), writes, values[p], winner))
        return Resolution(values, tuple(conflicts), tuple(self.order), self.changes)
