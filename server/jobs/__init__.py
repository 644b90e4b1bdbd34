"""Batch work in a worker process: `defer(name, **args)`, the task registry, the runners.

Web requests and commands hand long work (exports, the household rebuild per commune, the
duplicate recheck per commune, the release of held updates) to a runner by task name; the
web process itself never starts a batch job at start-up.

Which runner (`GIUPHO_JOBS`, by default from the database kind):

* `procrastinate` (PostgreSQL): jobs are rows of the app's own database, taken by
  `giupho worker` processes on any machine. Procrastinate was chosen because a province
  needs no new service for it (no Redis to run, back up and watch: the queue is backed up
  with the data and a job is deferred on the database every worker already reaches), it
  speaks psycopg 3 as the app does, runs plain synchronous functions in its workers, has
  periodic (cron) tasks, retries and a job table operators can query; it is maintained
  (releases through 2025) and its schema is applied by an Alembic migration on PostgreSQL
  (`migrations/versions/*_batch_jobs.py`), in the app's schema (the URL's search_path).
  RQ would add a Redis to run, back up and watch; PgQueuer is asyncio-first, where these
  jobs are synchronous functions.
* `inprocess` (SQLite, the laptop of `make run`): a thread pool in the process that defers,
  behind the same `defer()`; there is no queue to survive a restart, which a laptop with
  one user does not need.

Tasks are plain functions registered by name in `server.jobs.tasks` (`registry.task`);
their arguments are JSON values. Each runs in an application context of its own.
"""

from __future__ import annotations

from flask import Flask, current_app

from server.jobs.registry import Runner

KINDS = ("inprocess", "procrastinate")


def kind_for(config) -> str:
    """The runner kind a configuration asks for: `JOBS`, else by database kind."""
    kind = (config.get("JOBS") or "").strip().lower()
    if kind:
        return kind
    url = str(config["SQLALCHEMY_DATABASE_URI"])
    return "procrastinate" if url.startswith("postgresql") else "inprocess"


def init_app(app: Flask) -> None:
    """Bind the runner the configuration names to `app` (nothing is started here)."""
    kind = kind_for(app.config)
    if kind == "procrastinate":
        from server.jobs.queue import ProcrastinateRunner

        runner: Runner = ProcrastinateRunner(app)
    elif kind == "inprocess":
        from server.jobs.inprocess import InProcessRunner

        runner = InProcessRunner(app)
    else:
        raise ValueError(f"GIUPHO_JOBS: expected one of {', '.join(KINDS)}, got {kind!r}")
    app.extensions["giupho_jobs"] = runner


def runner() -> Runner:
    """The current app's runner."""
    return current_app.extensions["giupho_jobs"]


def defer(name: str, **args) -> None:
    """Run task `name` with `args` in the background (after the caller's commit)."""
    runner().defer(name, args)
