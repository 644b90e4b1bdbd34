"""Reviewing duplicate households (sync contract D3) and double entries (D4).

A reviewer (commune official, coordinator, admin) sees the cases of the communes in their
scope, each with its households side by side and the score breakdown, and decides. A case
is a group (issue 17): the registrations that all match one household, two or more.

- **merge**: one household survives; for each property the reviewer picks which household's
  value it keeps. Every other household of the group is absorbed. The survivor gets the
  chosen values as a decision version, each absorbed household a decision version with
  status merged and `merged_into_id` = the survivor, so its id redirects (tablets learn it
  at their next pull, ODK Collect's entity list shows the survivor only, later updates of
  the absorbed id apply to the survivor, H9). The visits and history of an absorbed
  household stay attached to it and are reached through the redirect (`absorbed_ids`):
  nothing is copied, nothing is lost;
- **distinct**: the households are all different and are never suggested again;
- **separate** (a group of three or more): one household is taken out of the group, never
  suggested with its households again; the others stay in the case;
- **undo**: a merge is undone by two more decision versions (the absorbed household active
  again, the survivor's merged values back to what they were unless changed since), and the
  case is open again; a distinct decision is undone by reopening the case; an automatic
  link (D1) is undone by giving the registration its own household (the id its tablet
  created) and putting back the values it changed on the existing one.

Every change of a household is a decision version made by `households.record_decision`, so
the rebuild (H8) replays it; every decision is audited.
"""

from __future__ import annotations

import sqlalchemy as sa

from forms.instance import EntityRef
from server.db import db
from server.dedup.names import strip_accents
from server.dedup.score import THRESHOLD
from server.models import (
    AdminUnit,
    CaseStatus,
    DoubleEntry,
    DoubleEntryStatus,
    DuplicateCase,
    DuplicateCaseMember,
    Household,
    HouseholdStatus,
    HouseholdVersion,
    Submission,
    User,
)
from server.models.base import utcnow
from server.problems import N_, Problem
from server.services import audit, transactional
from server.services.access import scope
from server.services.duplicates import detection as dedup
from server.services.forms.places import Place
from server.services.households import merge as merging
from server.services.households import rebuild as household_rebuild
from server.services.households import versions as households
from server.services.paging import Page, keyset_page

#: Who decides duplicates and double entries.
#: What the reviewer reads about each state in a refusal (409.10). Dotted ids: "merged" is
#: one word in English but not in Vietnamese ("đã gộp" as a state, "gộp" as an action).
STATE_WORDS = {
    "open": N_("duplicate_state.open"),
    "auto_linked": N_("duplicate_state.auto_linked"),
    "merged": N_("duplicate_state.merged"),
    "distinct": N_("duplicate_state.distinct"),
    "unlinked": N_("duplicate_state.unlinked"),
}


# -- reading ---------------------------------------------------------------------------------


def cases(user: User) -> sa.Select:
    """The duplicate cases `user` may read: those of the communes in their scope."""
    stmt = sa.select(DuplicateCase)
    ids = scope.unit_ids(user)
    return stmt if ids is None else stmt.where(DuplicateCase.commune_id.in_(ids))


def list_cases(
    user: User,
    *,
    status: str | None = "open",
    commune: int | None = None,
    after: int | None = None,
    limit: int = 50,
) -> Page:
    """One page of cases in `user`'s scope, oldest first; `status` "all" for every state."""
    stmt = cases(user)
    if status and status != "all":
        stmt = stmt.where(DuplicateCase.status == CaseStatus(status))
    if commune is not None:
        stmt = stmt.where(DuplicateCase.commune_id == commune)
    return keyset_page(stmt, DuplicateCase.id, after, limit)


def case_for(user: User, case_id: int) -> DuplicateCase:
    """One case in `user`'s scope, or 404.1 (the same answer as for a case that does not exist)."""
    found = db.session.scalar(cases(user).where(DuplicateCase.id == case_id))
    if found is None:
        raise Problem("404.1")
    return found


def describe(case: DuplicateCase, *, full: bool = False) -> dict:
    """A case as the API shows it; `full` adds both households and the property comparison."""
    out = {
        "id": case.id,
        "kind": case.kind,
        "status": case.status.value,
        "score": case.score,
        "threshold": THRESHOLD,
        "breakdown": case.breakdown or {},
        "households": group_of(case),
        "separated": separated_from(case),
        "new_household": case.new_id,
        "survivor": case.survivor_id,
        "commune": _unit_name(case.commune_id),
        "created_at": case.created_at,
        "decided_at": case.decided_at,
        "decided_by": _user_name(case.decided_by_id),
    }
    if full:
        sides = [_side(hid) for hid in out["households"]]
        out["sides"] = sides
        out["comparison"] = _comparison(sides)
        out["preferred_survivor"] = preferred_side(sides)
    return out


