"""What a stored visit shows of itself (`VisitEvidence`), read once when it is stored.

Ingest calls `row_of_delivery` for every new submission of a form that updates a household (a
visit), on every path (one OpenRosa POST, a JSON push batch item, a quarantined item run
again): everything it needs is already in memory (the answers, the household's current row,
the parts that came with it), so recording costs one small INSERT per visit (one per batch for
a push batch) and no extra read, except when an `audit.csv` came along (its attachment id).
When the audit log arrives in a later POST of the same instance (Collect splits large
submissions), `refresh` reads it again from what is stored. Nothing here refuses a
submission: a value that cannot be read is left empty.

The checks (`server.services.monitoring.checks`) read these rows, never the raw submissions,
except the previous visit's compared answers, kept in `details["answers"]`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from forms.model import FormModel, derived
from server.db import db
from server.dedup.keys import distance_m, geopoint
from server.models import Attachment, Household, Submission
from server.models.base import utcnow
from server.models.monitoring import VisitEvidence
from server.services.forms import loaded as form_models
from server.services.monitoring import audit_csv, runs
from server.services.receiving import attachments as files
from server.services.receiving import bounds
from server.services.receiving import store as ingest_store

#: The visit form's GPS question (`forms/library/survey_rows.py`).
LOCATION_FIELD = "visit_location"
#: The household property its known location is saved to (`house_location` -> `geometry`).
HOUSEHOLD_LOCATION = "geometry"
#: Answers left out of the copied-answers comparison, because the same value on two honest
#: visits says nothing: the household chosen, and `area` and `hh_size`, which the form fills
#: from the household's record (a cadre confirms them unchanged).
TRIVIAL = frozenset({"household", "area", "hh_size"})
#: Answer types left out too: photos and GPS differ on every visit (or are checked apart),
#: dates and times are the visit's own.
UNCOMPARED_TYPES = frozenset(
    {"binary", "geopoint", "geotrace", "geoshape", "date", "dateTime", "time", "barcode"}
)
_TABLE = VisitEvidence.__table__


def is_visit(model: FormModel) -> bool:
    """Whether submissions of the form update a household (a visit, not a registration)."""
    entity = model.entity
    return entity is not None and (entity.static_update or entity.update_if is not None)


def row_of_delivery(
    *,
    submission_id: int,
    model: FormModel,
    answers: Mapping[str, Any],
    household_id: str | None,
    household_properties: Mapping[str, Any] | None,
    user_id: int | None,
    device_id: int | None,
    commune_id: int | None,
    village_id: int | None,
    received_at: dt.datetime,
    clock_offset_seconds: float | None,
    parts: Iterable[Any] = (),
) -> dict | None:
    """The evidence row of a new visit submission, or None if the form is not a visit.

    `parts` are the incoming attachments (objects with `filename` and `data`); an audit.csv
    among them is parsed here, from memory.
    """
    if not is_visit(model):
        return None
    audit = audit_part(parts)
    log = audit_csv.parse(audit.data) if audit is not None else None
    row = build(
        model, answers, household_properties, log, received_at=received_at,
        clock_offset_seconds=clock_offset_seconds,
    )  # fmt: skip
    row.update(
        submission_id=submission_id,
        household_id=household_id,
        user_id=user_id,
        device_id=device_id,
        commune_id=commune_id,
        village_id=village_id,
        audit_attachment_id=None,
    )
    if audit is not None:
        row["audit_attachment_id"] = _audit_attachment(submission_id)
    return row


def audit_part(parts: Iterable[Any]) -> Any | None:
    """The audit.csv among incoming attachments, if any."""
    return next((p for p in parts if files.safe_filename(p.filename) == audit_csv.FILENAME), None)


def write(rows: list[dict]) -> None:
    """Insert the evidence rows of new visits (one statement), and the flags they raise by
    themselves (`runs.flag_own`: nothing read, usually nothing written)."""
    if rows:
        ingest_store.insert_rows(_TABLE, rows)  # on PostgreSQL one JSON document
        runs.flag_own(rows)


def inserts(rows: list[dict]) -> list[tuple[sa.Table, list[dict], tuple[str, ...] | None]]:
    """What `write` inserts, as (table, rows, key that skips a known row) for a caller that
    writes them together with its own rows (`ingest_store.insert_together`)."""
    if not rows:
        return []
    flags = runs.own_flags(rows)
    return [(_TABLE, rows, None), *([(runs.FLAGS, flags, runs.FLAG_KEY)] if flags else [])]


def refresh(submission_id: int) -> VisitEvidence | None:
    """Read the evidence of a stored visit again (its audit.csv came later, or it was stored
    before evidence was recorded); None if it is not a visit."""
    sub = db.session.get(Submission, submission_id)
    if sub is None:
        return None
    model = form_models.loaded(sub.form_version_id).model
    if not is_visit(model):
        return None
    answers = sub.answers or {}
    household_id = _entity_id(answers)
    household = db.session.get(Household, household_id) if household_id else None
    attachment = db.session.scalars(
        sa.select(Attachment).where(
            Attachment.submission_id == submission_id, Attachment.filename == audit_csv.FILENAME
        )
    ).first()
    log = None
    if attachment is not None:
        try:
            log = audit_csv.parse(files.read(attachment.storage_path))
        except (OSError, ValueError):  # the file is gone: the evidence stands without it
            log = None
    values = build(
        model, answers, household.properties if household else None, log,
        received_at=sub.received_at, clock_offset_seconds=sub.clock_offset_seconds,
    )  # fmt: skip
    values.update(
        household_id=household.id if household else household_id,
        user_id=sub.submitter_id,
        device_id=sub.device_id,
        commune_id=sub.commune_id,
        village_id=sub.village_id,
        audit_attachment_id=attachment.id if attachment else None,
    )
    found = db.session.scalars(
        sa.select(VisitEvidence).where(VisitEvidence.submission_id == submission_id)
    ).first()
    if found is None:
        found = VisitEvidence(submission_id=submission_id)
        db.session.add(found)
    for key, value in values.items():
        setattr(found, key, value)
    db.session.flush()
    runs.flag_own([found])
    return found


def build(
    model: FormModel,
    answers: Mapping[str, Any],
    household_properties: Mapping[str, Any] | None,
    log: audit_csv.AuditLog | None,
    *,
    received_at: dt.datetime,
    clock_offset_seconds: float | None,
) -> dict:
    """The evidence columns read from the answers, the household and the audit log."""
    started, ended = _when(answers.get("start")), _when(answers.get("end"))
    duration = (ended - started).total_seconds() if started and ended else None
    where = _point(_find(answers, LOCATION_FIELD))
    details: dict[str, Any] = {"answers": compared_answers(model, answers)}
    if where is not None:
        details["location_from"] = "form"
    if log is not None:
        details["audit"] = log.summary()
        if where is None and (best := log.best_location()) is not None:
            where = (best.latitude, best.longitude, best.accuracy_m)
            details["location_from"] = "audit"
    home = geopoint((household_properties or {}).get(HOUSEHOLD_LOCATION))
    return {
        "started_at": started,
        "ended_at": ended,
        "received_at": received_at,
        "duration_seconds": duration if duration is None or duration >= 0 else None,
        "form_seconds": round(log.question_seconds, 1) if log and log.questions else None,
        "clock_offset_seconds": clock_offset_seconds,
        "latitude": where[0] if where else None,
        "longitude": where[1] if where else None,
        "accuracy_m": where[2] if where else None,
        "distance_m": round(distance_m(where[:2], home), 1) if where and home else None,
        "details": details,
        "computed_at": utcnow(),
    }


def compared_answers(model: FormModel, answers: Mapping[str, Any]) -> dict[str, str]:
    """The answers the copied-answers check compares: what the cadre typed or chose outside
    repeats, less the trivial ones (`TRIVIAL`, `UNCOMPARED_TYPES`) and computed values (which
    follow from the answers and would count them twice)."""
    found: dict[str, str] = {}
    _compare(answers, model.root.path, derived(model, "evidence.compared", _compared), found)
    return found


def _compared(model: FormModel) -> dict[str, frozenset[str]]:
    """For each group path of `model`, the names of its children whose answers are compared:
    worked out once per form version (`forms.model.derived`), not for every visit."""
    plan: dict[str, set[str]] = {}
    for path, field in model.fields.items():
        parent, _, name = path.rpartition("/")
        if name in TRIVIAL or field.kind != "question" or field.control is None:
            continue
        if field.datatype not in UNCOMPARED_TYPES:
            plan.setdefault(parent, set()).add(name)
    return {parent: frozenset(names) for parent, names in plan.items()}


def _compare(
    node: Mapping[str, Any], path: str, plan: dict[str, frozenset[str]], found: dict
) -> None:
    names = plan.get(path, frozenset())
    for key, value in node.items():
        if isinstance(value, Mapping):
            if key != "meta" and not key.startswith("@"):
                _compare(value, f"{path}/{key}", plan, found)
        elif key in names and isinstance(value, str):
            found[key] = value.strip()


def _find(answers: Mapping[str, Any], name: str) -> Any:
    """The value of the first answer called `name`, outside repeats."""
    for key, value in answers.items():
        if key == name:
            return value
        if isinstance(value, Mapping) and key != "meta":
            found = _find(value, name)
            if found is not None:
                return found
    return None


def _entity_id(answers: Mapping[str, Any]) -> str | None:
    entity = (answers.get("meta") or {}).get("entity")
    value = entity.get("@id") if isinstance(entity, Mapping) else None
    return value.strip().lower()[:36] if isinstance(value, str) and value.strip() else None


def _when(value: Any) -> dt.datetime | None:
    """An ODK dateTime answer in UTC (naive taken as UTC); None if unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    try:
        utc = moment.astimezone(dt.UTC) if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    except (OverflowError, ValueError):
        return None
    return utc if bounds.EARLIEST <= utc <= bounds.LATEST else None  # what a column holds


def _point(value: Any) -> tuple[float, float, float | None] | None:
    """(lat, lon, accuracy) of a geopoint answer ("lat lon alt accuracy")."""
    text = value if isinstance(value, str) else None
    found = geopoint(text)
    if found is None:
        return None
    parts = text.split()
    try:
        accuracy = float(parts[3]) if len(parts) > 3 else None
    except ValueError:
        accuracy = None
    if accuracy is not None and not (0 <= accuracy < 1e7):  # nan, inf, negative: unknown
        accuracy = None
    return (*found, accuracy)


def _audit_attachment(submission_id: int) -> int | None:
    return db.session.scalar(
        sa.select(Attachment.id).where(
            Attachment.submission_id == submission_id, Attachment.filename == audit_csv.FILENAME
        )
    )
