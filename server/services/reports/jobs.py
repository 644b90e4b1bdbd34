"""Exports made in the background: an `ExportJob` with its progress, its file, its error.

`create()` records what was asked (checked first: a wrong form or period is refused at once)
and `start()` defers task `exports.run` (`server.jobs`: a `giupho worker` on PostgreSQL, a
thread of the process on SQLite), which calls `run(job_id)`. While it writes, `rows_done` and
`rows_total` say how far it is; the file is written in the local working folder `EXPORT_DIR`,
then kept in the file store every machine reaches (`server.storage`, key
`exports/<job>-<name>`), so any web process serves the download; it is removed
`EXPORT_KEEP_HOURS` after it was made (`expire()`, run before each job). A failed
job keeps its error, a problem's code and message or the kind of failure, for the user to see.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from server import storage
from server.db import db
from server.jobs import defer
from server.models import ExportJob, ExportStatus, User
from server.models.base import utcnow
from server.operations import metrics
from server.problems import Problem
from server.services import transactional
from server.services.access import scope
from server.services.reports import exports
from server.services.reports.exports import ExportRequest

log = logging.getLogger(__name__)
#: A user's most recent jobs listed (older ones expire anyway).
LISTED = 50


def export_dir() -> Path:
    path = Path(current_app.config["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def request_of(job: ExportJob) -> ExportRequest:
    values = dict(job.params or {})
    period = values.pop("period", {}) or {}
    return ExportRequest.parse(job.kind, job.format, {**values, **period})


@transactional
def create(user: User, request: ExportRequest) -> ExportJob:
    """Record an export to make; refused at once when it could not be made (403, 404, 400)."""
    exports.require_exporter(user)
    total = exports.count(user, request, scope.today())
    job = ExportJob(user_id=user.id, kind=request.kind, format=request.format,
                    params=request.params() | {"period": dict(request.period)},
                    status=ExportStatus.QUEUED, rows_total=total)  # fmt: skip
    db.session.add(job)
    db.session.flush()
    return job


def start(job: ExportJob) -> None:
    """Hand `job` to the job runner (after the transaction that created it has committed)."""
    defer("exports.run", job_id=job.id)


def run(job_id: int) -> None:
    """Make the file of job `job_id` (a queued job; any other is left alone), after removing
    the files that have expired."""
    expire()
    job = _claim(job_id)
    if job is None:
        return
    user_id, request = job
    started = time.perf_counter()
    path = export_dir() / f"{job_id}-{exports.filename(request, scope.today())}"
    try:
        user = db.session.get(User, user_id)
        result = exports.write(user, request, path, scope.today(), _progress(job_id))
    except Problem as problem:
        db.session.rollback()
        _finish(job_id, error=f"{problem.code} {problem.message}")
        status = "failed"
    except Exception as exc:
        db.session.rollback()
        log.exception("export job %s failed", job_id)
        _finish(job_id, error=f"500.1 {type(exc).__name__}")
        status = "failed"
    else:
        db.session.rollback()  # the reading transaction ends before the job's row is written
        try:
            _finish(job_id, path=path, result=result)
        finally:
            path.unlink(missing_ok=True)  # in the store now (or failed): the local copy goes
        status = "done"
    metrics.observe_export(request.kind, status, time.perf_counter() - started)


@transactional
def _claim(job_id: int) -> tuple[int, ExportRequest] | None:
    job = db.session.get(ExportJob, job_id, with_for_update=True)
    if job is None or job.status != ExportStatus.QUEUED:
        return None
    job.status, job.started_at = ExportStatus.RUNNING, utcnow()
    return job.user_id, request_of(job)


def _progress(job_id: int):
    """Writes `rows_done` on a connection of its own: the export's session is reading."""
    table = ExportJob.__table__

    def report(rows: int) -> None:
        with db.engine.begin() as connection:
            connection.execute(sa.update(table).where(table.c.id == job_id).values(rows_done=rows))

    return report


@transactional
def _finish(job_id: int, *, path: Path | None = None, result=None, error: str | None = None):
    job = db.session.get(ExportJob, job_id)
    job.finished_at = utcnow()
    if error is not None:
        job.status, job.error = ExportStatus.FAILED, error[:2000]
        return
    job.status = ExportStatus.DONE
    job.rows_done = result.rows
    if job.rows_total is None or job.rows_total != result.rows:
        job.rows_total = result.rows
    key = f"exports/{path.name}"
    size = storage.current().put_stream(key, storage.stream_file(path))
    job.filename, job.storage_path, job.size = result.filename, key, size


def jobs_of(user: User) -> list[ExportJob]:
    """`user`'s most recent export jobs, newest first."""
    stmt = (
        sa.select(ExportJob)
        .where(ExportJob.user_id == user.id)
        .order_by(ExportJob.created_at.desc(), ExportJob.id.desc())
        .limit(LISTED)
    )
    return list(db.session.scalars(stmt))


def job_for(user: User, job_id: int) -> ExportJob:
    """`user`'s job `job_id` (another user's is not found: 404.61)."""
    job = db.session.get(ExportJob, job_id)
    if job is None or job.user_id != user.id:
        raise Problem("404.61", job=job_id)
    return job


def file_of(user: User, job_id: int) -> tuple[Iterator[bytes], ExportJob]:
    """The file of `user`'s finished job, as parts to stream; 409.60 while it runs or when it
    failed, 404.62 once it has expired."""
    job = job_for(user, job_id)
    if job.status != ExportStatus.DONE:
        raise Problem("409.60", job=job_id, status=job.error or job.status.value)
    if not job.storage_path:
        raise Problem("404.62", job=job_id)
    try:
        return storage.current().open_stream(job.storage_path), job
    except (storage.MissingFile, ValueError):  # ValueError: a path from before the store
        raise Problem("404.62", job=job_id) from None


@transactional
def expire(now: dt.datetime | None = None) -> int:
    """Remove the files of jobs finished more than `EXPORT_KEEP_HOURS` ago; returns how many.
    Bounded: at most a page of jobs per call (the index on the jobs' creation time)."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(hours=current_app.config["EXPORT_KEEP_HOURS"])
    stmt = (
        sa.select(ExportJob)
        .where(ExportJob.storage_path.is_not(None), ExportJob.finished_at < cutoff)
        .order_by(ExportJob.id)
        .limit(500)
    )
    removed = 0
    for job in db.session.scalars(stmt):
        _remove(job.storage_path)
        job.storage_path = None
        removed += 1
    return removed


def _remove(storage_path: str) -> None:
    if storage_path.startswith("/"):  # a file of the export folder, from before the store
        Path(storage_path).unlink(missing_ok=True)
    else:
        storage.delete_after_commit(storage_path)


def is_expired(job: ExportJob) -> bool:
    return job.status == ExportStatus.DONE and job.storage_path is None
