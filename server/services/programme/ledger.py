"""The support ledger: entries from visit forms and from the site, voids, loan repayments.

`live_entries()` is the one definition of "what counts": an entry not voided, and, when it
came from a visit form, from a submission that is neither superseded by an edit nor
rejected by a reviewer. Reports and exports start from it.

Where entries come from:

* the visit form's `support` repeat: `form_entry_rows` reads the repeat instances of a
  stored submission and `write_form_entries` inserts them in one statement, in the
  transaction that stored the submission (ingest, the push batch, a reviewer's acceptance).
  `(submission_id, item_index)` is unique, so a resent visit never counts twice; an edit
  writes its own entries and `live_entries` stops counting the superseded ones;
* `record`: an administrator, coordinator, commune official or agency lead records support
  to a household, or to a commune or village (a road, lights, a production model), from the
  site, the API, the CLI or a spreadsheet (`import_entries`). Cadres record support only in
  the visit form.

Who may record (and void, and record repayments): the admin everywhere; a coordinator or
commune official inside their scope; an agency lead in the units their agency is currently
assigned to (the source is their agency unless they say otherwise).

An entry is never deleted: `void` marks it with who, when and why. Every change is audited.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from forms.library import support_kinds as shipped
from server.db import db
from server.models import (
    AdminUnit,
    Household,
    HouseholdVersion,
    ReviewState,
    Role,
    Submission,
    SupportEntry,
    UnitLevel,
    User,
)
from server.models.base import utcnow
from server.models.programme import Agency
from server.models.support import LoanRepayment, SupportCategory, SupportKind, SupportSource
from server.problems import N_, Problem
from server.services import audit, transactional, txcache
from server.services.access import scope
from server.services.paging import Page, keyset_page
from server.services.programme import today
from server.services.sheets import ImportReport, RowError, read_rows

#: Who records support from the site, the API and the CLI (cadres use the visit form).
RECORDERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.COMMUNE_OFFICIAL, Role.AGENCY_LEAD})
#: The earliest date an entry may carry.
EARLIEST = dt.date(2000, 1, 1)
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def live_entries() -> sa.Select:
    """A select of the `SupportEntry` rows that count (filter it further by place and date)."""
    counted = (
        sa.select(Submission.id)
        .where(
            Submission.id == SupportEntry.submission_id,
            Submission.superseded.is_(False),
            Submission.review_state != ReviewState.REJECTED,
        )
        .exists()
    )
    return sa.select(SupportEntry).where(
        SupportEntry.voided_at.is_(None),
        sa.or_(SupportEntry.submission_id.is_(None), counted),
    )


# -- the catalogue ---------------------------------------------------------------------------


def kinds(active_only: bool = False) -> list[SupportKind]:
    """The catalogue in its order (position, then code)."""
    stmt = sa.select(SupportKind).order_by(SupportKind.position, SupportKind.code)
    if active_only:
        stmt = stmt.where(SupportKind.active.is_(True))
    return list(db.session.scalars(stmt))


def find_kind(code_or_id: str | int) -> SupportKind | None:
    """The kind with this code (or id when given a number)."""
    if isinstance(code_or_id, int) or str(code_or_id).isdigit():
        key = int(code_or_id)
        return db.session.get(SupportKind, key) if 0 < key < 2**31 else None
    code = str(code_or_id).strip().lower()
    return db.session.scalar(sa.select(SupportKind).where(SupportKind.code == code))


def get_kind(code_or_id: str | int) -> SupportKind:
    """`find_kind`, or Problem 404.41."""
    kind = find_kind(code_or_id)
    if kind is None:
        raise Problem("404.41", kind=str(code_or_id))
    return kind


def _require_admin(actor: User | None) -> None:
    if actor is not None and not scope.is_admin(actor):
        raise Problem("403.41")


def _enum(cls: type, value: Any, field: str):
    try:
        return cls(value.value if isinstance(value, cls) else str(value or "").strip())
    except ValueError:
        choices = ", ".join(member.value for member in cls)
        raise Problem("400.3", field=field, reason=f"{value!r}: one of {choices}") from None


def _unit_code(value: Any) -> str:
    unit = str(value or "").strip().lower()
    if unit not in shipped.UNITS:
        raise Problem("400.47", unit=unit, units=", ".join(shipped.UNITS))
    return unit


def described_kind(kind: SupportKind) -> dict[str, Any]:
    return {
        "code": kind.code,
        "category": SupportCategory(kind.category).value,
        "unit": kind.unit,
        "name_vi": kind.name_vi,
        "name_en": kind.name_en,
        "group": kind.group,
        "counts_pupils": bool(kind.counts_pupils),
        "position": kind.position,
        "active": bool(kind.active),
    }


@transactional
def load_catalogue() -> list[SupportKind]:
    """Add the shipped kinds (`forms.library.support_kinds`) the catalogue lacks, by code.

    The migration inserted them; this puts back the ones of a later release (and fills an
    emptied table, as tests have). Kinds already there are left as a deployment set them.
    """
    have = set(db.session.scalars(sa.select(SupportKind.code)))
    added = []
    for position, kind in enumerate(shipped.KINDS):
        if kind.code in have:
            continue
        added.append(
            SupportKind(
                code=kind.code,
                category=SupportCategory(kind.category),
                unit=kind.unit,
                group=kind.group,
                counts_pupils=kind.counts_pupils,
                name_vi=kind.vi,
                name_en=kind.en,
                position=position,
                active=True,
            )
        )
    db.session.add_all(added)
    if added:
        txcache.forget()
    return added


@transactional
def add_kind(
    code: str,
    category: SupportCategory | str,
    unit: str,
    name_vi: str,
    name_en: str,
    group: str | None = None,
    counts_pupils: bool = False,
    actor: User | None = None,
) -> SupportKind:
    """Add a kind to the catalogue (administrators only)."""
    _require_admin(actor)
    code = (code or "").strip().lower()
    if not code:
        raise Problem("400.2", field="code")
    if not _CODE.match(code):
        raise Problem(
            "400.3", field="code", reason=f"{code}: a-z, 0-9 and _, a letter first (at most 40)"
        )
    name_vi, name_en = (name_vi or "").strip(), (name_en or "").strip()
    if not name_vi:
        raise Problem("400.2", field="name_vi")
    kind = SupportKind(
        code=code,
        category=_enum(SupportCategory, category, "category"),
        unit=_unit_code(unit),
        name_vi=name_vi[:200],
        name_en=(name_en or name_vi)[:200],
        group=(group or "").strip()[:40] or None,
        counts_pupils=bool(counts_pupils),
        active=True,
    )
    if find_kind(code) is not None:
        raise Problem("409.41", kind=code)
    kind.position = (db.session.scalar(sa.select(sa.func.max(SupportKind.position))) or 0) + 1
    db.session.add(kind)
    txcache.forget()
    audit.record(actor, "support_kind.create", kind, **described_kind(kind))
    return kind


KIND_EDITABLE = ("name_vi", "name_en", "unit", "group", "counts_pupils", "position", "active")


@transactional
def update_kind(kind: SupportKind, *, actor: User | None, **changes: Any) -> SupportKind:
    """Change a kind's names, unit, group, pupils flag, position or active flag (admins).

    The code and category are kept: entries already count under them.
    """
    _require_admin(actor)
    unknown = set(changes) - set(KIND_EDITABLE)
    if unknown:
        raise Problem("400.3", field=sorted(unknown)[0], reason="cannot be changed")
    before = described_kind(kind)
    for name in ("name_vi", "name_en"):
        if name in changes:
            text = (changes[name] or "").strip()
            if not text:
                raise Problem("400.2", field=name)
            setattr(kind, name, text[:200])
    if "unit" in changes:
        kind.unit = _unit_code(changes["unit"])
    if "group" in changes:
        kind.group = (changes["group"] or "").strip()[:40] or None
    if "counts_pupils" in changes:
        kind.counts_pupils = bool(changes["counts_pupils"])
    if "position" in changes:
        try:
            kind.position = int(changes["position"])
        except (TypeError, ValueError):
            raise Problem("400.3", field="position", reason="a whole number") from None
    if "active" in changes:
        kind.active = bool(changes["active"])
    after = described_kind(kind)
    changed = {k for k in after if after[k] != before[k]}
    if changed:
        txcache.forget()
        audit.record(
            actor,
            "support_kind.update",
            kind,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return kind


def deactivate_kind(kind: SupportKind, *, actor: User | None) -> SupportKind:
    """No longer offered for new entries; the entries that have it keep counting."""
    return update_kind(kind, actor=actor, active=False)


# -- entries from the visit form --------------------------------------------------------------


@dataclass(frozen=True)
class KindRef:
    id: int
    unit: str
    counts_pupils: bool


def _kind_refs() -> dict[str, KindRef]:
    """Every kind by code, once per transaction (ingest asks for each submission)."""

    def read() -> dict[str, KindRef]:
        rows = db.session.execute(
            sa.select(SupportKind.code, SupportKind.id, SupportKind.unit, SupportKind.counts_pupils)
        )
        return {code: KindRef(id_, unit, bool(pupils)) for code, id_, unit, pupils in rows}

    return txcache.remember(("support_kinds",), read)


def _number(text: Any) -> float | None:
    try:
        value = float(str(text).strip())
    except (TypeError, ValueError):
        return None
    return value if value == value and abs(value) < 1e15 else None  # NaN, inf


def _integer(text: Any) -> int | None:
    value = _number(text)
    return int(value) if value is not None else None


def _day(text: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text or "").strip()[:10])
    except ValueError:
        return None


def form_entry_rows(
    answers: Mapping[str, Any] | None,
    *,
    submission_id: int,
    submitter: User,
    household_id: str | None,
    commune_id: int | None,
    village_id: int | None,
    received_on: dt.date | None = None,
) -> list[dict[str, Any]]:
    """The `support_entries` rows of a stored submission's `support` repeat (none when the
    form has no such repeat, or the entry would have no recipient).

    Each repeat instance is one entry: its kind (codes of earlier visit forms are mapped to
    the catalogue, `support_kinds.LEGACY_CODES`; an unknown code counts as "other" with the
    code kept in `kind_other`), the kind's unit (the answered unit for "other", or when an
    earlier form's answer named another unit), the date given (the visit's day when empty).
    """
    items = (answers or {}).get("support")
    if not isinstance(items, list) or not items:
        return []
    if household_id is None and commune_id is None:
        return []
    refs = _kind_refs()
    visit_day = _day((answers or {}).get("today")) or received_on or dt.date.today()
    rows = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping) or not item.get("support_kind"):
            continue
        answered = str(item.get("support_kind")).strip()
        code = shipped.catalogue_code(answered)
        other = str(item.get("support_kind_other") or "").strip() or None
        if code not in refs:
            code, other = "other", other or answered
        ref = refs.get(code)
        if ref is None:  # a catalogue without "other": nothing to count it under
            continue
        unit = str(item.get("support_unit") or "").strip()
        unit = unit if unit and (code == "other" or unit != ref.unit) else ref.unit
        try:
            source = SupportSource(str(item.get("support_source") or "").strip())
        except ValueError:
            source = SupportSource.OTHER  # earlier visit forms did not ask
        quantity = _number(item.get("support_quantity"))
        value = _integer(item.get("support_value"))
        pupils = _integer(item.get("support_pupils")) if ref.counts_pupils else None
        rows.append(
            {
                "kind_id": ref.id,
                "kind_other": other[:300] if other else None,
                "household_id": household_id,
                "commune_id": commune_id,
                "village_id": village_id,
                "quantity": quantity if quantity is not None and quantity > 0 else None,
                "unit": unit[:20],
                "value_vnd": value if value is not None and value >= 0 else None,
                "pupils": pupils if pupils is not None and pupils >= 0 else None,
                "given_on": _day(item.get("support_date")) or visit_day,
                "source_type": source,
                "source_user_id": submitter.id if source == SupportSource.CADRE else None,
                "source_agency_id": submitter.agency_id if source == SupportSource.AGENCY else None,
                "source_name": (str(item.get("support_giver") or "").strip()[:300] or None),
                "submission_id": submission_id,
                "item_index": index,
                "recorded_by_id": submitter.id,
                "recorded_at": utcnow(),
            }
        )
    return rows


def write_form_entries(rows: list[dict[str, Any]]) -> None:
    """Insert form entries in one statement (the batch path writes a whole push at once).

    Only new submissions come here, so `(submission_id, item_index)` cannot clash; the
    unique constraint is still the guard.
    """
    if rows:
        db.session.connection().execute(sa.insert(SupportEntry.__table__), rows)


def household_place(household_id: str | None) -> tuple[int | None, int | None]:
    """(commune_id, village_id) of a household, for entries of a household without a place."""
    if household_id is None:
        return None, None
    row = db.session.execute(
        sa.select(Household.commune_id, Household.village_id).where(Household.id == household_id)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def entries_of_submission(
    submission_id: int,
    answers: Mapping[str, Any] | None,
    submitter: User | None,
    household_id: str | None,
    commune_id: int | None,
    village_id: int | None,
    received_on: dt.date | None = None,
) -> int:
    """Write the entries of one stored submission (the single path, a reviewer's acceptance,
    the backfill); nothing when it has them already. Returns how many were written."""
    if submitter is None or not (answers or {}).get("support"):
        return 0
    exists = sa.select(SupportEntry.id).where(SupportEntry.submission_id == submission_id)
    if db.session.scalar(exists.limit(1)) is not None:
        return 0
    if commune_id is None and village_id is None:
        commune_id, village_id = household_place(household_id)
    rows = form_entry_rows(
        answers,
        submission_id=submission_id,
        submitter=submitter,
        household_id=household_id,
        commune_id=commune_id,
        village_id=village_id,
        received_on=received_on,
    )
    write_form_entries(rows)
    return len(rows)


#: Submissions read per transaction by `backfill_form_entries`.
BACKFILL_BATCH = 500


def needs_backfill() -> bool:
    """Whether an upgraded install may hold visits without their entries: the ledger is
    empty while submissions exist (two indexed look-ups; once any entry exists, `giupho run`
    no longer looks, and `giupho support backfill` is there for the rest)."""
    if db.session.scalar(sa.select(SupportEntry.id).limit(1)) is not None:
        return False
    return db.session.scalar(sa.select(Submission.id).limit(1)) is not None


def backfill_form_entries(batch: int = BACKFILL_BATCH) -> int:
    """Write the ledger entries of stored submissions that have none yet: the visits an
    install received before the ledger existed (their support repeats are in their answers).

    Idempotent and resumable: a submission that has entries is skipped, so a run cut short
    is simply run again. Batches of `batch` submissions by id, one transaction each; what
    each submission gets is what the single path writes (`entries_of_submission`), and a
    submission with problems gets its entries when a reviewer accepts it, as on that path.
    Returns the number of entries written.
    """
    written, after = 0, 0
    has_entries = (
        sa.select(SupportEntry.id).where(SupportEntry.submission_id == Submission.id).exists()
    )
    while True:
        ids = db.session.scalars(
            sa.select(Submission.id)
            .where(
                Submission.id > after,
                Submission.superseded.is_(False),
                Submission.review_state != ReviewState.HAS_ISSUES,
                ~has_entries,
            )
            .order_by(Submission.id)
            .limit(batch)
        ).all()
        if not ids:
            return written
        after = ids[-1]
        written += transactional(_backfill)(ids)


def _backfill(ids: list[int]) -> int:
    households = dict(
        db.session.execute(
            sa.select(HouseholdVersion.submission_id, HouseholdVersion.household_id).where(
                HouseholdVersion.submission_id.in_(ids)
            )
        ).all()
    )
    rows = db.session.execute(
        sa.select(Submission, User)
        .join(User, User.id == Submission.submitter_id)
        .where(Submission.id.in_(ids))
        .options(sa.orm.undefer(Submission.answers))
    ).all()
    return sum(
        entries_of_submission(
            submission.id,
            submission.answers,
            submitter,
            households.get(submission.id),
            submission.commune_id,
            submission.village_id,
            received_on=submission.received_at.date() if submission.received_at else None,
        )
        for submission, submitter in rows
    )


@dataclass
class EntryNames:
    """The names a list of entries is shown with: places, households, agencies, users, and
    the visit each came from; one query per kind of name (`names_of`)."""

    units: dict[int, str]
    households: dict[str, str | None]
    agencies: dict[int, str]
    users: dict[int, str]
    instances: dict[int, str]

    def place(self, entry: SupportEntry) -> str:
        return ", ".join(
            self.units[u] for u in (entry.village_id, entry.commune_id) if u in self.units
        )

    def giver(self, entry: SupportEntry) -> str:
        """The agency, the name typed, or the cadre who gave it."""
        return (
            self.agencies.get(entry.source_agency_id)
            or entry.source_name
            or self.users.get(entry.source_user_id)
            or ""
        )


def names_of(entries: list[SupportEntry]) -> EntryNames:
    def lookup(key, name, ids: set) -> dict:
        ids = ids - {None}
        if not ids:
            return {}
        return dict(db.session.execute(sa.select(key, name).where(key.in_(ids))).all())

    return EntryNames(
        units=lookup(
            AdminUnit.id,
            AdminUnit.name,
            {e.commune_id for e in entries} | {e.village_id for e in entries},
        ),
        households=lookup(Household.id, Household.label, {e.household_id for e in entries}),
        agencies=lookup(Agency.id, Agency.name, {e.source_agency_id for e in entries}),
        users=lookup(User.id, User.full_name, {e.source_user_id for e in entries}),
        instances=lookup(Submission.id, Submission.instance_id, {e.submission_id for e in entries}),
    )


# -- who may record where ----------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """A household, or a commune or village."""

    household: Household | None = None
    unit: AdminUnit | None = None

    @property
    def commune_id(self) -> int | None:
        if self.household is not None:
            return self.household.commune_id
        if self.unit.level == UnitLevel.COMMUNE:
            return self.unit.id
        return self.unit.parent_id

    @property
    def village_id(self) -> int | None:
        if self.household is not None:
            return self.household.village_id
        return self.unit.id if self.unit.level == UnitLevel.VILLAGE else None

    @property
    def unit_ids(self) -> list[int]:
        return [u for u in (self.village_id, self.commune_id) if u is not None]

    @property
    def name(self) -> str:
        if self.household is not None:
            return self.household.label or self.household.id
        return self.unit.name


def recipient(household: Household | None = None, unit: AdminUnit | None = None) -> Recipient:
    """The recipient of an entry: a household or a commune/village (400.44 otherwise)."""
    if household is not None:
        if household.commune_id is None and household.village_id is None:
            raise Problem("400.44", given=household.label or household.id)
        return Recipient(household=household)
    if unit is None or unit.level not in (UnitLevel.COMMUNE, UnitLevel.VILLAGE):
        raise Problem("400.44", given=unit.name if unit is not None else "—")
    return Recipient(unit=unit)


def _inside(unit_ids: list[int], ids: sa.Select | None) -> bool:
    if ids is None:
        return True
    if not unit_ids:
        return False
    return bool(db.session.scalar(sa.select(sa.or_(*(sa.literal(u).in_(ids) for u in unit_ids)))))


def _lead_agency(actor: User) -> Agency | None:
    ids = list(db.session.scalars(scope.led_agency_ids(actor)))
    if actor.agency_id in ids:
        return db.session.get(Agency, actor.agency_id)
    return db.session.get(Agency, min(ids)) if ids else None


def require_recorder(actor: User | None, to: Recipient) -> None:
    """403.40 for a role that does not record support, 403.2 outside the actor's scope,
    403.42 for an agency lead where their agency is not assigned today."""
    if actor is None or scope.is_admin(actor):
        return
    if actor.role not in RECORDERS:
        raise Problem("403.40")
    if actor.role == Role.AGENCY_LEAD:
        assigned = scope.agency_unit_ids(actor)
        if not _inside(to.unit_ids, assigned):
            agency = _lead_agency(actor)
            raise Problem("403.42", agency=agency.name if agency else "—", place=to.name)
        return
    if not _inside(to.unit_ids, scope.unit_ids(actor)):
        raise Problem("403.2", what=to.name)


def _check_values(
    kind: SupportKind,
    quantity: float | None,
    value_vnd: int | None,
    given_on: dt.date,
    pupils: int | None,
) -> None:
    if not kind.active:
        raise Problem("400.40", kind=kind.code)
    if quantity is not None and not quantity > 0:
        raise Problem("400.41", quantity=quantity)
    if value_vnd is not None and value_vnd < 0:
        raise Problem("400.42", value=value_vnd)
    if quantity is None and value_vnd is None:
        raise Problem("400.45")
    if given_on > today() or given_on < EARLIEST:
        raise Problem("400.43", date=given_on.isoformat(), today=today().isoformat())
    if pupils is not None and pupils < 0:
        raise Problem("400.3", field="pupils", reason=f"{pupils}: 0 or more")


def described(entry: SupportEntry) -> dict[str, Any]:
    """The audited fields of an entry, as plain values."""
    return {
        "kind": entry.kind.code if entry.kind else entry.kind_id,
        "kind_other": entry.kind_other,
        "household": entry.household_id,
        "commune_id": entry.commune_id,
        "village_id": entry.village_id,
        "quantity": entry.quantity,
        "unit": entry.unit,
        "value_vnd": entry.value_vnd,
        "pupils": entry.pupils,
        "given_on": entry.given_on.isoformat(),
        "source_type": SupportSource(entry.source_type).value,
        "source_agency_id": entry.source_agency_id,
        "source_user_id": entry.source_user_id,
        "source_name": entry.source_name,
        "description": entry.description,
    }


def _plan(
    actor: User | None,
    kind: SupportKind,
    to: Recipient,
    *,
    quantity: float | None = None,
    value_vnd: int | None = None,
    given_on: dt.date | None = None,
    source_type: SupportSource | str | None = None,
    source_agency: Agency | None = None,
    source_name: str | None = None,
    pupils: int | None = None,
    unit: str | None = None,
    kind_other: str | None = None,
    description: str | None = None,
) -> SupportEntry:
    """An entry checked as `record` checks it (not added to the session)."""
    given_on = given_on or today()
    _check_values(kind, quantity, value_vnd, given_on, pupils)
    require_recorder(actor, to)
    lead = actor is not None and actor.role == Role.AGENCY_LEAD
    if source_type in (None, ""):
        source_type = SupportSource.AGENCY if (lead or source_agency) else SupportSource.OTHER
    source_type = _enum(SupportSource, source_type, "source")
    if source_type == SupportSource.AGENCY and source_agency is None and lead:
        source_agency = _lead_agency(actor)
    if source_type != SupportSource.AGENCY:
        source_agency = None
    unit_code = kind.unit
    if unit and kind.code == "other":
        unit_code = _unit_code(unit)
    entry = SupportEntry(
        kind=kind,
        kind_id=kind.id,
        kind_other=(kind_other or "").strip()[:300] or None,
        description=(description or "").strip() or None,
        household_id=to.household.id if to.household is not None else None,
        commune_id=to.commune_id,
        village_id=to.village_id,
        quantity=quantity,
        unit=unit_code,
        value_vnd=value_vnd,
        pupils=pupils if kind.counts_pupils else None,
        given_on=given_on,
        source_type=source_type,
        source_agency_id=source_agency.id if source_agency is not None else None,
        source_user_id=actor.id if source_type == SupportSource.CADRE and actor else None,
        source_name=(source_name or "").strip()[:300] or None,
        recorded_by_id=actor.id if actor is not None else None,
        recorded_at=utcnow(),
    )
    return entry


@transactional
def record(
    actor: User | None,
    kind: SupportKind,
    to: Recipient,
    **values: Any,
) -> SupportEntry:
    """Record one entry to a household or a commune/village (see the module docstring for
    who may). `values`: quantity, value_vnd, given_on (today by default), source_type,
    source_agency, source_name, pupils, unit (for "other"), kind_other, description."""
    entry = _plan(actor, kind, to, **values)
    db.session.add(entry)
    db.session.flush()
    audit.record(actor, "support.record", entry, **described(entry))
    return entry


def _readable_clause(actor: User) -> sa.ColumnElement[bool]:
    """SQL: an entry is `actor`'s to read."""
    ids = scope.unit_ids(actor)
    if ids is None:
        return sa.true()
    in_units = sa.or_(SupportEntry.commune_id.in_(ids), SupportEntry.village_id.in_(ids))
    if actor.role == Role.CADRE:
        return sa.or_(
            SupportEntry.village_id.in_(ids),
            SupportEntry.recorded_by_id == actor.id,
            SupportEntry.household_id.in_(scope.paired_household_ids(actor)),
        )
    if actor.role == Role.AGENCY_LEAD:
        return sa.or_(in_units, SupportEntry.source_agency_id.in_(scope.led_agency_ids(actor)))
    return in_units


