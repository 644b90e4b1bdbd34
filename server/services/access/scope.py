"""Scope: which admin units, forms and submissions a user may read and write.

A user's scope is the set of admin units assigned to them (`user_scope`) and
everything below those units. Roles set what they may do inside it:

* admin: everything, everywhere;
* coordinator: their province or district: manage forms and users there;
* commune official: their commune(s): review what was collected there;
* agency lead: the units their agency is currently assigned to (`agency_unit_ids`);
* cadre: their villages: collect, and read what they collected; and the households
  paired with them or with their team or organisation (`paired_household_ids`).

Every query that lists data for a user goes through a function here, so a
missing filter is a bug in one place, not in every view. Functions return
SQL (`Select`) to be refined further, never lists, so filters compose.

The user's units (the recursive walk down the tree) and paired households are
read once per transaction (`txcache`) and put into the filters as literal id
lists: a recursive subquery inside an `OR` made PostgreSQL read every household
to test each one against it (issue 19: 3.8-7.4 s for a cadre's 500 households
at 1M rows), while `village_id IN (1, 2) OR commune_id IN (1, 2) OR id IN (...)`
is a bitmap OR of three index scans bounded by the scope. A write that changes
a scope (units, agency assignments, pairs) calls `txcache.forget()`.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session, aliased

from server.db import db
from server.models import (
    AdminUnit,
    Agency,
    AgencyAssignment,
    AgencyKind,
    Form,
    FormState,
    FormVersion,
    Household,
    Pair,
    QuarantineItem,
    Role,
    Submission,
    User,
)
from server.models.people import user_scope
from server.problems import Problem
from server.services import txcache

FORM_MANAGERS = frozenset({Role.COORDINATOR, Role.ADMIN})


def is_admin(user: User) -> bool:
    return user.role == Role.ADMIN


def today() -> dt.date:
    """Today in the server's time zone: what "current" means for pairs and assignments."""
    return dt.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()


def _current(starts_on, ends_on, on: dt.date) -> sa.ColumnElement[bool]:
    """SQL: the half-open period [starts_on, ends_on) holds `on`."""
    return sa.and_(starts_on <= on, sa.or_(ends_on.is_(None), ends_on > on))


def _assigned(user: User) -> sa.Select:
    """The units a user works in: assigned to them, and for an agency lead, their agency's."""
    stmt = sa.select(user_scope.c.unit_id).where(user_scope.c.user_id == user.id)
    if user.role == Role.AGENCY_LEAD:
        return sa.union(stmt, agency_unit_ids(user)).subquery().select()
    return stmt


# -- the programme's structure: agencies and pairs --------------------------------------

#: Agencies whose members help households as one (a pair names the agency, not a person).
HELPER_KINDS = (AgencyKind.TEAM, AgencyKind.ORGANISATION)


