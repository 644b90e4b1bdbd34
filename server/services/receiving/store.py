"""The writes of ingest: the guarded submission insert, attachments, and the quarantine.

Split from `server.services.receiving.ingest` (which holds the rules) so each stays
readable. Everything here runs in the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import math
from dataclasses import dataclass

import orjson
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from forms.instance import Submission as ParsedSubmission
from forms.validation import ValidationResult
from server import json_codec
from server.db import db
from server.models import (
    SUBMISSION_INSTANCES,
    Attachment,
    AuditEvent,
    Device,
    QuarantineItem,
    ReviewState,
    Submission,
    SubmissionPayload,
    User,
    instance_is,
)
from server.models.base import utcnow
from server.problems import Problem
from server.services import audit
from server.services.forms.loaded import LoadedForm
from server.services.forms.places import Place
from server.services.receiving import attachments as files
from server.services.receiving import bounds

DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass
class IncomingAttachment:
    """A file that came with a submission (an OpenRosa multipart part)."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Delivery:
    """One delivery of a submission: the bytes as received and who sent them, how, when."""

    user: User
    device: Device | None
    payload: bytes
    content_type: str
    attachments: tuple[IncomingAttachment, ...] = ()
    incomplete: bool = False
    device_time: dt.datetime | None = None
    clock_offset_ms: float | None = None
    lang: str = "vi"
    # Set when a quarantined item is processed again: it is not quarantined twice.
    requeued: QuarantineItem | None = None


class Stale(Exception):
    """The version an edit replaces was superseded by another edit meanwhile (R4)."""


@dataclass(frozen=True)
class StoredSubmission:
    """What ingest needs of a stored submission (new or found): its identity and state."""

    id: int
    instance_id: str
    root_id: str
    review_state: str
    issues: list[dict] | None
    received_at: dt.datetime
    canonical_hash: str
    superseded: bool = False


_SUBMISSIONS = Submission.__table__
_CLAIMS = SUBMISSION_INSTANCES
_STORED_COLUMNS = (
    _SUBMISSIONS.c.id,
    _SUBMISSIONS.c.instance_id,
    _SUBMISSIONS.c.root_id,
    _SUBMISSIONS.c.review_state,
    _SUBMISSIONS.c.issues,
    _SUBMISSIONS.c.received_at,
    _SUBMISSIONS.c.canonical_hash,
    _SUBMISSIONS.c.superseded,
)
#: The look-up of a stored submission by instanceID, per dialect (`instance_is`).
_STORED = {
    dialect: sa.select(*_STORED_COLUMNS).where(
        instance_is(sa.bindparam("instance_id", type_=sa.String), dialect)
    )
    for dialect in ("postgresql", "sqlite")
}
_INSERT = sa.insert(_SUBMISSIONS).returning(_SUBMISSIONS.c.id)
SUBMISSIONS_ID_SEQUENCE = "submissions_id_seq"
_PAYLOADS = SubmissionPayload.__table__
AUDIT = _AUDIT = AuditEvent.__table__
_INSERT_PAYLOAD = sa.insert(_PAYLOADS)
_SUPERSEDE = (
    sa.update(_SUBMISSIONS)
    .where(_SUBMISSIONS.c.id == sa.bindparam("sid"), _SUBMISSIONS.c.superseded.is_(False))
    .values(superseded=True)
)


def stored_submission(instance_id: str) -> StoredSubmission | None:
    """The stored submission with this instanceID, or None."""
    conn = db.session.connection()
    row = conn.execute(_STORED[conn.dialect.name], {"instance_id": instance_id}).first()
    if row is None:
        return None
    found = row._asdict()
    found["review_state"] = ReviewState(found["review_state"]).value
    return StoredSubmission(**found)