def readable(actor: User | None, entry_id: int | str) -> SupportEntry:
    """The entry if `actor` may read it, else Problem 404.40."""
    try:
        key = int(entry_id)
    except (TypeError, ValueError):
        raise Problem("404.40", entry=str(entry_id)) from None
    stmt = sa.select(SupportEntry).where(SupportEntry.id == key)
    if actor is not None:
        stmt = stmt.where(_readable_clause(actor))
    entry = db.session.scalar(stmt)
    if entry is None:
        raise Problem("404.40", entry=str(entry_id))
    return entry


def _recipient_of(entry: SupportEntry) -> Recipient:
    if entry.household_id is not None:
        household = db.session.get(Household, entry.household_id)
        if household is not None:
            return Recipient(household=household)
    unit = db.session.get(AdminUnit, entry.village_id or entry.commune_id)
    return Recipient(unit=unit)


def require_editor(actor: User | None, entry: SupportEntry) -> None:
    """Who voids an entry or records its repayments: who could record it there (an agency
    lead only their agency's entries)."""
    if actor is None or scope.is_admin(actor):
        return
    require_recorder(actor, _recipient_of(entry))
    if actor.role == Role.AGENCY_LEAD:
        own = set(db.session.scalars(scope.led_agency_ids(actor)))
        if entry.source_agency_id not in own:
            agency = _lead_agency(actor)
            place = _recipient_of(entry).name
            raise Problem("403.42", agency=agency.name if agency else "—", place=place)


