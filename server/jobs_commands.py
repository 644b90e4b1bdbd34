"""`giupho worker [--concurrency N]` and `giupho periodic`: the batch-work processes.

Production start: `giupho db upgrade` once per release, then gunicorn (web, which only
defers), then `giupho worker` on one or more machines (the same GIUPHO_* settings).
"""

from __future__ import annotations

import multiprocessing
import signal
import sys

import click
from flask import Flask

from server import create_app, jobs
from server.commands import with_app
from server.operations import partitions
from server.services.households import periodic as household_periodic
from server.services.receiving import uploads


@click.command("worker")
@click.option(
    "--concurrency",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Worker processes (the jobs are CPU-bound Python: one per core).",
)
@click.option("--once", is_flag=True, help="Stop when the queue is empty (tests, cron).")
@with_app
def worker(app: Flask, concurrency: int, once: bool) -> None:
    """Run the batch jobs (exports, rebuild per commune, duplicate recheck, release of held
    updates, and the periodic ones) from the PostgreSQL queue until stopped (SIGTERM lets
    the running job finish; a killed worker's job is run again by another)."""
    runner = jobs.runner()
    if runner.kind != "procrastinate":
        click.echo(
            "GIUPHO_JOBS is inprocess: jobs run in the process that asks for them, so there "
            "is no queue for a worker (use PostgreSQL, or `giupho periodic` from cron).",
            err=True,
        )
        raise SystemExit(1)
    if concurrency == 1:
        runner.work(wait=not once)
        return
    context = multiprocessing.get_context("spawn")  # nothing of this process is inherited
    children = [
        context.Process(target=_work, args=(not once, f"giupho-{i}"), daemon=False)
        for i in range(concurrency)
    ]
    for child in children:
        child.start()

    def stop(signum, _frame) -> None:
        for child in children:
            if child.is_alive() and child.pid is not None:
                child.terminate()  # SIGTERM: each worker finishes its job, then stops

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for child in children:
        child.join()
    if any(child.exitcode for child in children):
        sys.exit(1)


def _work(wait: bool, name: str) -> None:
    """One worker process of `giupho worker --concurrency N`."""
    app = create_app()
    with app.app_context():
        jobs.runner().work(wait=wait, name=name)


@click.command("periodic")
@with_app
def periodic(app: Flask) -> None:
    """Apply held updates whose wait is over, recheck the last day's registrations for
    duplicates, in small transactions, create the coming months' partitions (PostgreSQL) and
    delete the uploads left unfinished for `UPLOAD_EXPIRY_DAYS`: from cron (hourly) where no
    `giupho worker` runs."""
    done = household_periodic.run_all()
    click.echo(f"{done.released} held updates applied; {done.opened} possible duplicates opened")
    if swept := uploads.sweep():
        click.echo(f"{swept} unfinished uploads deleted.")
    if created := partitions.ensure().created:
        click.echo(f"Partitions created: {', '.join(created)}.")


COMMANDS = (worker, periodic)