def _members_of(case: DuplicateCase, *, separated: bool) -> list[str]:
    stmt = (
        sa.select(DuplicateCaseMember.household_id)
        .where(DuplicateCaseMember.case_id == case.id, DuplicateCaseMember.separated.is_(separated))
        .order_by(DuplicateCaseMember.added_at, DuplicateCaseMember.household_id)
    )
    return list(db.session.scalars(stmt))


def group_of(case: DuplicateCase) -> list[str]:
    """The households of a case, in the order they joined it (the pair that opened it first;
    a case without member rows is its pair)."""
    found = _members_of(case, separated=False)
    if not found and not separated_from(case):
        return [case.first_id, case.second_id]
    pair = [hid for hid in (case.first_id, case.second_id) if hid in found]
    return pair + [hid for hid in found if hid not in pair]


def separated_from(case: DuplicateCase) -> list[str]:
    """The households a reviewer took out of the group."""
    return _members_of(case, separated=True)


def _side(household_id: str) -> dict:
    found = db.session.get(Household, household_id)
    if found is None:  # an automatically linked id that never became a household
        return {"id": household_id, "exists": False, "properties": {}}
    return {
        "id": found.id,
        "exists": True,
        "label": found.label,
        "status": found.status.value,
        "version": found.version,
        "merged_into": found.merged_into_id,
        "village": _unit_name(found.village_id),
        "properties": dict(found.properties or {}),
        "members": [m.name for m in (dedup.profile_of(found.id) or _NO_PROFILE).members],
        "updated_at": found.updated_at,
    }


class _NoProfile:
    members = ()


_NO_PROFILE = _NoProfile()


def _comparison(sides: list[dict]) -> list[dict]:
    """Property by property, each side's value (`values`, in the order of the sides; `first`
    and `second` are the first two, as for a pair)."""
    props = [side["properties"] for side in sides]
    names = sorted(set().union(*props)) if props else []
    rows = []
    for name in names:
        values = [p.get(name) for p in props]
        rows.append({"property": name, "first": values[0], "second": values[1],
                     "values": values, "same": len(set(map(str, values))) == 1,
                     "preferred": preferred_value(values, sides)})  # fmt: skip
    return rows


def _recency(side: dict) -> float:
    at = side.get("updated_at")
    return at.timestamp() if at is not None else 0.0


def preferred_value(values: list, sides: list[dict]) -> int | None:
    """The side whose value a merge pre-selects (issue 20, point 4): a value over none (a
    CCCD, a GPS point present over absent), a name written with its accents over one without
    (more marked letters), then the side updated last. None when no side has a value."""
    present = [i for i, v in enumerate(values) if v not in (None, "")]
    if not present:
        return None
    return max(present, key=lambda i: (_marked(str(values[i])), _recency(sides[i])))


def _marked(text: str) -> int:
    """How many letters carry a Vietnamese mark (accents, đ): 0 for text typed without."""
    return sum(1 for c in text if strip_accents(c) != c)


def preferred_side(sides: list[dict]) -> int | None:
    """The household a merge pre-selects to survive: the most complete (most properties with
    a value), then the one updated last."""
    if not sides:
        return None
    filled = [sum(1 for v in s["properties"].values() if v not in (None, "")) for s in sides]
    return max(range(len(sides)), key=lambda i: (filled[i], _recency(sides[i])))


def _unit_name(unit_id: int | None) -> str | None:
    unit = db.session.get(AdminUnit, unit_id) if unit_id is not None else None
    return unit.name if unit is not None else None