@transactional
def void(actor: User | None, entry: SupportEntry, reason: str) -> SupportEntry:
    """Void an entry: it stops counting; the row, who voided it and why stay."""
    reason = (reason or "").strip()
    if not reason:
        raise Problem("400.48")
    require_editor(actor, entry)
    if entry.voided_at is not None:
        raise Problem("409.40", entry=entry.id, date=entry.voided_at.date().isoformat())
    entry.voided_at = utcnow()
    entry.voided_by_id = actor.id if actor is not None else None
    entry.void_reason = reason[:1000]
    audit.record(actor, "support.void", entry, reason=entry.void_reason, **described(entry))
    return entry


def repaid(entry: SupportEntry) -> int:
    """What was repaid of a loan entry (repayments not voided)."""
    total = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(LoanRepayment.amount_vnd), 0)).where(
            LoanRepayment.entry_id == entry.id, LoanRepayment.voided_at.is_(None)
        )
    )
    return int(total or 0)


def outstanding(entry: SupportEntry) -> int | None:
    """What is still owed on a loan entry (value minus repaid); None when not a loan."""
    if SupportCategory(entry.kind.category) != SupportCategory.LOAN:
        return None
    return (entry.value_vnd or 0) - repaid(entry)


@transactional
def repay(
    actor: User | None,
    entry: SupportEntry,
    amount_vnd: int,
    paid_on: dt.date | None = None,
    note: str | None = None,
) -> LoanRepayment:
    """Record a repayment of a loan entry: not more than what is still owed (400.47)."""
    if SupportCategory(entry.kind.category) != SupportCategory.LOAN:
        raise Problem("400.46", kind=entry.kind.name_vi)
    require_editor(actor, entry)
    if entry.voided_at is not None:
        raise Problem("409.40", entry=entry.id, date=entry.voided_at.date().isoformat())
    if db.session.get_bind().dialect.name == "postgresql":  # two repayments at once: one waits
        db.session.execute(
            sa.select(SupportEntry.id).where(SupportEntry.id == entry.id).with_for_update()
        )
    paid_on = paid_on or today()
    if paid_on > today() or paid_on < entry.given_on:
        raise Problem("400.43", date=paid_on.isoformat(), today=today().isoformat())
    if amount_vnd is None or amount_vnd <= 0:
        raise Problem("400.3", field="amount_vnd", reason=f"{amount_vnd}: more than 0")
    owed = outstanding(entry)
    if amount_vnd > owed:
        raise Problem("400.49", amount=amount_vnd, outstanding=owed)
    repayment = LoanRepayment(
        entry_id=entry.id,
        paid_on=paid_on,
        amount_vnd=int(amount_vnd),
        note=(note or "").strip()[:1000] or None,
        recorded_by_id=actor.id if actor is not None else None,
        recorded_at=utcnow(),
    )
    db.session.add(repayment)
    db.session.flush()
    audit.record(
        actor,
        "support.repay",
        entry,
        repayment=repayment.id,
        amount_vnd=repayment.amount_vnd,
        paid_on=paid_on.isoformat(),
        outstanding=owed - repayment.amount_vnd,
    )
    return repayment


