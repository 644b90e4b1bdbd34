"""The exports: submissions per form, households, the ledger and report tables, as CSV or XLSX.

An `ExportRequest` says what to export; `write()` reads it from the database in pages (a
server-side cursor on PostgreSQL, `yield_per`), bounded by the user's scope, and writes it
through a `writers.Sink`, so memory stays flat however many rows there are. `count()` gives
the rows to expect (the progress of a background export, `jobs`).

Who may export: administrators, coordinators, commune officials and agency leads, within
their scope; cadres collect, they do not export (403.60). A CCCD is personal data: it is
masked (all but its last three digits) unless the role certifies households (admin, commune
official), as `/work/shared/docs/domain.md` asks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from forms.model import Field
from server.db import db
from server.models import (
    AdminUnit,
    Agency,
    Attachment,
    Device,
    Form,
    FormState,
    FormVersion,
    Household,
    ReviewState,
    Role,
    Submission,
    SupportEntry,
    SupportKind,
    User,
)
from server.problems import Problem
from server.services.access import scope
from server.services.forms.loaded import loaded
from server.services.programme.ledger import live_entries
from server.services.reports import submission_tables, writers
from server.services.reports.periods import Period
from server.services.reports.tables import Column, Table

KINDS = ("submissions", "households", "ledger", "report", "monitoring")
FORMATS = ("csv", "xlsx")
EXPORTERS = frozenset({Role.ADMIN, Role.COORDINATOR, Role.COMMUNE_OFFICIAL, Role.AGENCY_LEAD})
#: Roles that see a CCCD whole: they certify the household (domain.md: mask it otherwise).
SEES_PERSONAL_IDS = frozenset({Role.ADMIN, Role.COMMUNE_OFFICIAL})
_PERSONAL_ID = re.compile(r"cccd|cmnd|id_number|so_dinh_danh", re.IGNORECASE)
#: Rows read from the database per round trip.
PAGE = 1000
#: Progress is reported every this many rows.
PROGRESS_EVERY = 500


@dataclass(frozen=True)
class ExportRequest:
    kind: str
    format: str = "csv"
    form: str | None = None  # submissions: the form id
    labels: str | None = None  # submissions: None (codes), "vi" or "en"
    review_states: tuple[str, ...] = ()  # submissions: only these states (all when empty)
    include_superseded: bool = False  # submissions: also versions replaced by an edit
    period: Mapping[str, str] = field(default_factory=dict)  # year / phase / from+to
    report: Mapping[str, str] = field(default_factory=dict)  # report: the /reports params
    lang: str = "vi"

    @property
    def zipped(self) -> bool:
        """CSV of several tables (submissions with repeats, reports) is a zip of CSV files."""
        return self.format == "csv" and self.kind in ("submissions", "report", "monitoring")

    def params(self) -> dict[str, Any]:
        """What is kept on the job (`ExportJob.params`) to run it again later."""
        return {
            "form": self.form,
            "labels": self.labels,
            "review_states": list(self.review_states),
            "include_superseded": self.include_superseded,
            "period": dict(self.period),
            "report": dict(self.report),
            "lang": self.lang,
        }

    @classmethod
    def parse(cls, kind: str, fmt: str, values: Mapping[str, Any]) -> ExportRequest:
        """The request `values` describe (JSON body or query string); 400.60 says what to fix."""
        if kind not in KINDS:
            raise Problem("400.60", reason=f"kind must be one of {', '.join(KINDS)}")
        if fmt not in FORMATS:
            raise Problem("400.60", reason="format must be csv or xlsx")
        labels = values.get("labels") or None
        if labels not in (None, "vi", "en"):
            raise Problem("400.60", reason="labels must be vi or en (or empty for codes)")
        states = values.get("review_states") or ()
        if isinstance(states, str):
            states = [s for s in states.split(",") if s]
        known = {s.value for s in ReviewState}
        if not isinstance(states, list | tuple) or any(s not in known for s in states):
            raise Problem("400.60", reason=f"review_states are among {', '.join(sorted(known))}")
        if kind == "submissions" and not values.get("form"):
            raise Problem("400.60", reason="name the form to export (form)")
        period = {k: str(values[k]) for k in ("year", "phase", "from", "to") if values.get(k)}
        report = values.get("report") or {}
        if not isinstance(report, Mapping):
            raise Problem("400.60", reason="report holds the report page's parameters")
        superseded = values.get("include_superseded")
        return cls(
            kind=kind,
            format=fmt,
            form=str(values["form"]) if values.get("form") else None,
            labels=labels,
            review_states=tuple(states),
            include_superseded=superseded in (True, "1", "true", "yes"),
            period=period,
            report={str(k): str(v) for k, v in report.items()},
            lang="en" if values.get("lang") == "en" else "vi",
        )


@dataclass
class ExportResult:
    rows: int
    filename: str


def require_exporter(user: User) -> None:
    if user.role not in EXPORTERS:
        raise Problem("403.60")


def filename(request: ExportRequest, today: dt.date) -> str:
    base = request.form if request.kind == "submissions" else request.kind
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", base or request.kind)
    return f"{safe}-{today.isoformat()}{writers.file_suffix(request.format, request.zipped)}"


def count(user: User, request: ExportRequest, today: dt.date) -> int | None:
    """The rows the export will hold (its main table), or None when not known beforehand."""
    require_exporter(user)
    if request.kind == "submissions":
        stmt = _submissions_select(user, request, _form(user, request.form), today)
    elif request.kind == "households":
        stmt = _households_select(user)
    elif request.kind == "ledger":
        stmt = _ledger_select(user, _period(request, today))
    else:
        return None
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))


def write(
    user: User,
    request: ExportRequest,
    path: Path,
    today: dt.date,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write the export to `path` (its folder must exist); `progress(rows)` now and then."""
    require_exporter(user)
    zone = current_app.config["TIMEZONE"]
    sink = writers.open_sink(request.format, path, zipped=request.zipped, lang=request.lang,
                             zone=zone)  # fmt: skip
    try:
        rows = _WRITERS[request.kind](user, request, sink, today, progress or (lambda _n: None))
        sink.close()
    except BaseException:
        sink.discard()
        raise
    return ExportResult(rows=rows, filename=filename(request, today))