def insert_submission(
    d: Delivery,
    form: LoadedForm,
    parsed: ParsedSubmission,
    instance_id: str,
    digest: str,
    validation: ValidationResult,
    place: Place,
    previous: StoredSubmission | None,
    answers: dict,
    audit: dict | None = None,
) -> StoredSubmission | None:
    """Store a new submission, or return None when its instanceID is already stored.

    `audit`: the details of the submission's audit row, written with a new
    record (on PostgreSQL in the same statement); edits do not take it.

    A database constraint is the guard (R7): UNIQUE (instance_id) on SQLite,
    the claim's primary key on PostgreSQL (`submission_instances`, claimed in
    the same statement). The INSERT says ON CONFLICT DO NOTHING, so a
    concurrent or earlier delivery of the same instance makes it insert
    nothing, without spoiling the caller's transaction. For an edit, marking
    the replaced version superseded and inserting run in one SAVEPOINT, the
    UPDATE conditional on the version still being current, so two edits of
    one version cannot both win: the loser raises `Stale`.

    Written with Core statements on the session's connection: this runs for
    every submission, and the ORM's unit of work costs more than the inserts.
    """
    root_id = previous.root_id if previous is not None else instance_id
    now = utcnow()
    values = submission_values(
        d, parsed, form, instance_id, root_id, answers, digest, validation, place, now
    )
    issues, state = values["issues"], values["review_state"]
    conn = db.session.connection()
    payload = {"content_type": d.content_type, "body": d.payload}
    if previous is None:
        # ON CONFLICT DO NOTHING: a known instanceID inserts nothing and fails nothing,
        # so no savepoint is needed (a concurrent delivery makes this wait, then skip).
        submission_id = _insert_new(conn, values, payload, audit and (d.user, audit))
        if submission_id is None:
            return None
        return StoredSubmission(
            submission_id, instance_id, root_id, state.value, issues, now, digest
        )
    savepoint = conn.begin_nested()  # an edit: superseding and inserting stand or fall together
    try:
        if conn.execute(_SUPERSEDE, {"sid": previous.id}).rowcount != 1:
            savepoint.rollback()
            raise Stale
        if conn.dialect.name == "postgresql":  # the claim: None when the instanceID is known
            submission_id = _insert_new(conn, values, payload, None)
            if submission_id is None:
                savepoint.rollback()
                return None
        else:
            submission_id = conn.execute(_INSERT, values).scalar_one()
            conn.execute(_INSERT_PAYLOAD, {"submission_id": submission_id, **payload})
        savepoint.commit()
    except IntegrityError:
        savepoint.rollback()
        if stored_submission(instance_id) is None:
            raise  # another constraint failed: a bug, not a resend
        return None
    return StoredSubmission(submission_id, instance_id, root_id, state.value, issues, now, digest)


def review_state(validation: ValidationResult) -> ReviewState:
    """The review state a new submission starts in (R6: with issues when it breaks its form)."""
    return ReviewState.RECEIVED if validation.ok else ReviewState.HAS_ISSUES


def submission_values(
    d: Delivery,
    parsed: ParsedSubmission,
    form: LoadedForm,
    instance_id: str,
    root_id: str,
    answers: dict,
    digest: str,
    validation: ValidationResult,
    place: Place,
    now: dt.datetime,
) -> dict:
    """The columns of a new submission row: one place for the single and the batch insert."""
    issues = [issue.to_dict() for issue in validation.issues] or None
    offset = d.clock_offset_ms
    return {
        "instance_id": instance_id,
        "root_id": root_id,
        "deprecated_id": parsed.deprecated_id,
        "instance_name": (parsed.instance_name or "")[:300] or None,
        "form_version_id": form.version_id,
        "answers": answers,
        "canonical_hash": digest,
        "review_state": review_state(validation),
        "issues": issues,
        "superseded": False,
        "submitter_id": d.user.id,
        "device_id": d.device.id if d.device is not None else None,
        "device_time": d.device_time,
        "received_at": now,
        "clock_offset_seconds": offset / 1000 if offset is not None else None,
        "commune_id": place.commune_id,
        "village_id": place.village_id,
    }


def _insert_new(
    conn: sa.Connection, values: dict, payload: dict, audit: tuple[User, dict] | None
) -> int | None:
    """INSERT a new submission, its payload and (given its actor and details) its audit
    row; its id, or None when the instanceID is known (and nothing was written).

    On PostgreSQL every row goes in one statement (a data-modifying CTE: one
    round trip instead of three); elsewhere in one statement each.
    """
    if conn.dialect.name == "postgresql":
        params = {**values, "payload_content_type": payload["content_type"]}
        params["payload_body"] = payload["body"]
        if audit is not None:
            row = audit_row(audit[0], "submission.receive", 0, **audit[1])
            params |= {f"audit_{k}": v for k, v in row.items() if k != "target_id"}
        statement = _create_with_payload_pg(tuple(values), audit is not None)
        return conn.execute(statement, params).scalar()
    submission_id = conn.execute(create_statement(conn.dialect.name), values).scalar()
    if submission_id is not None:
        conn.execute(_INSERT_PAYLOAD, {"submission_id": submission_id, **payload})
        if audit is not None:
            write_audit([audit_row(audit[0], "submission.receive", submission_id, **audit[1])])
    return submission_id