# -- lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a list of entries is narrowed to (all optional)."""

    unit: AdminUnit | None = None  # a commune or village (and the villages below a commune)
    household_id: str | None = None
    kind: SupportKind | None = None
    source_type: SupportSource | None = None
    source_agency_id: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    voided: bool = False  # include voided entries


def listed(actor: User | None, filters: Filters, after: int | None = None, limit: int = 50) -> Page:
    """A page of the entries `actor` may read, newest first (by id)."""
    stmt = sa.select(SupportEntry)
    if not filters.voided:
        stmt = stmt.where(SupportEntry.voided_at.is_(None))
    if actor is not None:
        stmt = stmt.where(_readable_clause(actor))
    if filters.unit is not None:
        stmt = stmt.where(
            sa.or_(
                SupportEntry.commune_id == filters.unit.id,
                SupportEntry.village_id == filters.unit.id,
            )
        )
    if filters.household_id:
        stmt = stmt.where(SupportEntry.household_id == filters.household_id)
    if filters.kind is not None:
        stmt = stmt.where(SupportEntry.kind_id == filters.kind.id)
    if filters.source_type is not None:
        stmt = stmt.where(SupportEntry.source_type == filters.source_type)
    if filters.source_agency_id is not None:
        stmt = stmt.where(SupportEntry.source_agency_id == filters.source_agency_id)
    if filters.date_from is not None:
        stmt = stmt.where(SupportEntry.given_on >= filters.date_from)
    if filters.date_to is not None:
        stmt = stmt.where(SupportEntry.given_on <= filters.date_to)
    return keyset_page(stmt, SupportEntry.id, after, limit, descending=True)