# -- submissions ------------------------------------------------------------------------


def exportable_forms(user: User) -> list[Form]:
    """The forms `user` may export: in their scope, with a version that received."""
    received = sa.exists().where(
        FormVersion.form_pk == Form.id, FormVersion.state != FormState.DRAFT
    )
    return list(db.session.scalars(scope.forms(user).where(received).order_by(Form.title)))


def _form(user: User, form_id: str | None) -> Form:
    form = db.session.scalar(scope.forms(user).where(Form.form_id == form_id))
    if form is None:
        raise Problem("404.60", form=form_id or "")
    return form


def _latest_version(form: Form) -> int:
    """The newest version that receives (or a draft when nothing was published)."""
    stmt = sa.select(FormVersion.id).where(FormVersion.form_pk == form.id)
    found = db.session.scalar(
        stmt.where(FormVersion.state != FormState.DRAFT).order_by(FormVersion.id.desc()).limit(1)
    )
    return found or db.session.scalar(stmt.order_by(FormVersion.id.desc()).limit(1))


def _bounds(period: Period) -> tuple[dt.datetime, dt.datetime]:
    """The period's first and last-plus-one instants, in the server's time zone."""
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    start = dt.datetime.combine(period.start, dt.time(), zone)
    return start, dt.datetime.combine(period.end, dt.time(), zone)


def _submissions_select(user: User, request: ExportRequest, form: Form, today: dt.date):
    versions = sa.select(FormVersion.id).where(FormVersion.form_pk == form.id)
    stmt = scope.submissions(user).where(Submission.form_version_id.in_(versions))
    if request.period:
        start, end = _bounds(_period(request, today))
        stmt = stmt.where(Submission.received_at >= start, Submission.received_at < end)
    if request.review_states:
        stmt = stmt.where(Submission.review_state.in_([ReviewState(s) for s in
                                                       request.review_states]))  # fmt: skip
    if not request.include_superseded:
        stmt = stmt.where(Submission.superseded.is_(False))
    return stmt


def _submission_rows(user: User, request: ExportRequest, form: Form, today: dt.date):
    """Rows of (submission's columns) read a page at a time, in the order they arrived."""
    earlier = aliased(Submission)
    edits = (
        sa.select(sa.func.count())
        .where(earlier.root_id == Submission.root_id, earlier.id < Submission.id)
        .scalar_subquery()
    )
    present = (
        sa.select(sa.func.count())
        .where(Attachment.submission_id == Submission.id)
        .scalar_subquery()
    )
    stmt = (
        _submissions_select(user, request, form, today)
        .with_only_columns(
            Submission.instance_id,
            Submission.received_at,
            Submission.submitter_id,
            User.full_name,
            present,
            Submission.superseded,
            Submission.review_state,
            Device.name,
            edits,
            FormVersion.version,
            Submission.answers,
        )
        .join(FormVersion, FormVersion.id == Submission.form_version_id)
        .outerjoin(User, User.id == Submission.submitter_id)
        .outerjoin(Device, Device.id == Submission.device_id)
        .order_by(Submission.id)
        .execution_options(yield_per=PAGE)
    )
    return db.session.execute(stmt)