def led_agency_ids(user: User) -> sa.Select:
    """Ids of the agencies `user` leads: named their lead, or theirs when they are an agency
    lead, and the agencies below those (child teams)."""
    roots = sa.select(Agency.id).where(Agency.lead_id == user.id)
    if user.role == Role.AGENCY_LEAD and user.agency_id is not None:
        roots = sa.union(roots, sa.select(sa.literal(user.agency_id))).subquery().select()
    tree = sa.select(Agency.id).where(Agency.id.in_(roots)).cte(recursive=True)
    child = aliased(Agency)
    tree = tree.union(sa.select(child.id).where(child.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def agency_unit_ids(user: User, on: dt.date | None = None) -> sa.Select:
    """Ids of the units the agencies `user` leads are assigned to on `on` (today)."""
    on = on or today()
    return sa.select(AgencyAssignment.unit_id).where(
        AgencyAssignment.agency_id.in_(led_agency_ids(user)),
        _current(AgencyAssignment.starts_on, AgencyAssignment.ends_on, on),
    )


def helper_agency_id(user: User) -> sa.ScalarSelect | None:
    """The team or organisation `user` helps households as (via `User.agency_id`), as SQL."""
    if user.agency_id is None:
        return None
    return (
        sa.select(Agency.id)
        .where(Agency.id == user.agency_id, Agency.kind.in_(HELPER_KINDS))
        .scalar_subquery()
    )


def paired_household_ids(user: User, on: dt.date | None = None) -> sa.Select:
    """Ids of the households paired with `user` on `on` (today): pairs naming them, or the
    team or organisation they belong to. Periods are half-open (an end today no longer counts).
    """
    on = on or today()
    helper = Pair.helper_user_id == user.id
    team = helper_agency_id(user)
    if team is not None:
        helper = sa.or_(helper, Pair.helper_agency_id == team)
    return sa.select(Pair.household_id).where(helper, _current(Pair.starts_on, Pair.ends_on, on))


def _descendants(roots: sa.Select) -> sa.Select:
    """Ids of `roots` and every unit below them (a recursive CTE: the tree is at most 4 deep)."""
    tree = sa.select(AdminUnit.id).where(AdminUnit.id.in_(roots)).cte(recursive=True)
    child = aliased(AdminUnit)
    tree = tree.union(sa.select(child.id).where(child.parent_id == tree.c.id))
    return sa.select(tree.c.id)


def _ancestors(roots: sa.Select) -> sa.Select:
    """Ids of `roots` and every unit above them."""
    tree = (
        sa.select(AdminUnit.id, AdminUnit.parent_id)
        .where(AdminUnit.id.in_(roots))
        .cte(recursive=True)
    )
    parent = aliased(AdminUnit)
    tree = tree.union(sa.select(parent.id, parent.parent_id).where(parent.id == tree.c.parent_id))
    return sa.select(tree.c.id)


#: What a scope is made of: a change to one of these (not yet flushed, or flushed since the
#: ids were read) makes the ids read again, so a transaction that pairs a household and then
#: lists the helper's households sees the pair.
_SCOPE_MODELS = (AdminUnit, Agency, AgencyAssignment, Pair, User)
_GROUP = "scope"


def _touches_scope(session: Session) -> bool:
    changed = itertools.chain(session.new, session.dirty, session.deleted)
    return any(isinstance(obj, _SCOPE_MODELS) for obj in changed)


@sa.event.listens_for(Session, "after_flush")
def _forget_after_flush(session: Session, _context) -> None:
    if _touches_scope(session):
        txcache.forget_group(_GROUP, session)


@dataclass(frozen=True)
class _ScopeIds:
    down: tuple[int, ...]  # assigned units and below
    up: tuple[int, ...]  # assigned units and above
    paired: tuple[str, ...]  # households paired with the user or their team today


def _read_scope_ids(user: User) -> _ScopeIds:
    """The three id lists of a scope in one round trip (the CTEs are anonymous, so both
    recursive walks share one statement)."""
    down = _descendants(_assigned(user)).subquery()
    up = _ancestors(_assigned(user)).subquery()
    paired = paired_household_ids(user).subquery()
    stmt = sa.union_all(
        sa.select(sa.literal("down").label("kind"), sa.cast(down.c.id, sa.String).label("id")),
        sa.select(sa.literal("up"), sa.cast(up.c.id, sa.String)),
        sa.select(sa.literal("paired"), paired.c.household_id),
    )
    found: dict[str, set[str]] = {"down": set(), "up": set(), "paired": set()}
    for kind, key in db.session.execute(stmt):
        found[kind].add(key)
    return _ScopeIds(
        tuple(sorted(int(i) for i in found["down"])),
        tuple(sorted(int(i) for i in found["up"])),
        tuple(sorted(found["paired"])),
    )


def _scope_ids(user: User) -> _ScopeIds:
    """The id lists of `user`'s scope, read once per transaction (literals for the filters
    below), and again after a change to what a scope is made of."""
    if _touches_scope(db.session):
        txcache.forget_group(_GROUP)
    return txcache.remember((_GROUP, user.id), lambda: _read_scope_ids(user))


def unit_id_list(user: User) -> tuple[int, ...] | None:
    """Ids of the units `user` works in (assigned units and below), sorted, read once per
    transaction; None means all (admin)."""
    return None if is_admin(user) else _scope_ids(user).down


def ancestor_id_list(user: User) -> tuple[int, ...] | None:
    """Ids of the units `user` is assigned to and every unit above them, sorted, read once
    per transaction; None means all (admin)."""
    return None if is_admin(user) else _scope_ids(user).up


def paired_id_list(user: User) -> tuple[str, ...]:
    """Ids of the households paired with `user` or their team today, sorted, read once per
    transaction (`paired_household_ids` as literals)."""
    return _scope_ids(user).paired


def _literal_ids(ids: tuple[int, ...]) -> sa.Select:
    """The ids `ids` as a `Select` of admin unit ids (a plain primary-key lookup)."""
    return sa.select(AdminUnit.id).where(AdminUnit.id.in_(ids))


def unit_ids(user: User) -> sa.Select | None:
    """Ids of the units `user` works in (assigned units and below); None means all (admin).

    The ids are literals in the statement (`unit_id_list`), not a recursive subquery."""
    ids = unit_id_list(user)
    return None if ids is None else _literal_ids(ids)


def readable_unit_ids(user: User) -> sa.Select | None:
    """Ids of units `user` may see: their scope plus the units above it (names for context)."""
    down, up = unit_id_list(user), ancestor_id_list(user)
    if down is None or up is None:
        return None
    return _literal_ids(tuple(sorted(set(down) | set(up))))


def units(user: User) -> sa.Select:
    """The admin units `user` may see."""
    ids = readable_unit_ids(user)
    stmt = sa.select(AdminUnit)
    return stmt if ids is None else stmt.where(AdminUnit.id.in_(ids))


def in_scope(user: User, unit: AdminUnit) -> sa.Select:
    """SQL answering whether `unit` is inside `user`'s scope (read it with `session.scalar`)."""
    ids = unit_id_list(user)
    return sa.select(sa.true() if ids is None else sa.literal(unit.id in ids))


def forms(user: User) -> sa.Select:
    """The forms `user` may see.

    A form bound to a unit is visible inside that unit and to users of the
    units above it (a cadre sees the province's forms; a commune official
    never sees another commune's). Only form managers see forms that have no
    published or closed version yet.
    """
    stmt = sa.select(Form)
    if not is_admin(user):
        near = sorted(set(ancestor_id_list(user)) | set(unit_id_list(user)))
        stmt = stmt.where(sa.or_(Form.unit_id.is_(None), Form.unit_id.in_(near)))
    if user.role not in FORM_MANAGERS:
        stmt = stmt.where(
            sa.exists().where(FormVersion.form_pk == Form.id, FormVersion.state != FormState.DRAFT)
        )
    return stmt


def form_versions(user: User) -> sa.Select:
    """The form versions `user` may see: drafts only for form managers."""
    form_ids = forms(user).with_only_columns(Form.id)
    stmt = sa.select(FormVersion).where(FormVersion.form_pk.in_(form_ids))
    if user.role not in FORM_MANAGERS:
        stmt = stmt.where(FormVersion.state != FormState.DRAFT)
    return stmt


def households(user: User) -> sa.ColumnElement[bool]:
    """SQL: a household is `user`'s business: in their units (village or commune), or paired
    with them or their team (sync contract P1: assigned households and their villages)."""
    ids = unit_id_list(user)
    if ids is None:
        return sa.true()
    clauses = [Household.village_id.in_(ids), Household.commune_id.in_(ids)]
    paired = paired_id_list(user)
    if paired:
        clauses.append(Household.id.in_(paired))
    return sa.or_(*clauses)


def senders(ids: sa.Select | Sequence[int]) -> sa.Select:
    """Ids of the users who work in one of the units `ids` (assigned to them)."""
    return sa.select(user_scope.c.user_id).where(user_scope.c.unit_id.in_(ids))


def unplaced_from(ids: sa.Select | Sequence[int]) -> sa.ColumnElement[bool]:
    """SQL: a submission has no place (its form names none and its sender works in several
    communes) and was sent by someone working in one of the units `ids`: it waits there."""
    return sa.and_(
        Submission.commune_id.is_(None),
        Submission.village_id.is_(None),
        Submission.submitter_id.in_(senders(ids)),
    )


def in_commune(commune: AdminUnit) -> sa.ColumnElement[bool]:
    """SQL: a submission belongs to `commune`'s queue: placed there, or unplaced and sent by
    someone working in the commune or one of its villages."""
    units = sa.select(AdminUnit.id).where(
        sa.or_(AdminUnit.id == commune.id, AdminUnit.parent_id == commune.id)
    )
    return sa.or_(Submission.commune_id == commune.id, unplaced_from(units))


def submissions(user: User) -> sa.Select:
    """The submissions `user` may read: those in their units, those without a place sent by
    someone working there, and a cadre's own."""
    stmt = sa.select(Submission)
    ids = unit_id_list(user)
    if ids is None:
        return stmt
    in_units = sa.or_(
        Submission.commune_id.in_(ids), Submission.village_id.in_(ids), unplaced_from(ids)
    )
    if user.role == Role.CADRE:
        # A cadre's villages are below the commune: only the village says it is theirs.
        in_units = sa.or_(Submission.village_id.in_(ids), Submission.submitter_id == user.id)
    return stmt.where(in_units)


#: Who reviews what tablets sent: quarantined payloads, submissions with issues.
REVIEWERS = frozenset({Role.COMMUNE_OFFICIAL, Role.COORDINATOR, Role.ADMIN})


def quarantine_items(user: User) -> sa.Select:
    """The quarantined payloads `user` may read.

    A payload may have no form or place the server can read (R5, unreadable
    bodies), so an item belongs where its sender works: a reviewer sees the
    items sent by users whose assigned units are inside the reviewer's units,
    and those linked to a submission they may read; a cadre sees what they sent.
    """
    stmt = sa.select(QuarantineItem)
    if is_admin(user):
        return stmt
    if user.role == Role.CADRE:
        return stmt.where(QuarantineItem.submitter_id == user.id)
    ids = unit_id_list(user)
    linked = submissions(user).with_only_columns(Submission.id)
    return stmt.where(
        sa.or_(
            QuarantineItem.submitter_id.in_(senders(ids)),
            QuarantineItem.submission_id.in_(linked),
        )
    )


def require_role(user: User, *roles: Role) -> None:
    """Raise 403.1 unless `user` has one of `roles`."""
    if user.role not in roles:
        raise Problem("403.1")


def require_unit(user: User, unit: AdminUnit) -> None:
    """Raise 403.2 unless `unit` is inside `user`'s scope."""
    if not db.session.scalar(in_scope(user, unit)):
        raise Problem("403.2", what=unit.name)