def of_household(household_id: str, limit: int = 100) -> list[SupportEntry]:
    """The live entries of one household, newest first (the household page)."""
    stmt = (
        live_entries()
        .where(SupportEntry.household_id == household_id)
        .order_by(SupportEntry.given_on.desc(), SupportEntry.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


# -- import ------------------------------------------------------------------------------------

#: The columns of a support file (lower-cased headers), with the other names people use.
COLUMNS = {
    "kind": ("kind", "loại", "loại hỗ trợ", "mã loại"),
    "household": ("household", "household_id", "household_code", "hộ", "mã hộ"),
    "unit": ("unit", "commune", "village", "xã", "thôn", "địa bàn"),
    "quantity": ("quantity", "số lượng"),
    "value_vnd": ("value_vnd", "value", "giá trị", "giá trị (đồng)", "số tiền"),
    "given_on": ("given_on", "date", "ngày", "ngày trao"),
    "source": ("source", "source_type", "nguồn"),
    "source_name": ("source_name", "giver", "người trao", "đơn vị trao"),
    "pupils": ("pupils", "số học sinh"),
    "kind_other": ("kind_other", "other", "loại khác"),
    "description": ("description", "mô tả", "ghi chú"),
}


SEVERAL_HOUSEHOLDS = N_(
    "Several households have the code '%(value)s': give the household's id instead."
)


def _value(row, column: str) -> str:
    return next((row.get(n) for n in COLUMNS[column] if row.get(n)), "")


def parse_date(text: str) -> dt.date:
    """YYYY-MM-DD or DD/MM/YYYY (ValueError otherwise)."""
    text = text.strip()
    if "/" in text:
        return dt.datetime.strptime(text, "%d/%m/%Y").date()
    return dt.date.fromisoformat(text[:10])


def _parse_amount(text: str) -> float:
    """A number as Vietnamese spreadsheets write it: "2.500.000", "2500000", "1,5"."""
    cleaned = text.replace(" ", "").replace("đ", "").replace("₫", "")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", cleaned):
        cleaned = cleaned.replace(".", "")
    cleaned = cleaned.replace(",", ".")
    return float(cleaned)


def find_unit(actor: User | None, text: str) -> list[AdminUnit]:
    """The communes or villages `text` names: a unit path ("11/03325/01") or a commune code."""
    from server.services.programme import units

    text = text.strip()
    if "/" in text:
        unit = units.find(text.strip("/"))
        levels = (UnitLevel.COMMUNE, UnitLevel.VILLAGE)
        return [unit] if unit is not None and unit.level in levels else []
    return units.find_commune_by_code(text)


def _row_error(row, column: str, problem: Problem) -> RowError:
    from server.services.access.users import ProblemRowError

    if problem.status == 403:
        return ProblemRowError(row.number, column, "", problem=problem)
    return RowError(row.number, column, problem.type.message, problem.params)


@transactional
def import_entries(actor: User | None, data: bytes, filename: str) -> ImportReport:
    """Entries from an agency's XLSX or CSV file: columns kind (a catalogue code), household
    (id or household code) or unit (a commune code or a unit path), quantity, value_vnd,
    given_on (YYYY-MM-DD or DD/MM/YYYY; today when empty), source, source_name, pupils,
    kind_other, description.

    Every row is checked as `record` checks it; a file with any bad row records nothing and
    says what is wrong row by row.
    """
    from server.services.programme.pairs import find_households

    if actor is not None and actor.role not in RECORDERS:
        raise Problem("403.40")
    rows = read_rows(data, filename)
    errors: list[RowError] = []
    planned: list[SupportEntry] = []
    if not rows:
        errors.append(RowError(0, "", N_("The file has no data rows.")))
    for row in rows:
        before = len(errors)
        kind_text = _value(row, "kind")
        kind = find_kind(kind_text) if kind_text else None
        if not kind_text:
            errors.append(
                RowError(row.number, "kind", N_("'%(column)s' is empty"), {"column": "kind"})
            )
        elif kind is None or not kind.active:
            errors.append(
                RowError(
                    row.number,
                    "kind",
                    N_("'%(value)s' is not a kind of support in the catalogue."),
                    {"value": kind_text},
                )
            )
        numbers: dict[str, float | None] = {}
        for column in ("quantity", "value_vnd", "pupils"):
            text = _value(row, column)
            numbers[column] = None
            if text:
                try:
                    numbers[column] = _parse_amount(text)
                except ValueError:
                    errors.append(
                        RowError(
                            row.number,
                            column,
                            N_("'%(value)s' is not a number."),
                            {"value": text},
                        )
                    )
        given_on = today()
        if _value(row, "given_on"):
            try:
                given_on = parse_date(_value(row, "given_on"))
            except ValueError:
                errors.append(
                    RowError(
                        row.number,
                        "given_on",
                        N_("'%(value)s' is not a date: write YYYY-MM-DD or DD/MM/YYYY."),
                        {"value": _value(row, "given_on")},
                    )
                )
        source = _value(row, "source") or None
        if source is not None and source not in {s.value for s in SupportSource}:
            errors.append(
                RowError(
                    row.number,
                    "source",
                    N_("'%(value)s' is not a source: write one of %(choices)s."),
                    {"value": source, "choices": ", ".join(s.value for s in SupportSource)},
                )
            )
        if len(errors) > before:
            continue
        to = None
        household_text, unit_text = _value(row, "household"), _value(row, "unit")
        if household_text:
            found = find_households(actor, household_text)
            elsewhere = find_households(None, household_text) if not found else []
            if len(elsewhere) == 1:  # there, but outside the actor's area: a refusal
                where = elsewhere[0].village_id or elsewhere[0].commune_id
                unit = db.session.get(AdminUnit, where) if where else None
                refusal = Problem("403.2", what=unit.name if unit else "—")
                errors.append(_row_error(row, "household", refusal))
                continue
            if len(found) != 1:
                errors.append(
                    RowError(
                        row.number,
                        "household",
                        N_("No household in your area of work has the id or code '%(value)s'.")
                        if not found
                        else SEVERAL_HOUSEHOLDS,
                        {"value": household_text},
                    )
                )
                continue
            to = Recipient(household=found[0])
        elif unit_text:
            found_units = find_unit(actor, unit_text)
            if len(found_units) != 1:
                errors.append(
                    RowError(
                        row.number,
                        "unit",
                        N_("No commune or village has the code '%(value)s'.")
                        if not found_units
                        else N_(
                            "Several communes have the code '%(value)s': give its path instead."
                        ),
                        {"value": unit_text},
                    )
                )
                continue
            to = Recipient(unit=found_units[0])
        else:
            errors.append(
                RowError(
                    row.number,
                    "household",
                    N_("Give the household, or the commune or village (column 'unit')."),
                )
            )
            continue
        pupils = numbers["pupils"]
        value = numbers["value_vnd"]
        try:
            planned.append(
                _plan(
                    actor,
                    kind,
                    to,
                    quantity=numbers["quantity"],
                    value_vnd=int(value) if value is not None else None,
                    given_on=given_on,
                    source_type=source,
                    source_name=_value(row, "source_name"),
                    pupils=int(pupils) if pupils is not None else None,
                    kind_other=_value(row, "kind_other"),
                    description=_value(row, "description"),
                )
            )
        except Problem as problem:
            column = {"400.41": "quantity", "400.42": "value_vnd", "400.43": "given_on"}.get(
                problem.code, "household" if household_text else "unit"
            )
            errors.append(_row_error(row, column, problem))
    if errors:
        return ImportReport(errors=errors)
    report = ImportReport()
    for entry in planned:
        db.session.add(entry)
    db.session.flush()
    for entry in planned:
        audit.record(actor, "support.record", entry, imported=filename, **described(entry))
        report.created.append(entry)
    return report
