"""A world with households in two communes, and real `giupho worker` processes on
PostgreSQL's job queue (Procrastinate), started and killed as an operator would."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import DuplicateCaseMember
from server.models.base import utcnow
from server.services import transactional
from server.services.duplicates import detection as dedup
from tests.integration.contract.drivers import DRIVERS
from tests.integration.contract.submissions import household_id, registration, visit
from tests.integration.live import populate_world, publish_shipped_xforms

#: Seconds without a heartbeat after which a worker is taken for dead (short for tests).
STALLED_S = 2.0


@dataclass
class Households:
    ids: list[str]
    world: object


@pytest.fixture
def households(app, client) -> Households:
    """Registrations in both communes (a few visited twice) sent through the JSON API."""
    with app.app_context():
        world = populate_world(publish_shipped_xforms)
    ids = []
    for username, village, count in (("cadre_a", "03325_01", 14), ("cadre_b", "03316_01", 6)):
        tablet = DRIVERS["json"](client, world.tokens[username])
        for n in range(count):
            root = registration(head_name=f"Lò Văn Số {n}", village=village,
                                head__phone=f"09120{n:05d}")  # fmt: skip
            assert tablet.submit(root).status == 201
            ids.append(household_id(root))
            if n % 3 == 0:
                assert (
                    tablet.submit(visit(ids[-1], base_version=1, visited__hh_size="5")).status
                    == 201
                )
    return Households(ids, world)


@pytest.fixture
def queue_app(app, database):
    """The test app on Procrastinate's queue (the suite runs jobs in process otherwise)."""
    from server import jobs

    app.config.update(JOBS="procrastinate", JOBS_STALLED_S=STALLED_S, JOBS_POLL_S=0.2)
    jobs.init_app(app)
    with app.app_context():
        db.session.execute(sa.text("DELETE FROM procrastinate_jobs"))
        db.session.execute(sa.text("DELETE FROM procrastinate_periodic_defers"))
        db.session.execute(sa.text("DELETE FROM procrastinate_workers"))
        db.session.commit()
    return app


def worker_env(app) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIUPHO_")}
    env.update(
        GIUPHO_DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        GIUPHO_SECRET_KEY=app.config["SECRET_KEY"],
        GIUPHO_EXPORT_DIR=app.config["EXPORT_DIR"],
        GIUPHO_ATTACHMENT_DIR=app.config["ATTACHMENT_DIR"],
        GIUPHO_JOBS="procrastinate",
        GIUPHO_JOBS_STALLED_S=str(STALLED_S),
        GIUPHO_JOBS_POLL_S="0.2",
        PYTHONPATH=os.getcwd(),
    )
    return env


GIUPHO = [sys.executable, "-c", "from server.cli import main; main()"]


def giupho(app, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run a `giupho` command to its end, as the operator's shell would."""
    return subprocess.run([*GIUPHO, *args], env=worker_env(app), capture_output=True,
                          text=True, timeout=timeout)  # fmt: skip


class Worker:
    """A `giupho worker` process running until stopped or killed."""

    def __init__(self, app, *args: str) -> None:
        self.process = subprocess.Popen(
            [*GIUPHO, "worker", *args],
            env=worker_env(app),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.stdout.read()


@pytest.fixture
def workers(queue_app):
    started: list[Worker] = []

    def start(*args: str) -> Worker:
        started.append(Worker(queue_app, *args))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()


def wait_for(predicate, timeout: float = 60.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(every)
    raise AssertionError("timed out waiting")


def case_groups() -> set[frozenset[str]]:
    """The open duplicate cases, each as the set of its households."""
    groups: dict[int, set[str]] = {}
    for case_id, household in db.session.execute(
        sa.select(DuplicateCaseMember.case_id, DuplicateCaseMember.household_id)
    ):
        groups.setdefault(case_id, set()).add(household)
    return {frozenset(g) for g in groups.values()}


class _Undone(Exception):
    pass


def rechecked_in_one_transaction(hours: float = 1.0) -> set[frozenset[str]]:
    """The cases the recheck of the last `hours` opens in one transaction (rolled back)."""

    @transactional
    def undone() -> None:
        dedup.recheck(utcnow() - dt.timedelta(hours=hours))
        raise _Undone(case_groups())

    with pytest.raises(_Undone) as found:
        undone()
    return found.value.args[0]