#: PostgreSQL statements, by the columns they write (and whether with an audit row).
_PG: dict = {}


def _create_with_payload_pg(columns: tuple[str, ...], audited: bool) -> sa.Select:
    """WITH c AS (INSERT claim (instance_id, nextval) ON CONFLICT DO NOTHING RETURNING ..),
    s AS (INSERT submission SELECT .. FROM c RETURNING id),
    p AS (INSERT payload SELECT .. FROM s) [, a AS (INSERT audit row SELECT .. FROM s)]
    SELECT id FROM s.

    The claim is R7's guard (`submission_instances`): a known instanceID claims nothing, so
    nothing else is inserted; a concurrent delivery waits for this one's transaction, then
    claims nothing (or claims, if this one rolled back)."""
    key = ("single", columns, audited)
    if key not in _PG:
        from sqlalchemy.dialects.postgresql import insert

        claimed = (
            insert(_CLAIMS)
            .values(
                instance_id=sa.bindparam("instance_id", type_=_CLAIMS.c.instance_id.type),
                submission_id=sa.func.nextval(SUBMISSIONS_ID_SEQUENCE),
            )
            .on_conflict_do_nothing(index_elements=["instance_id"])
            .returning(_CLAIMS.c.instance_id, _CLAIMS.c.submission_id)
            .cte("claimed")
        )
        given = {"id": claimed.c.submission_id, "instance_id": claimed.c.instance_id}
        new = (
            sa.insert(_SUBMISSIONS)
            .from_select(
                [*given, *(c for c in columns if c not in given)],
                sa.select(
                    *given.values(),
                    *(
                        sa.bindparam(c, type_=_SUBMISSIONS.c[c].type)
                        for c in columns
                        if c not in given
                    ),
                ).select_from(claimed),
            )
            .returning(_SUBMISSIONS.c.id)
            .cte("new_submission")
        )
        payload = _insert_from(new, _PAYLOADS, "payload", {"submission_id": new.c.id})
        statement = sa.select(new.c.id).add_cte(payload.cte("new_payload"))
        if audited:
            target = {"target_id": sa.cast(new.c.id, _AUDIT.c.target_id.type)}
            audit = _insert_from(new, _AUDIT, "audit", target)
            statement = statement.add_cte(audit.cte("new_audit"))
        _PG[key] = statement
    return _PG[key]


def _insert_from(new: sa.CTE, table: sa.Table, prefix: str, given: dict) -> sa.Insert:
    """INSERT INTO table SELECT <given columns>, <the others as parameters `prefix_name`>
    FROM new."""
    others = [c for c in table.c if c.name not in given and not c.primary_key]
    columns = [*given.values(), *(sa.bindparam(f"{prefix}_{c.name}", type_=c.type) for c in others)]
    names = [*given, *(c.name for c in others)]
    return sa.insert(table).from_select(names, sa.select(*columns).select_from(new))


def insert_many(rows: list[dict]) -> dict[str, int]:
    """INSERT new submissions (`submission_values` rows) in one statement, the instanceID's
    UNIQUE (SQLite) or claim (PostgreSQL) guarding each (ON CONFLICT DO NOTHING, R7);
    instanceID -> id of those inserted. Rows are inserted (claimed) in the order given (sort
    them: one lock order).

    On PostgreSQL the rows travel as one JSON document expanded by
    `jsonb_populate_recordset`: a short statement, prepared once, instead of a
    multi-row VALUES list whose thousands of parameters the driver would parse
    again for every batch.
    """
    if not rows:
        return {}
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        document = json_codec.dumps(rows, default=_json_value, own_datetimes=True).decode()
        result = conn.execute(_create_many_pg(tuple(rows[0])), {"rows": document})
    else:
        result = conn.execute(create_statement(conn.dialect.name), rows)
    return {row.instance_id: row.id for row in result}


