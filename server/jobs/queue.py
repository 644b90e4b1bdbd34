"""The Procrastinate runner: jobs as rows of the app's PostgreSQL database, run by
`giupho worker` processes (see the package docstring for why Procrastinate).

The web process only defers (one INSERT on a small connection pool of its own, opened on
first use so a forked gunicorn worker never shares it). A worker process runs one job at a
time (`concurrency=1`: the tasks are CPU-bound Python, so parallel work takes processes,
not threads; `giupho worker --concurrency N` starts N of them). A job whose worker died
(killed, machine lost) is found by its stale heartbeat and run again: the rebuild and the
recheck resume from their checkpoints, an export restarts from its queued row.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading

import procrastinate
import sqlalchemy as sa
from flask import Flask

from server.jobs.registry import Runner, load, perform
from server.json_codec import dumps_text, loads
from server.runtime import tune_gc

log = logging.getLogger(__name__)

#: Cron of the periodic job that takes back the jobs of dead workers.
STALLED_CRON = "* * * * *"


def conninfo(database_url: str) -> str:
    """The libpq address of a SQLAlchemy URL (its `options`, e.g. the search_path, kept)."""
    url = sa.engine.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ProcrastinateRunner(Runner):
    kind = "procrastinate"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._deferrer: tuple[int, procrastinate.App] | None = None
        self._lock = threading.Lock()

    def procrastinate_app(self, *, min_size: int = 1) -> procrastinate.App:
        """A Procrastinate app on the configured database (not opened yet)."""
        connector = procrastinate.PsycopgConnector(
            conninfo=conninfo(self.app.config["SQLALCHEMY_DATABASE_URI"]),
            json_dumps=dumps_text,
            json_loads=loads,
            min_size=min_size,
            max_size=self.app.config["JOBS_POOL_SIZE"],
        )
        return procrastinate.App(connector=connector)

    def _opened(self) -> procrastinate.App:
        """This process's app for deferring, opened on first use (its pool keeps no idle
        connection: a web worker defers rarely). Made again in a forked child."""
        with self._lock:
            if self._deferrer is None or self._deferrer[0] != os.getpid():
                self._deferrer = (os.getpid(), self.procrastinate_app(min_size=0).open())
            return self._deferrer[1]

    def defer(self, name: str, args: dict) -> None:
        self._opened().configure_task(name).defer(**args)

    def depth(self) -> dict[str, int]:
        """Jobs waiting and running, read from Procrastinate's table (its status index)."""
        from server.db import db

        rows = db.session.execute(
            sa.text(
                "SELECT status::text, count(*) FROM procrastinate_jobs"
                " WHERE status IN ('todo', 'doing') GROUP BY status"
            )
        ).all()
        found = {"todo": 0, "doing": 0}
        found.update({status: count for status, count in rows})
        return found

    def work(self, *, wait: bool = True, name: str = "giupho") -> None:
        """Run a worker in this process until stopped (SIGTERM/SIGINT) or, without `wait`,
        until the queue is empty."""
        proc = self.procrastinate_app()
        self._register(proc)
        tune_gc()  # as a web worker: the jobs build as many short-lived trees as ingest
        stalled_s = self.app.config["JOBS_STALLED_S"]

        async def main() -> None:
            async with proc.open_async():
                await retry_stalled(proc, stalled_s)
                await proc.run_worker_async(
                    concurrency=1,
                    wait=wait,
                    name=name,
                    update_heartbeat_interval=max(stalled_s / 6, 0.5),
                    stalled_worker_timeout=stalled_s,
                    fetch_job_polling_interval=self.app.config["JOBS_POLL_S"],
                    delete_jobs="successful",
                )

        asyncio.run(main())

    def _register(self, proc: procrastinate.App) -> None:
        app = self.app
        for task in load().values():

            def run(_name=task.name, **args):
                args.pop("timestamp", None)  # what Procrastinate gives a periodic task
                perform(app, _name, args)

            registered = proc.task(name=task.name, queue="default")(run)
            if task.cron:
                proc.periodic(cron=task.cron, periodic_id=task.name)(registered)
        stalled_s = app.config["JOBS_STALLED_S"]

        @proc.periodic(cron=STALLED_CRON, periodic_id="jobs.retry_stalled")
        @proc.task(name="jobs.retry_stalled", pass_context=True)
        async def stalled(context, timestamp: int) -> None:
            await retry_stalled(context.app, stalled_s)


async def retry_stalled(proc: procrastinate.App, seconds: float) -> int:
    """Queue again the jobs of workers silent for `seconds` (killed, or their machine lost)."""
    jobs = await proc.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds)
    for job in jobs:
        log.warning("job %s (%s) of a dead worker: queued again", job.id, job.task_name)
        await proc.job_manager.retry_job(job)
    return len(list(jobs))