def _user_name(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.username if user is not None else None


def absorbed_ids(household_id: str) -> list[str]:
    """The household and every household merged into it (directly or through others): whose
    visits and history belong to it."""
    found, frontier = [household_id], [household_id]
    while frontier:
        stmt = sa.select(Household.id).where(
            Household.merged_into_id.in_(frontier), Household.status == HouseholdStatus.MERGED
        )
        frontier = [i for i in db.session.scalars(stmt) if i not in found]
        found += frontier
    return found


# -- deciding --------------------------------------------------------------------------------


def decide_for(user: User, case_id: int, decision: str, **choice) -> DuplicateCase:
    """A reviewer's decision on a case in their scope: merge, distinct or undo."""
    scope.require_role(user, *scope.REVIEWERS)
    case_for(user, case_id)
    actions = {"merge": merge, "distinct": mark_distinct, "undo": undo, "separate": separate}
    return actions[decision](case_id, user, **choice)


def _locked_case(case_id: int) -> DuplicateCase:
    case = db.session.scalar(
        sa.select(DuplicateCase).where(DuplicateCase.id == case_id).with_for_update()
    )
    if case is None:
        raise Problem("404.1")
    return case


def _refuse(case: DuplicateCase, action: str) -> Problem:
    what = N_("Duplicate case %(case_id)s")
    state = STATE_WORDS[case.status.value]
    return Problem("409.10", what=what, case_id=case.id, state=state, action=action)


@transactional
def merge(
    case_id: int, actor: User | None, *, survivor: str, values: dict[str, str] | None = None
) -> DuplicateCase:
    """Merge the households of an open case into `survivor` (D3): every other household of
    the group is absorbed.

    `values` says, property by property, which household's value the survivor keeps
    (property -> household id); a property not named keeps the survivor's value, or the
    first value another household of the group has when the survivor has none.
    """
    case = _locked_case(case_id)
    if case.status != CaseStatus.OPEN:
        raise _refuse(case, N_("duplicate_action.merge"))
    group = group_of(case)
    if survivor not in group:
        raise Problem("400.3", field="survivor", reason=f"must be one of {', '.join(group)}")
    locked = {hid: households.current(hid, lock=True) for hid in sorted(group)}  # id order
    absorbed = [hid for hid in group if hid != survivor]
    for state in locked.values():
        if state is None or state.status != HouseholdStatus.ACTIVE:
            raise _refuse(case, N_("duplicate_action.merge"))
    keep = locked[survivor]
    chosen = _chosen_values(survivor, {hid: locked[hid].properties for hid in group}, values or {})
    before = {k: keep.properties.get(k, "") for k in chosen}
    actor_id = actor.id if actor is not None else None
    versions = {survivor: None}
    if chosen:
        versions[survivor] = households.record_decision(
            survivor, chosen, kind="duplicate_merge", actor_id=actor_id
        )
    for gone in absorbed:
        versions[gone] = households.record_decision(
            gone, {}, kind="duplicate_merge", actor_id=actor_id,
            status=HouseholdStatus.MERGED, merged_into=survivor,
        )  # fmt: skip
        dedup.unindex(gone)
    case.status, case.survivor_id = CaseStatus.MERGED, survivor
    case.details = {**(case.details or {}), "merge": {
        "survivor": survivor, "absorbed": absorbed, "values": chosen, "before": before,
        "versions": versions}}  # fmt: skip
    _decided(case, actor)
    audit.record(actor, "duplicate.merge", case, survivor=survivor, absorbed=absorbed,
                 values=chosen, score=case.score)  # fmt: skip
    return case


def _chosen_values(
    survivor: str, properties: dict[str, dict], choices: dict[str, str]
) -> dict[str, str]:
    """The values the merge changes on the survivor; `properties`: each household's, in the
    order of the group."""
    group = list(properties)
    keep = properties[survivor]
    chosen = {}
    for name in sorted(set().union(*properties.values())):
        source = choices.get(name)
        if source is not None and source not in properties:
            raise Problem("400.3", field=f"values.{name}",
                          reason=f"must be one of {', '.join(group)}")  # fmt: skip
        if source is None:
            source = survivor
            if not keep.get(name):
                source = next((h for h in group if properties[h].get(name)), survivor)
        value = properties[source].get(name, "")
        if value != keep.get(name, "") and (value or source != survivor):
            chosen[name] = value
    unknown = set(choices) - set().union(*properties.values())
    if unknown:
        raise Problem("400.3", field="values", reason=f"unknown properties: {sorted(unknown)}")
    return chosen


@transactional
def mark_distinct(case_id: int, actor: User | None) -> DuplicateCase:
    """The households are all different: close the case; none of them is suggested with
    another of the group again (D3)."""
    case = _locked_case(case_id)
    if case.status != CaseStatus.OPEN:
        raise _refuse(case, N_("duplicate_action.distinct"))
    case.status = CaseStatus.DISTINCT
    _decided(case, actor)
    audit.record(actor, "duplicate.distinct", case, households=group_of(case))
    return case


@transactional
def separate(case_id: int, actor: User | None, *, household: str) -> DuplicateCase:
    """Take one household out of an open group of three or more: it is another household
    than the rest, never suggested with them again; the others stay in the case."""
    case = _locked_case(case_id)
    if case.status != CaseStatus.OPEN:
        raise _refuse(case, N_("duplicate_action.separate"))
    group = group_of(case)
    if household not in group:
        raise Problem("400.70", household=household, case_id=case.id, households=", ".join(group))
    if len(group) < 3:
        raise Problem("409.70", case_id=case.id)
    member = db.session.get(DuplicateCaseMember, (case.id, household), with_for_update=True)
    if member is None:  # a case from before groups: its pair, written as members now
        member = DuplicateCaseMember(case_id=case.id, household_id=household)
        db.session.add(member)
    member.separated = True
    db.session.flush()
    audit.record(actor, "duplicate.separate", case, household=household,
                 remaining=group_of(case))  # fmt: skip
    return case


@transactional
def undo(case_id: int, actor: User | None) -> DuplicateCase:
    """Undo a merge (both households restored) or a distinct decision, and the case is open
    again; or undo an automatic link (D1), and the pair is two households for good."""
    case = _locked_case(case_id)
    undone = case.status.value
    if case.status == CaseStatus.DISTINCT:
        case.status = CaseStatus.OPEN
    elif case.status == CaseStatus.MERGED:
        _unmerge(case, actor)
        case.status, case.survivor_id = CaseStatus.OPEN, None
    elif case.status == CaseStatus.AUTO_LINKED:
        _unlink(case, actor)
    else:
        raise _refuse(case, N_("duplicate_action.undo"))
    if case.status == CaseStatus.OPEN:
        case.decided_by_id, case.decided_at = None, None
    else:
        _decided(case, actor)
    audit.record(actor, "duplicate.undo", case, undone=undone, status=case.status.value)
    return case


def _unmerge(case: DuplicateCase, actor: User | None) -> None:
    done = (case.details or {}).get("merge") or {}
    survivor, absorbed = done.get("survivor"), done.get("absorbed") or []
    absorbed = [absorbed] if isinstance(absorbed, str) else list(absorbed)  # a pair's, before
    for hid in sorted(absorbed):  # id order, as the merge locked them
        gone = households.current(hid, lock=True)
        if gone is None or gone.status != HouseholdStatus.MERGED or gone.merged_into_id != survivor:
            raise _refuse(case, N_("duplicate_action.undo"))
    if not absorbed:
        raise _refuse(case, N_("duplicate_action.undo"))
    actor_id = actor.id if actor is not None else None
    for hid in absorbed:
        households.record_decision(
            hid, {}, kind="duplicate_unmerge", actor_id=actor_id,
            status=HouseholdStatus.ACTIVE, merged_into=None,
        )  # fmt: skip
    keep = households.current(survivor, lock=True)
    merged_values, before = done.get("values") or {}, done.get("before") or {}
    restore = {
        name: before.get(name, "")
        for name, value in merged_values.items()
        if keep.properties.get(name, "") == value  # unless changed since the merge
    }
    if restore:
        households.record_decision(survivor, restore, kind="duplicate_unmerge", actor_id=actor_id)
    for hid in absorbed:
        dedup.reindex(hid)
    history = list((case.details or {}).get("undone") or [])
    case.details = {**{k: v for k, v in case.details.items() if k != "merge"},
                    "undone": [*history, {**done, "restored": restore}]}  # fmt: skip


def _unlink(case: DuplicateCase, actor: User | None) -> None:
    """Undo an automatic link (D1): the registration becomes the household its tablet created,
    and the existing household's values the registration changed go back to what they were
    (unless changed since), by a decision version. The pair is then never linked again."""
    new_id = case.new_id
    existing = case.second_id if case.first_id == new_id else case.first_id
    link = _linking_version(existing, new_id)
    if link is None or households.current(new_id) is not None:
        raise _refuse(case, N_("duplicate_action.undo"))
    # The visits its tablet sent for `new_id` while linked were applied to `existing` (D1
    # routing): they move with the registration.
    visits = [r for r in households.routed(new_id, existing) if r.note == "redirected"]
    case.status = CaseStatus.UNLINKED  # first: `dedup.exact_match` skips an unlinked pair
    db.session.flush()
    rows = merging.history(existing)
    before, _ = merging.replayed([r for r in rows if r.version < link.version])
    current = households.current(existing, lock=True)
    written = dict(link.changes or {})
    for row in visits:
        if row.household_id == existing:
            written.update(row.changes or {})
    restore = {
        name: before.get(name, "")
        for name, value in written.items()
        if current.properties.get(name, "") == value
    }
    actor_id = actor.id if actor is not None else None
    if restore:
        households.record_decision(existing, restore, kind="duplicate_unlink", actor_id=actor_id)
    submission = db.session.get(Submission, link.submission_id)
    place = Place(village_id=submission.village_id, commune_id=submission.commune_id)
    effect = _reapply(submission.id, submission.form_version_id, new_id, None, place)
    moved = []
    for row in visits:
        base = _int((row.entity or {}).get("@baseVersion"))
        place = Place(village_id=row.village_id, commune_id=row.commune_id)
        _reapply(row.submission_id, row.form_version_id, new_id, base, place)
        moved.append(row.submission_id)
    case.details = {**(case.details or {}), "unlinked": {
        "submission_id": submission.id, "restored": restore, "moved_visits": moved,
        "version": effect.version if effect else None}}  # fmt: skip


def _reapply(submission_id: int, form_version_id: int, household_id: str, base, place: Place):
    """Apply a stored submission again to `household_id`: its registration (`base` None) or
    an update from `base`, with the values its payload saves."""
    values = household_rebuild.reparse(submission_id, form_version_id) or {}
    label = values.pop(merging.LABEL, None)
    if base is None:
        entity = EntityRef(dataset="households", id=household_id, create=True)
    else:
        entity = EntityRef(dataset="households", id=household_id, update=True, base_version=base)
    return households.apply(submission_id, entity, values, label, place)


def _int(text) -> int | None:
    try:
        return int(str(text))
    except (TypeError, ValueError):
        return None


def _linking_version(existing: str, new_id: str) -> HouseholdVersion | None:
    """The version of `existing` that the automatically linked registration of `new_id` made."""
    stmt = (
        sa.select(HouseholdVersion)
        .where(HouseholdVersion.household_id == existing, HouseholdVersion.note == "auto_linked")
        .order_by(HouseholdVersion.version)
    )
    for version in db.session.scalars(stmt):
        answers = db.session.scalar(
            sa.select(Submission.answers).where(Submission.id == version.submission_id)
        )
        entity = ((answers or {}).get("meta") or {}).get("entity") or {}
        if households.normalise_id(str(entity.get("@id") or "")) == new_id:
            return version
    return None


def _decided(case: DuplicateCase, actor: User | None) -> None:
    case.decided_by_id = actor.id if actor is not None else None
    case.decided_at = utcnow()


# -- double entries (D4) ---------------------------------------------------------------------


def double_entries(user: User) -> sa.Select:
    """The flagged double entries `user` may read (the communes in their scope)."""
    stmt = sa.select(DoubleEntry)
    ids = scope.unit_ids(user)
    return stmt if ids is None else stmt.where(DoubleEntry.commune_id.in_(ids))


def list_double_entries(
    user: User, *, status: str | None = "open", after: int | None = None, limit: int = 50
) -> Page:
    stmt = double_entries(user)
    if status and status != "all":
        stmt = stmt.where(DoubleEntry.status == DoubleEntryStatus(status))
    return keyset_page(stmt, DoubleEntry.id, after, limit)


def double_entry_for(user: User, entry_id: int) -> DoubleEntry:
    found = db.session.scalar(double_entries(user).where(DoubleEntry.id == entry_id))
    if found is None:
        raise Problem("404.1")
    return found


def describe_double_entry(entry: DoubleEntry) -> dict:
    ids = {entry.submission_id, entry.original_id}
    found = {
        s.id: s for s in db.session.scalars(sa.select(Submission).where(Submission.id.in_(ids)))
    }
    later, original = found.get(entry.submission_id), found.get(entry.original_id)
    return {
        "id": entry.id,
        "status": entry.status.value,
        "household": entry.household_id,
        "submission": later.instance_id if later else None,
        "original": original.instance_id if original else None,
        "submitter": _user_name(later.submitter_id) if later else None,
        "commune": _unit_name(entry.commune_id),
        "created_at": entry.created_at,
        "decided_at": entry.decided_at,
        "decided_by": _user_name(entry.decided_by_id),
    }


def decide_double_entry_for(user: User, entry_id: int, status: str) -> DoubleEntry:
    scope.require_role(user, *scope.REVIEWERS)
    double_entry_for(user, entry_id)
    return decide_double_entry(entry_id, user, status)


@transactional
def decide_double_entry(entry_id: int, actor: User | None, status: str) -> DoubleEntry:
    """confirmed: a double entry, left out of reports; dismissed: a real second visit, counted
    again; open: back to undecided."""
    entry = db.session.get(DoubleEntry, entry_id, with_for_update=True)
    if entry is None:
        raise Problem("404.1")
    previous = entry.status.value
    entry.status = DoubleEntryStatus(status)
    entry.decided_by_id = actor.id if actor is not None and status != "open" else None
    entry.decided_at = utcnow() if status != "open" else None
    audit.record(actor, "double_entry.decide", entry, status=status, previous=previous,
                 submission=entry.submission_id)  # fmt: skip
    return entry
