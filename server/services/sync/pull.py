"""Delta pull (sync contract P1-P3): what a tablet must learn, page by page, in its user's scope.

A pull page is filled from the phases of the cursor (`sync_cursor`):

* removal: after the user's scope changed, the households and forms the
  tablet may hold that are no longer its business;
* snapshot: the scope's current state (forms the user may fill, households,
  review returns), each section read in key order from where the last page
  stopped. Its change-log anchor is taken *before* the first read, so
  whatever changes while the snapshot is being paged is replayed after it;
* delta: the change log after the cursor (`changes.read`, P2-safe), each
  change rendered as the record's full current state, or as a removal when
  the record left the scope.

Every read is an indexed range or key lookup bounded by the page size, so a
pull costs the same on a small database and on one of a million households.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload, undefer

from server.db import db
from server.models import (
    AdminUnit,
    Change,
    Form,
    FormState,
    FormVersion,
    Household,
    HouseholdStatus,
    ReviewState,
    Role,
    Submission,
    User,
    user_scope,
)
from server.services.access import scope
from server.services.sync import changes
from server.services.sync.changes import Cursor
from server.services.sync.cursor import DELTA, REMOVAL, SNAPSHOT, PullState
from server.services.sync.render import Renderer, ScopeView, form_key, removal
from sync import protocol

# The largest BIGINT: (horizon - 1, MAX_ID) sorts after every row of the transactions that
# have finished and before every row of those still running (see server.models.audit).
MAX_ID = 2**63 - 1
EVERYTHING = -1  # in `PullState.dropped`: the user was an admin and may hold anything
MAX_READS = 20  # section reads per page at most, so one request stays short

Entries = list[protocol.Change]
#: A section reader: (view, renderer, last key, room) -> (changes, new last key, exhausted).
Section = Callable[[ScopeView, Renderer, str, int], tuple[Entries, str, bool]]


def assigned_units(user: User) -> tuple[int, ...] | None:
    """The admin units `user` is assigned to, sorted; None for an admin (everything)."""
    if user.role == Role.ADMIN:
        return None
    stmt = sa.select(user_scope.c.unit_id).where(user_scope.c.user_id == user.id)
    return tuple(sorted(db.session.scalars(stmt)))


def log_head() -> Cursor:
    """A change-log position before which no row can appear later.

    PostgreSQL: just below the oldest running transaction (the pull horizon
    of `changes.read`); SQLite commits in id order, so the largest id.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        horizon = db.session.scalar(
            sa.text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
        )
        return Cursor(horizon - 1, MAX_ID)
    return Cursor(0, db.session.scalar(sa.select(sa.func.max(Change.id))) or 0)


def fresh_state(user: User, units: tuple[int, ...] | None) -> PullState:
    """The cursor state of a full snapshot of `units` (the user's assigned units) from now."""
    return PullState(user.id, units, log_head(), SNAPSHOT)


def rescope(state: PullState, units: tuple[int, ...] | None, view: ScopeView) -> PullState:
    """The state after the scope changed from `state.units` to `units`: drop, then re-snapshot.

    Units the tablet may still hold households of (from an unfinished earlier
    rescope, too) and that the new scope (`view`) does not cover are to be
    dropped; when the scope only grew there is nothing to drop. The snapshot
    anchor is taken now, so what the tablet missed meanwhile is in the snapshot.
    """
    held = set(state.dropped) | ({EVERYTHING} if state.units is None else set(state.units))
    dropped = tuple(sorted(u for u in held if view.work is not None and u not in view.work))
    phase = REMOVAL if dropped else SNAPSHOT
    return PullState(state.user_id, units, log_head(), phase, dropped=dropped)


# -- snapshot sections ------------------------------------------------------------------


def _page(keys: list[str], room: int, last: str) -> tuple[str, bool]:
    """The new last key and whether the section is exhausted, from `room + 1` fetched keys."""
    if len(keys) > room:
        return keys[room - 1], False
    return (keys[-1] if keys else last), True


def snapshot_forms(view: ScopeView, renderer: Renderer, key: str, room: int):
    stmt = (
        scope.form_versions(view.user)
        .where(FormVersion.state == FormState.PUBLISHED, FormVersion.id > int(key or 0))
        .options(joinedload(FormVersion.form), selectinload(FormVersion.media))
        .order_by(FormVersion.id)
        .limit(room + 1)
    )
    rows = list(db.session.scalars(stmt))
    last, done = _page([str(v.id) for v in rows], room, key)
    return [renderer.form(v) for v in rows[:room]], last, done


def snapshot_households(view: ScopeView, renderer: Renderer, key: str, room: int):
    stmt = (
        sa.select(Household)
        .where(
            view.household_clause(),
            Household.status.in_([HouseholdStatus.ACTIVE, HouseholdStatus.MERGED]),
            Household.id > key,
        )
        .order_by(Household.id)
        .limit(room + 1)
    )
    rows = list(db.session.scalars(stmt))
    last, done = _page([h.id for h in rows], room, key)
    return renderer.households(rows[:room]), last, done