def _json_value(value):
    """What PostgreSQL reads back from JSON as the column's value."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.isoformat()
    if isinstance(value, dt.date):  # a Date column reads ISO 8601 text
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()  # bytea's text form
    raise TypeError(f"{type(value).__name__} in a submission row")


def _create_many_pg(columns: tuple[str, ...]) -> sa.TextClause:
    key = ("many", columns)
    if key not in _PG:
        names = ", ".join(f'"{_SUBMISSIONS.c[c].name}"' for c in columns)
        # JSON null comes out of the record as SQL NULL: put back the JSON null that
        # SQLAlchemy's JSON type stores for None, so both insert paths store the same.
        values = ", ".join(
            f"COALESCE(\"{c}\", 'null'::jsonb)"
            if isinstance(_SUBMISSIONS.c[c].type, sa.JSON)
            else f'"{c}"'
            for c in columns
        )
        table = _SUBMISSIONS.name
        # The rows claim their instanceIDs first (R7's guard), in the order given; only the
        # claimed ones are inserted, with the id their claim took from the sequence.
        _PG[key] = sa.text(
            f"WITH given AS (SELECT * FROM "
            f"jsonb_populate_recordset(NULL::{table}, CAST(:rows AS jsonb)) WITH ORDINALITY),"
            f" claimed AS (INSERT INTO {_CLAIMS.name} (instance_id, submission_id)"
            f" SELECT instance_id, nextval('{SUBMISSIONS_ID_SEQUENCE}') FROM given"
            " ORDER BY ordinality"
            " ON CONFLICT (instance_id) DO NOTHING RETURNING instance_id, submission_id)"
            f" INSERT INTO {table} (id, {names}) SELECT claimed.submission_id, {values}"
            " FROM given JOIN claimed USING (instance_id) RETURNING id, instance_id"
        ).columns(_SUBMISSIONS.c.id, _SUBMISSIONS.c.instance_id)
    return _PG[key]


_CREATE: dict[str, sa.Insert] = {}


def create_statement(dialect: str) -> sa.Insert:
    """INSERT ... ON CONFLICT (instance_id) DO NOTHING RETURNING id, instance_id."""
    if dialect not in _CREATE:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(_SUBMISSIONS).on_conflict_do_nothing(index_elements=["instance_id"])
        _CREATE[dialect] = statement.returning(_SUBMISSIONS.c.id, _SUBMISSIONS.c.instance_id)
    return _CREATE[dialect]


def audit_row(actor: User | None, action: str, submission_id: int, **details) -> dict:
    """The audit row of a submission, as `audit.record` writes it (see `write_audit`)."""
    return {
        "actor_id": actor.id if actor is not None else None,
        "action": action,
        "target_type": _SUBMISSIONS.name,
        "target_id": str(submission_id),
        "details": details,
        "at": utcnow(),
    }


def write_audit(rows: list[dict]) -> None:
    """Insert audit rows at once (Core: the ORM's unit of work costs more than the insert)."""
    insert_rows(_AUDIT, rows)


def insert_together(parts: list[tuple[sa.Table, list[dict], tuple[str, ...] | None]]) -> None:
    """INSERT rows into several tables: (table, rows, key) each, the rows of a table with
    the same columns, `key` the unique columns on which a known row is skipped (ON
    CONFLICT DO NOTHING), or None.

    On PostgreSQL in one statement (data-modifying CTEs: one round trip instead of one
    per table; each runs to completion though nothing reads it), elsewhere one each.
    """
    parts = [part for part in parts if part[1]]
    if not parts:
        return
    conn = db.session.connection()
    if conn.dialect.name != "postgresql":
        for table, rows, key in parts:
            statement = sa.insert(table)
            if key is not None:
                from sqlalchemy.dialects.sqlite import insert

                statement = insert(table).on_conflict_do_nothing(index_elements=list(key))
            conn.execute(statement, rows)
        return
    shape = tuple((table.name, tuple(rows[0]), len(rows), key) for table, rows, key in parts)
    params = {
        f"t{t}_{r}_{column}": value
        for t, (_table, rows, _key) in enumerate(parts)
        for r, row in enumerate(rows)
        for column, value in row.items()
    }
    conn.execute(_together_pg(shape, [table for table, _rows, _key in parts]), params)


def _together_pg(shape: tuple, tables: list[sa.Table]) -> sa.Select:
    """WITH t0 AS (INSERT ..), t1 AS (INSERT ..) .. SELECT 1, built once per shape."""
    if shape not in _PG:
        from sqlalchemy.dialects.postgresql import insert

        statement = sa.select(sa.literal(1))
        for t, ((_name, columns, count, key), table) in enumerate(zip(shape, tables, strict=True)):
            values = [
                {c: sa.bindparam(f"t{t}_{r}_{c}", type_=table.c[c].type) for c in columns}
                for r in range(count)
            ]
            insert_rows = insert(table).values(values)
            if key is not None:
                insert_rows = insert_rows.on_conflict_do_nothing(index_elements=list(key))
            statement = statement.add_cte(insert_rows.cte(f"insert_{t}"))
        _PG[shape] = statement
    return _PG[shape]


def record_audit(actor: User | None, action: str, submission_id: int, **details) -> None:
    """The audit row of a submission (held as an id here, not as an ORM object)."""
    write_audit([audit_row(actor, action, submission_id, **details)])


def add_attachments(
    submission_id: int, incoming: tuple[IncomingAttachment, ...], actor: User | None
) -> int:
    """Add the attachments submission `submission_id` lacks (multi-POST, R2); returns how many.

    A file whose name is already stored with other bytes is not swapped in:
    its bytes are kept on disk and the clash is audited for a reviewer.
    """
    if not incoming:
        return 0
    stmt = sa.select(Attachment).where(Attachment.submission_id == submission_id)
    have = {a.filename: a for a in db.session.scalars(stmt)}
    added = 0
    for part in incoming:
        name = files.safe_filename(part.filename)
        kept = files.store(part.data)
        if name in have:
            if have[name].sha256 != kept.sha256:
                record_audit(
                    actor,
                    "attachment.clash",
                    submission_id,
                    filename=name,
                    sha256=kept.sha256,
                    storage_path=kept.storage_path,
                )
            continue
        row = Attachment(
            submission_id=submission_id,
            filename=name,
            content_type=(part.content_type or DEFAULT_CONTENT_TYPE)[:120],
            size=kept.size,
            sha256=kept.sha256,
            storage_path=kept.storage_path,
        )
        try:
            with db.session.begin_nested():  # another POST of the same split may add it too
                db.session.add(row)
        except IntegrityError:
            continue
        have[name] = row
        added += 1
    return added


def keep_in_quarantine(
    d: Delivery,
    problem: Problem,
    instance_id: str | None,
    form_id: str | None,
    version: str | None,
    linked: int | None,
) -> QuarantineItem:
    """Keep a payload the server could not store as a submission, with the reason.

    The same payload quarantined again for the same reason (Collect retrying)
    is kept once: its item gains the attachments it lacked.
    """
    sha = hashlib.sha256(d.payload).hexdigest()
    kept = [_kept(a) for a in d.attachments]
    # The columns keep what they can of the ids (issue 13: an id too long or holding a NUL
    # is why it is here); the payload keeps them whole, as received.
    instance_id = bounds.storable(instance_id, bounds.column_length(QuarantineItem.instance_id))
    form_id = bounds.storable(form_id, bounds.column_length(QuarantineItem.form_id))
    version = bounds.storable(version, bounds.column_length(QuarantineItem.form_version))
    item = _same_item(instance_id, problem.code, sha)
    if item is not None:
        known = {a["filename"] for a in item.details.get("attachments", [])}
        new = [a for a in kept if a["filename"] not in known]
        if new:
            item.details = {**item.details, "attachments": [*item.details["attachments"], *new]}
        return item
    item = QuarantineItem(
        reason_code=problem.code,
        message=problem.message("en"),
        content_type=d.content_type,
        payload=d.payload,
        instance_id=instance_id,
        submission_id=linked,
        form_id=form_id,
        form_version=version,
        submitter_id=d.user.id,
        device_id=d.device.id if d.device is not None else None,
        details={
            "sha256": sha,
            "message_vi": problem.message("vi"),
            "attachments": kept,
            "incomplete": d.incomplete,
            "device_time": d.device_time.isoformat() if d.device_time else None,
            "clock_offset_ms": d.clock_offset_ms,
            "lang": d.lang,
        },
    )
    db.session.add(item)
    audit.record(
        d.user,
        "submission.quarantine",
        item,
        code=problem.code,
        instance_id=instance_id,
        form_id=form_id,
        version=version,
    )
    return item


def _kept(part: IncomingAttachment) -> dict:
    stored = files.store(part.data)
    return {
        "filename": files.safe_filename(part.filename),
        "content_type": (part.content_type or DEFAULT_CONTENT_TYPE)[:120],
        "size": stored.size,
        "sha256": stored.sha256,
        "storage_path": stored.storage_path,
    }


def _same_item(instance_id: str | None, code: str, sha: str) -> QuarantineItem | None:
    if not instance_id:
        return None
    stmt = sa.select(QuarantineItem).where(
        QuarantineItem.instance_id == instance_id,
        QuarantineItem.reason_code == code,
        QuarantineItem.resolved_at.is_(None),
    )
    return next((i for i in db.session.scalars(stmt) if i.details.get("sha256") == sha), None)


# -- many rows in one statement ----------------------------------------------------------
#
# On PostgreSQL the rows of a grouped write travel as one JSON document expanded by
# `jsonb_populate_recordset` / `jsonb_to_recordset`: one parameter and a short statement
# prepared once, where an executemany makes SQLAlchemy and the driver convert every value
# of every row, and the server run one statement per row. SQLite keeps executemany.

#: How PostgreSQL reads a non-finite float back from a JSON string (orjson writes null).
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def insert_rows(
    table: sa.Table,
    rows: list[dict],
    key: tuple[str, ...] | None = None,
    sql: tuple[tuple[str, sa.ColumnElement], ...] = (),
) -> int:
    """INSERT `rows` (each with the same columns) into `table`; `key`: the unique columns on
    which a row already there is skipped (ON CONFLICT DO NOTHING), or None; `sql`: columns
    that take the value of an SQL expression (the same for every row). Returns how many
    rows were inserted."""
    if not rows:
        return 0
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        rows = _with_defaults(table, rows, {name for name, _ in sql})
        statement = _insert_rows_pg(table, tuple(rows[0]), key, sql)
        return conn.execute(statement, {"rows": recordset(table, rows)}).rowcount
    shape = ("insert", table.name, key, sql)
    if shape not in _PG:
        statement = sa.insert(table)
        if key is not None:
            from sqlalchemy.dialects.sqlite import insert

            statement = insert(table).on_conflict_do_nothing(index_elements=list(key))
        _PG[shape] = statement.values(dict(sql)) if sql else statement
    return conn.execute(_PG[shape], rows).rowcount


def _with_defaults(table: sa.Table, rows: list[dict], given: set[str]) -> list[dict]:
    """`rows` with the Python-side defaults of the columns they lack (as SQLAlchemy's
    INSERT fills them)."""
    missing = [
        c
        for c in table.c
        if c.name not in rows[0] and c.name not in given and c.default is not None
    ]
    if not missing:
        return rows
    defaults = {}
    for c in missing:
        if c.default.is_callable:
            defaults[c.name] = c.default.arg
        elif c.default.is_scalar:
            defaults[c.name] = lambda _ctx, value=c.default.arg: value
    return [{**row, **{name: make(None) for name, make in defaults.items()}} for row in rows]


def _insert_rows_pg(table: sa.Table, columns: tuple[str, ...], key, sql) -> sa.TextClause:
    shape = ("insert_rows", table.name, columns, key, sql)
    if shape not in _PG:
        dialect = _pg_dialect()
        names = ", ".join(f'"{table.c[c].name}"' for c in (*columns, *(n for n, _ in sql)))
        values = [_from_record(table.c[c], f'"{c}"') for c in columns]
        values += [
            str(e.compile(dialect=dialect, compile_kwargs={"literal_binds": True})) for _, e in sql
        ]
        quoted = ", ".join(f'"{table.c[k].name}"' for k in key or ())  # "check" is a keyword
        conflict = f" ON CONFLICT ({quoted}) DO NOTHING" if key else ""
        _PG[shape] = sa.text(
            f"INSERT INTO {table.name} ({names}) SELECT {', '.join(values)} FROM "
            f"jsonb_populate_recordset(NULL::{table.name}, CAST(:rows AS jsonb)){conflict}"
        )
    return _PG[shape]


@dataclass(frozen=True)
class RowsUpdate:
    """An UPDATE of many rows of `table`, one per parameter row: `where` and `values` map a
    column to the key of the row that holds its value (`where`: the value it must have;
    `values`: the value it takes); `kept`: columns of `values` that keep their value when
    the row's is None (COALESCE)."""

    table: sa.Table
    where: tuple[tuple[str, str], ...]
    values: tuple[tuple[str, str], ...]
    kept: frozenset[str] = frozenset()

    def statement(self) -> sa.Update:
        """The same UPDATE for executemany (SQLite), with the rows' keys as parameters."""
        c = self.table.c
        values = {}
        for col, k in self.values:
            value = sa.bindparam(k, type_=c[col].type)
            values[col] = sa.func.coalesce(value, c[col]) if col in self.kept else value
        where = [c[col] == sa.bindparam(k, type_=c[col].type) for col, k in self.where]
        return sa.update(self.table).where(*where).values(values)


def update_rows(update: RowsUpdate, rows: list[dict]) -> int:
    """Run `update` for every row at once; how many table rows it changed."""
    if not rows:
        return 0
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        statement = _update_rows_pg(update)
        types = dict((k, col) for col, k in (*update.where, *update.values))
        return conn.execute(statement, {"rows": recordset(update.table, rows, types)}).rowcount
    key = ("sqlite-update", update)
    if key not in _PG:
        _PG[key] = update.statement()
    return conn.execute(_PG[key], rows).rowcount


def _update_rows_pg(update: RowsUpdate) -> sa.TextClause:
    """UPDATE t SET .. FROM jsonb_to_recordset(:rows) AS r(..) WHERE t.col = r.key .."""
    shape = ("update_rows", update)
    if shape not in _PG:
        table, dialect = update.table, _pg_dialect()
        keys = dict((k, col) for col, k in (*update.where, *update.values))
        record = ", ".join(
            f'"{k}" {table.c[col].type.compile(dialect=dialect)}' for k, col in keys.items()
        )
        sets = []
        for col, k in update.values:
            value = _from_record(table.c[col], f'r."{k}"')
            if col in update.kept:
                value = f'COALESCE(r."{k}", {table.name}."{col}")'
            sets.append(f'"{col}" = {value}')
        where = " AND ".join(f'{table.name}."{col}" = r."{k}"' for col, k in update.where)
        _PG[shape] = sa.text(
            f"UPDATE {table.name} SET {', '.join(sets)} FROM "
            f"jsonb_to_recordset(CAST(:rows AS jsonb)) AS r({record}) WHERE {where}"
        )
    return _PG[shape]


def _pg_dialect():
    from sqlalchemy.dialects import postgresql

    return postgresql.dialect()


def _from_record(column: sa.Column, name: str) -> str:
    """The value of `column` read from the record: a JSON column's None is the JSON null
    that SQLAlchemy's JSON type stores for None (the record gives SQL NULL)."""
    if isinstance(column.type, sa.JSON):
        return f"COALESCE({name}, 'null'::jsonb)"
    return name


def recordset(table: sa.Table, rows: list[dict], columns: dict[str, str] | None = None) -> str:
    """`rows` as the JSON document `jsonb_populate_recordset` reads back as the columns'
    values (`columns`: the column of each key, when keys are not column names).

    JSON columns are written as JSON (a non-finite float inside them becomes null, as
    SQLAlchemy's JSON type writes it through orjson); a float of a float column becomes
    text PostgreSQL reads as the same double (orjson would write NaN as null);
    datetimes must be aware (as `UTCDateTime` requires); enums give their value."""
    floats = [
        key for key in rows[0] if isinstance(table.c[(columns or {}).get(key, key)].type, sa.Float)
    ]
    if floats:
        rows = [_floats_as_text(row, floats) for row in rows]
    try:
        return orjson.dumps(rows, default=_json_value, option=_RECORDSET).decode()
    except (TypeError, orjson.JSONEncodeError):
        # What orjson refuses (an integer beyond 64 bits) goes value by value, as an
        # executemany converts it: only the value that needs `json` is written by it.
        return "[" + ",".join(_row_json(row) for row in rows) + "]"


_RECORDSET = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _row_json(row: dict) -> str:
    members = (
        f"{json_codec.dumps(key).decode()}:"
        f"{json_codec.dumps(value, default=_json_value, own_datetimes=True).decode()}"
        for key, value in row.items()
    )
    return "{" + ",".join(members) + "}"


def _floats_as_text(row: dict, floats: list[str]) -> dict:
    """The floats of float columns as the text PostgreSQL reads back as the same double
    (through a JSON number they would pass through numeric: no -0, NaN nor infinities)."""
    row = dict(row)
    for key in floats:
        value = row[key]
        if type(value) is float:
            row[key] = repr(value) if math.isfinite(value) else _NON_FINITE[repr(value)]
    return row