def _write_submissions(user, request: ExportRequest, sink, today, progress) -> int:
    form = _form(user, request.form)
    model = loaded(_latest_version(form)).model
    hide = None if user.role in SEES_PERSONAL_IDS else _is_personal_id
    root = submission_tables.layout(model, request.labels, hide)
    appenders = {}
    binaries = {}
    for table in root.walk():
        title = table.key if table.repeat is None else table.key[len(form.form_id) + 1 :]
        columns = table.columns()
        appenders[id(table)] = sink.table(table.key, title, columns)
        binaries[id(table)] = [i for i, c in enumerate(columns) if c.key in _binary_names(table)]
    expected_at = 1 + len(root.columns()) - len(submission_tables.META_COLUMNS) + 3
    done = 0
    for row in _submission_rows(user, request, form, today):
        (instance_id, received, submitter, name, present, superseded, state, device, edits,
         version, answers) = row  # fmt: skip
        status = "superseded" if superseded else None
        meta = [received, instance_id, submitter, name, present, 0, status, state.value, device,
                edits, version]  # fmt: skip
        produced = list(submission_tables.rows(root, answers or {}, instance_id, meta))
        main = produced[0][1]
        main[expected_at] = sum(
            1 for table, values in produced for i in binaries[id(table)] if values[i]
        )
        for table, values in produced:
            appenders[id(table)](values)
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(done)
    progress(done)
    return done


def _binary_names(table: submission_tables.TableLayout) -> set[str]:
    return {"-".join(leaf.names) for leaf in table.leaves if leaf.field.datatype == "binary"}


def _is_personal_id(f: Field) -> bool:
    return bool(_PERSONAL_ID.search(f.name))


# -- households -------------------------------------------------------------------------


def _households_select(user: User):
    return sa.select(Household.id).where(scope.households(user))


def _household_properties() -> list[str]:
    """The properties the forms that write households save, in form order (a bounded read:
    one per form version, never per household)."""
    ids = db.session.scalars(
        sa.select(FormVersion.id)
        .where(FormVersion.entity_dataset == "households", FormVersion.state != FormState.DRAFT)
        .order_by(FormVersion.id.desc())
    )
    names: list[str] = []
    for version_id in ids:
        entity = loaded(version_id).model.entity
        for name in entity.properties if entity else ():
            if name not in names:
                names.append(name)
    return names


_HOUSEHOLD_COLUMNS = [
    Column("household_id", "Mã hộ", "Household id"),
    Column("label", "Hộ", "Household"),
    Column("status", "Trạng thái", "Status"),
    Column("commune_name", "Xã", "Commune"),
    Column("village_name", "Thôn", "Village"),
    Column("version", "Phiên bản", "Version", "count"),
    Column("flagged", "Cần xem lại", "Flagged"),
    Column("open_conflicts", "Xung đột chưa giải quyết", "Open conflicts", "count"),
    Column("updated_at", "Cập nhật lúc", "Updated at", "date"),
]


def _write_households(user, request: ExportRequest, sink, today, progress) -> int:
    properties = _household_properties()
    fixed = {c.key for c in _HOUSEHOLD_COLUMNS}
    # A property named like a fixed column (the form's own "commune" code) keeps its name
    # behind a prefix, so no two columns share a header.
    keys = [f"property_{p}" if p in fixed else p for p in properties]
    columns = _HOUSEHOLD_COLUMNS + [Column(k, k, k) for k in keys]
    append = sink.table("households", "Hộ" if request.lang == "vi" else "Households", columns)
    hidden = {p for p in properties if _PERSONAL_ID.search(p)}
    if user.role in SEES_PERSONAL_IDS:
        hidden = set()
    commune, village = aliased(AdminUnit), aliased(AdminUnit)
    stmt = (
        sa.select(Household, commune.name, village.name)
        .where(scope.households(user))
        .outerjoin(commune, commune.id == Household.commune_id)
        .outerjoin(village, village.id == Household.village_id)
        .order_by(Household.id)
        .execution_options(yield_per=PAGE)
    )
    done = 0
    for household, commune_name, village_name in db.session.execute(stmt):
        props = household.properties or {}
        values = [
            household.id, household.label, household.status.value, commune_name, village_name,
            household.version, household.flagged, household.open_conflicts, household.updated_at,
        ]  # fmt: skip
        for name in properties:
            value = props.get(name)
            if name in hidden and isinstance(value, str):
                value = submission_tables.mask(value)
            values.append(value)
        append(values)
        done += 1
        if done % PROGRESS_EVERY == 0:
            db.session.expunge_all()  # the ORM rows read so far are done with
            progress(done)
    progress(done)
    return done


# -- the ledger -------------------------------------------------------------------------


def _period(request: ExportRequest, today: dt.date) -> Period:
    return Period.parse(request.period, today)