def snapshot_review_returns(view: ScopeView, renderer: Renderer, key: str, room: int):
    stmt = (
        sa.select(Submission)
        .where(
            Submission.submitter_id == view.user.id,
            Submission.review_state == ReviewState.RETURNED,
            Submission.superseded.is_(False),
            Submission.id > int(key or 0),
        )
        .options(
            joinedload(Submission.form_version).joinedload(FormVersion.form),
            undefer(Submission.answers),
        )
        .order_by(Submission.id)
        .limit(room + 1)
    )
    rows = list(db.session.scalars(stmt))
    last, done = _page([str(s.id) for s in rows], room, key)
    return renderer.review_returns(rows[:room]), last, done


# -- removal sections -------------------------------------------------------------------


def _dropped_paths(unit_ids: tuple[int, ...]) -> list[str]:
    return list(db.session.scalars(sa.select(AdminUnit.path).where(AdminUnit.id.in_(unit_ids))))


def _units_below(paths: list[str]) -> sa.Select:
    """Ids of the units at `paths` and of every unit below them (by path prefix)."""
    below = [AdminUnit.path.like(_like_prefix(p), escape="\\") for p in paths]
    return sa.select(AdminUnit.id).where(sa.or_(AdminUnit.path.in_(paths), *below))


def _units_related(paths: list[str]) -> sa.Select:
    """Ids of the units at `paths`, below them and above them (whose forms they saw)."""
    above = {p.rsplit("/", n)[0] for p in paths for n in range(p.count("/") + 1)}
    below = [AdminUnit.path.like(_like_prefix(p), escape="\\") for p in paths]
    return sa.select(AdminUnit.id).where(sa.or_(AdminUnit.path.in_(sorted(above)), *below))


def _like_prefix(path: str) -> str:
    escaped = path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "/%"


def removed_forms(view: ScopeView, key: str, room: int, dropped: tuple[int, ...]):
    """Published versions the user no longer sees, of the units that left the scope."""
    visible = scope.form_versions(view.user).with_only_columns(FormVersion.id)
    stmt = (
        sa.select(FormVersion)
        .join(Form)
        .where(
            FormVersion.state == FormState.PUBLISHED,
            FormVersion.id.not_in(visible),
            FormVersion.id > int(key or 0),
        )
        .options(joinedload(FormVersion.form))
        .order_by(FormVersion.id)
        .limit(room + 1)
    )
    if EVERYTHING not in dropped:
        stmt = stmt.where(Form.unit_id.in_(_units_related(_dropped_paths(dropped))))
    rows = list(db.session.scalars(stmt))
    last, done = _page([str(v.id) for v in rows], room, key)
    return [removal("form", form_key(v)) for v in rows[:room]], last, done


def removed_households(view: ScopeView, key: str, room: int, dropped: tuple[int, ...]):
    """Households of the units that left the scope and are not in the new scope."""
    stmt = sa.select(Household.id, Household.village_id, Household.commune_id).where(
        Household.id > key
    )
    if EVERYTHING not in dropped:
        below = _units_below(_dropped_paths(dropped))
        stmt = stmt.where(sa.or_(Household.village_id.in_(below), Household.commune_id.in_(below)))
    rows = db.session.execute(stmt.order_by(Household.id).limit(room)).all()
    gone = [
        removal("household", hid)
        for hid, village, commune in rows
        if not view.holds_place(village, commune, hid)
    ]
    return gone, (rows[-1][0] if rows else key), len(rows) < room


SNAPSHOT_SECTIONS: tuple[Section, ...] = (
    snapshot_forms,
    snapshot_households,
    snapshot_review_returns,
)


# -- pages ------------------------------------------------------------------------------


def _sections_step(state: PullState, view: ScopeView, renderer: Renderer, room: int):
    """One read of the removal or snapshot section the state points at."""
    if state.phase == REMOVAL:
        sections: tuple[Section, ...] = (
            lambda v, _r, k, n: removed_forms(v, k, n, state.dropped),
            lambda v, _r, k, n: removed_households(v, k, n, state.dropped),
        )
    else:
        sections = SNAPSHOT_SECTIONS
    entries, last, exhausted = sections[state.section](view, renderer, state.key, room)
    state = state.next_section() if exhausted else state.at(last)
    if state.section >= len(sections):
        following = SNAPSHOT if state.phase == REMOVAL else DELTA
        state = replace(state, phase=following, section=0, key="", dropped=())
    return entries, state


def next_page(user: User, state: PullState, limit: int) -> tuple[Entries, PullState, bool]:
    """Up to `limit` changes after `state`: the changes, the next state and `has_more`.

    A page stops early after `MAX_READS` section reads (a removal pass over a
    large area may find little to send): the client simply asks again.
    """
    view = ScopeView.of(user)
    units = assigned_units(user)
    if state.units != units:
        state = rescope(state, units, view)
    renderer = Renderer(view)
    out: Entries = []
    for _ in range(MAX_READS):
        room = limit - len(out)
        if room <= 0:
            break
        if state.phase == DELTA:
            page = changes.read(state.log, room, view.readable_select(), view.log_clause())
            out += renderer.changes(page.changes)
            return out, replace(state, log=page.cursor), page.has_more
        entries, state = _sections_step(state, view, renderer, room)
        out += entries
    return out, state, True
