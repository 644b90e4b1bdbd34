"""Prometheus metrics with `prometheus_client`: requests, submissions, export jobs.

* `giupho_http_requests_total{route,method,status}` and
  `giupho_http_request_duration_seconds{route,method}`: every request, by its URL rule (the
  template, `/key/<token>/submission`, never the token itself; `unmatched` for an address
  no route has), so the number of series stays bounded.
* `giupho_submissions_total{protocol,result}`: what ingest did with each submission
  (accepted, duplicate, conflict, invalid, quarantined, refused, error).
* `giupho_export_job_duration_seconds{kind,status}`: background export jobs;
  `giupho_export_jobs{status}`: the jobs queued and running now, read from the database
  when Prometheus scrapes (one indexed count, not a table scan per request).
* `giupho_job_duration_seconds{task,status}`: every batch job (`server.jobs`: exports, the
  rebuild per commune, the recheck, the release of held updates), counted by the process
  that ran it (a `giupho worker`: give it the same `PROMETHEUS_MULTIPROC_DIR`);
  `giupho_jobs{runner,status}`: jobs waiting (`todo`) and running (`doing`) now, from
  Procrastinate's table (its status index) or the in-process runner's pool.

Several gunicorn workers: set `PROMETHEUS_MULTIPROC_DIR` to an empty folder before starting
gunicorn (prometheus_client's multiprocess mode); each worker writes its counts there and
`/metrics` sums them, whichever worker answers.

`/metrics` is for the operator's Prometheus, not the public: with `GIUPHO_METRICS_TOKEN` set
it wants `Authorization: Bearer <token>`; without it, only the machine itself (loopback) may
read it.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

from server.problems import Problem

bp = Blueprint("metrics", __name__)

REQUESTS = Counter("giupho_http_requests", "HTTP requests answered.", ("route", "method", "status"))
LATENCY = Histogram(
    "giupho_http_request_duration_seconds",
    "Time to answer an HTTP request, in seconds.",
    ("route", "method"),
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
SUBMISSIONS = Counter(
    "giupho_submissions", "Submissions received, by protocol and result.", ("protocol", "result")
)
EXPORT_JOBS = Histogram(
    "giupho_export_job_duration_seconds",
    "Time a background export job took, in seconds.",
    ("kind", "status"),
    buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)


def count_submissions(protocol: str, results: Iterable[str]) -> None:
    """Count what ingest did: `results` are receipts' `result` words."""
    for result in results:
        SUBMISSIONS.labels(protocol, result).inc()


JOBS = Histogram(
    "giupho_job_duration_seconds",
    "Time a batch job took, in seconds.",
    ("task", "status"),
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600),
)


def observe_job(task: str, status: str, seconds: float) -> None:
    JOBS.labels(task=task, status=status).observe(seconds)


def observe_export(kind: str, status: str, seconds: float) -> None:
    EXPORT_JOBS.labels(kind, status).observe(seconds)


class _Counted(Collector):
    """Gauges read once for this scrape (numbers the database holds)."""

    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self.families = families

    def collect(self):
        yield from self.families


def _export_queue() -> list[GaugeMetricFamily]:
    """Export jobs queued and running now (an indexed count, read when Prometheus scrapes)."""
    import sqlalchemy as sa

    from server.db import db
    from server.models import ExportJob, ExportStatus

    waiting = (ExportStatus.QUEUED, ExportStatus.RUNNING)
    try:
        rows = dict(
            db.session.execute(
                sa.select(ExportJob.status, sa.func.count())
                .where(ExportJob.status.in_(waiting))
                .group_by(ExportJob.status)
            ).all()
        )
    except sa.exc.SQLAlchemyError as error:  # a scrape must not fail when the database is away
        db.session.rollback()
        current_app.logger.warning(
            "metrics: cannot count export jobs: %s", error.__class__.__name__
        )
        return []
    family = GaugeMetricFamily(
        "giupho_export_jobs", "Background export jobs waiting or running.", labels=["status"]
    )
    for status in waiting:
        family.add_metric([status.value], rows.get(status, 0))
    return [family]


def _job_queue() -> list[GaugeMetricFamily]:
    """Batch jobs waiting and running now, as the app's job runner counts them."""
    import sqlalchemy as sa

    from server.db import db

    runner = current_app.extensions.get("giupho_jobs")  # `server.jobs.init_app`
    if runner is None:
        return []
    try:
        depth = runner.depth()
    except sa.exc.SQLAlchemyError as error:  # a scrape must not fail when the database is away
        db.session.rollback()
        current_app.logger.warning("metrics: cannot count jobs: %s", error.__class__.__name__)
        return []
    finally:
        db.session.rollback()  # the count's read ends here
    family = GaugeMetricFamily(
        "giupho_jobs", "Batch jobs waiting (todo) or running (doing).", labels=["runner", "status"]
    )
    for status in ("todo", "doing"):
        family.add_metric([runner.kind, status], depth.get(status, 0))
    return [family]


def _route() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def _started() -> None:
    g.metrics_started = time.perf_counter()


def _finished(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        route, method = _route(), request.method
        LATENCY.labels(route, method).observe(time.perf_counter() - started)
        REQUESTS.labels(route, method, str(response.status_code)).inc()
    return response


def _loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _allowed() -> bool:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        return _loopback(request.remote_addr)
    sent = request.headers.get("Authorization", "")
    scheme, _, value = sent.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(value.strip(), token)


@bp.get("/metrics")
def metrics():
    """The Prometheus text exposition (operator's Prometheus only: see the module's doc)."""
    if not _allowed():
        raise Problem("403.110")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    counted = CollectorRegistry(auto_describe=False)
    counted.register(_Counted(_export_queue() + _job_queue()))
    body = generate_latest(registry) + generate_latest(counted)
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def init_app(app: Flask) -> None:
    app.before_request(_started)
    app.after_request(_finished)
    app.register_blueprint(bp)