def _ledger_select(user: User, period: Period):
    stmt = live_entries().where(
        SupportEntry.given_on >= period.start, SupportEntry.given_on < period.end
    )
    ids = scope.unit_ids(user)
    if ids is not None:
        stmt = stmt.where(
            sa.or_(SupportEntry.commune_id.in_(ids), SupportEntry.village_id.in_(ids))
        )
    return stmt


_LEDGER_COLUMNS = [
    Column("entry_id", "Mã mục", "Entry id", "count"),
    Column("given_on", "Ngày hỗ trợ", "Given on", "date"),
    Column("kind", "Mã loại", "Kind code"),
    Column("kind_name", "Loại hỗ trợ", "Kind"),
    Column("category", "Nhóm", "Category"),
    Column("quantity", "Số lượng", "Quantity", "quantity"),
    Column("unit", "Đơn vị", "Unit"),
    Column("value_vnd", "Giá trị (đồng)", "Value (VND)", "vnd"),
    Column("pupils", "Học sinh", "Pupils", "count"),
    Column("source_type", "Nguồn", "Source"),
    Column("source_agency", "Cơ quan", "Agency"),
    Column("source_name", "Người/đơn vị trao", "Given by"),
    Column("household_id", "Mã hộ", "Household id"),
    Column("household", "Hộ", "Household"),
    Column("commune", "Xã", "Commune"),
    Column("village", "Thôn", "Village"),
    Column("description", "Mô tả", "Description"),
    Column("submission", "Phiếu", "Submission"),
]


def _write_ledger(user, request: ExportRequest, sink, today, progress) -> int:
    append = sink.table("ledger", "Sổ hỗ trợ" if request.lang == "vi" else "Support ledger",
                        _LEDGER_COLUMNS)  # fmt: skip
    commune, village = aliased(AdminUnit), aliased(AdminUnit)
    kind_name = SupportKind.name_en if request.lang == "en" else SupportKind.name_vi
    entries = _ledger_select(user, _period(request, today)).subquery()
    stmt = (
        sa.select(
            entries.c.id,
            entries.c.given_on,
            SupportKind.code,
            kind_name,
            SupportKind.category,
            entries.c.quantity,
            entries.c.unit,
            entries.c.value_vnd,
            entries.c.pupils,
            entries.c.source_type,
            Agency.name,
            entries.c.source_name,
            entries.c.household_id,
            Household.label,
            commune.name,
            village.name,
            sa.func.coalesce(entries.c.description, entries.c.kind_other),
            Submission.instance_id,
        )
        .join(SupportKind, SupportKind.id == entries.c.kind_id)
        .outerjoin(Agency, Agency.id == entries.c.source_agency_id)
        .outerjoin(Household, Household.id == entries.c.household_id)
        .outerjoin(commune, commune.id == entries.c.commune_id)
        .outerjoin(village, village.id == entries.c.village_id)
        .outerjoin(Submission, Submission.id == entries.c.submission_id)
        .order_by(entries.c.given_on, entries.c.id)
        .execution_options(yield_per=PAGE)
    )
    done = 0
    for row in db.session.execute(stmt):
        values = list(row)
        values[4] = _enum_value(values[4])
        values[9] = _enum_value(values[9])
        append(values)
        done += 1
        if done % PROGRESS_EVERY == 0:
            progress(done)
    progress(done)
    return done


def _enum_value(value: Any) -> Any:
    return getattr(value, "value", value)


# -- report tables ----------------------------------------------------------------------


def _write_report(user, request: ExportRequest, sink, today, progress) -> int:
    from server.services.reports import figures  # built beside the exports (issue 15)

    report = figures.build(user, request.report, today)
    return write_tables(sink, report.tables, request.lang, progress)


def _write_monitoring(user, request: ExportRequest, sink, today, progress) -> int:
    """The standing office's monitoring summary (issue 16) for the request's period."""
    from server.services.monitoring import summary

    found = summary.build(user, _period(request, today))
    return write_tables(sink, found.tables, request.lang, progress)


def write_tables(sink, tables: Iterable[Table], lang: str, progress) -> int:
    """Every table as a sheet (XLSX) or a CSV file of the zip."""
    done = 0
    for table in tables:
        append = sink.table(table.key, table.title(lang), table.columns)
        for values in table.values():
            append(values)
            done += 1
    progress(done)
    return done


_WRITERS: dict[str, Callable[..., int]] = {
    "submissions": _write_submissions,
    "households": _write_households,
    "ledger": _write_ledger,
    "report": _write_report,
    "monitoring": _write_monitoring,
}


def iter_file(path: Path, chunk: int = 64 * 1024, remove: bool = False) -> Iterator[bytes]:
    """The bytes of `path` in chunks (a download), removing the file after when asked."""
    try:
        with open(path, "rb") as handle:
            while block := handle.read(chunk):
                yield block
    finally:
        if remove:
            path.unlink(missing_ok=True)
