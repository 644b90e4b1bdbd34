"""A real giupho server in a subprocess: gunicorn with several worker processes.

The in-process test client runs one request at a time in one process, so it
cannot show what several workers do to one database at once (R7, P2 across
connections). This module starts `gunicorn "server.wsgi:app"` on a free
loopback port against a database prepared beforehand (migrated, with places,
users, devices and the shipped forms), waits for `/api/v1/health`, and stops
the server (only the process it started, by pid) afterwards.

It is plain code with one pytest fixture at the end, so `bench/` reuses it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from server.db import db, upgrade_database
from server.models import Role
from server.services import transactional
from server.services.access import auth, users
from server.services.forms import publishing as form_service
from server.services.programme import ledger
from server.services.programme import units as admin_units
from tests.integration import snapshots
from tests.integration.contract.submissions import registration_form, visit_form
from tests.integration.database import (
    BASE_TEST_CONFIG,
    build_app,
    dispose_app,
    drop_postgres_schema,
    make_postgres_schema,
)
from tests.integration.helpers import PASSWORD, Places

ROOT = Path(__file__).resolve().parents[2]

#: The settings of a test app, as the environment variables gunicorn's workers read.
SERVER_ENV = {
    "GIUPHO_SECRET_KEY": BASE_TEST_CONFIG["SECRET_KEY"],
    "GIUPHO_ARGON2_TIME_COST": str(BASE_TEST_CONFIG["ARGON2_TIME_COST"]),
    "GIUPHO_ARGON2_MEMORY_KIB": str(BASE_TEST_CONFIG["ARGON2_MEMORY_KIB"]),
    "GIUPHO_LOG_LEVEL": "WARNING",
    # Plain-HTTP Basic is refused outside development; loopback tests are development.
    "GIUPHO_ALLOW_INSECURE_BASIC": "1",
}


@dataclass(frozen=True)
class FormPlaces(Places):
    """The test places (`helpers.Places`, Điện Biên), which the shipped forms offer as answers,
    and another province out of everyone's scope but its own users' (Lào Cai).

    The forms answer a village as "<commune code>_<village code>": "03325_01"
    is the unit 11/03325/01 (`forms/library/choice_lists.py`).
    """

    other_province: str = "15"
    other_commune: str = "15/02839"  # Xã Bắc Hà
    other_village: str = "15/02839/01"

    @staticmethod
    def answer(path: str) -> str:
        """The village answer of the shipped forms for unit `path` ("11/03325/01" -> "03325_01")."""
        _province, commune, village = path.split("/")
        return f"{commune}_{village}"


#: (username, role, units): a user of every role in Điện Biên, and two in Lào Cai.
PEOPLE = (
    ("admin", Role.ADMIN, ()),
    ("coordinator", Role.COORDINATOR, ("province",)),
    ("official_a", Role.COMMUNE_OFFICIAL, ("commune_a",)),
    ("cadre_a", Role.CADRE, ("village_a1", "village_a2")),
    ("cadre_b", Role.CADRE, ("village_b1",)),
    ("lead_a", Role.AGENCY_LEAD, ("commune_a",)),
    ("coordinator_other", Role.COORDINATOR, ("other_province",)),
    ("cadre_other", Role.CADRE, ("other_village",)),
)


@dataclass
class World:
    """What a server was prepared with: places, users (PEOPLE) and each one's device token."""

    places: FormPlaces = field(default_factory=FormPlaces)
    tokens: dict[str, str] = field(default_factory=dict)  # username -> device token
    revoked_token: str = ""  # a device of cadre_a that was revoked


def _import_places(places: FormPlaces) -> None:
    """Both provinces, with two villages in each commune (codes 01 and 02)."""
    for province, communes in (
        (places.province, [places.commune_a, places.commune_b]),
        (places.other_province, [places.other_commune]),
    ):
        codes = [path.rsplit("/", 1)[1] for path in communes]
        for commune in admin_units.import_province(province, codes).communes:
            db.session.flush()  # ids for the villages' parent link
            for number in (1, 2):
                admin_units.add_village(commune, f"Bản {number}", f"{number:02d}", kind="Bản")


@transactional  # one commit for the whole world: a third of the time on PostgreSQL
def populate_world(load_forms: Callable[[], Any] | None = None) -> World:
    """Places, users of every role with a device each, and the published shipped forms.

    Runs inside an application context, on an empty database. `load_forms`
    replaces the shipped-forms loader (`forms.load_library`, the real path).
    """
    world = World()
    _import_places(world.places)
    for username, role, where in PEOPLE:
        units = [admin_units.find(getattr(world.places, name)) for name in where]
        user = users.create_user(username, username.title(), role, PASSWORD, units)
        world.tokens[username] = auth.register_device(user, "Tablet")[1]
        if username == "cadre_a":
            device, world.revoked_token = auth.register_device(user, "Lost tablet")
            auth.revoke_device(device)
    (load_forms or form_service.load_library)()
    ledger.load_catalogue()  # the support kinds the migration inserted (tables were emptied)
    return world


def publish_shipped_xforms() -> None:
    """Upload and publish the shipped forms as the XForms pyxform makes of them.

    Same form ids, versions and XForms as `forms.load_library`, without running
    pyxform again for every test (a tenth of the time).
    """
    for form in (registration_form(), visit_form()):
        form_service.upload(form.xform, f"{form.form_id}.xml", None)
        form_service.publish(None, form.form_id, form.version)


def shipped_world() -> World:
    """`populate_world(publish_shipped_xforms)` on the test's empty tables, built by the
    worker's first test and copied back for the next ones (`tests.integration.snapshots`):
    the same rows, a fraction of the time."""
    return snapshots.restored("world", lambda: populate_world(publish_shipped_xforms))


def prepare_database(url: str, instance: Path, populate: Callable[[], Any] = populate_world):
    """Migrate the database at `url` and fill it with `populate()`; returns what it returned."""
    app = build_app(url, str(instance))
    try:
        with app.app_context():
            upgrade_database()
            return populate()
    finally:
        dispose_app(app)


def free_port() -> int:
    """A TCP port nobody listens on right now (loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LiveServer:
    """gunicorn serving `server.wsgi:app` on `database_url`, started by `start()`."""

    def __init__(
        self,
        database_url: str,
        instance: Path,
        *,
        workers: int = 4,
        worker_class: str = "sync",
        threads: int = 1,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.database_url = database_url
        self.instance = instance
        self.workers = workers
        self.worker_class = worker_class
        self.threads = threads
        self.extra_env = extra_env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = instance / "gunicorn.log"

    def _command(self) -> list[str]:
        return [
            sys.executable, "-m", "gunicorn",
            "--workers", str(self.workers),
            "--worker-class", self.worker_class,
            "--threads", str(self.threads),
            "--bind", f"127.0.0.1:{self.port}",
            "--timeout", "60",
            "--graceful-timeout", "5",
            "--chdir", str(ROOT),
            # What production runs (README): the app imported once, then forked (four workers
            # ready in ~1 s, not ~5 s, sharing its memory), each worker with its own connections.
            "--config", "python:server.operations.gunicorn",
            # gunicorn's control socket has one default path per machine: several servers
            # (tests, benchmarks) running at once would take it from each other.
            "--no-control-socket",
            "server.wsgi:app",  # what production runs (README), process tuning included
        ]  # fmt: skip

    def _environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GIUPHO_")}
        env.update(SERVER_ENV)
        env["GIUPHO_DATABASE_URL"] = self.database_url
        env["GIUPHO_ATTACHMENT_DIR"] = str(self.instance / "attachments")
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30.0) -> LiveServer:
        """Start gunicorn and wait until every worker can answer `/api/v1/health`."""
        self.instance.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self._command(), env=self._environment(), stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.log_tail()}")
            if self._healthy() and len(self.worker_pids()) >= self.workers:
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not become healthy in {timeout} s:\n{self.log_tail()}")

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/v1/health", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def stop(self) -> None:
        """Stop the gunicorn master we started (it stops its own workers)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def worker_pids(self) -> list[int]:
        """The pids of gunicorn's worker processes (children of the master)."""
        if self.process is None:
            return []
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return _children_by_scan(self.process.pid)

    def rss_bytes(self) -> int:
        """Resident memory of the master and its workers together."""
        pids = [self.process.pid, *self.worker_pids()] if self.process else []
        return sum(_rss_bytes(pid) for pid in pids)

    def pss_bytes(self) -> int:
        """Proportional memory of the master and its workers together: each shared page
        counted once over the processes sharing it (RSS counts it in every worker)."""
        pids = [self.process.pid, *self.worker_pids()] if self.process else []
        return sum(_pss_bytes(pid) for pid in pids)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the master and workers have used so far."""
        pids = [self.process.pid, *self.worker_pids()] if self.process else []
        return sum(process_cpu_seconds(pid) for pid in pids)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


def _rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _pss_bytes(pid: int) -> int:
    import psutil  # only benchmarks measure it

    try:
        return psutil.Process(pid).memory_full_info().pss
    except (psutil.Error, OSError):  # the process ended meanwhile
        return 0


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) process `pid` has used so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _children_by_scan(parent: int) -> list[int]:
    """Children of `parent` read from /proc/*/stat, for kernels without the children file."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


@dataclass
class Live:
    """A started server with the world it was prepared with."""

    server: LiveServer
    world: World

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def live_postgres(tmp_path_factory) -> Iterator[Live]:
    """gunicorn with 4 sync workers on a fresh PostgreSQL schema, for one test module."""
    schema, url = make_postgres_schema("giupho_live")
    instance = tmp_path_factory.mktemp("live-instance")
    try:
        world = prepare_database(url, instance)
        with LiveServer(url, instance, workers=4) as server:
            yield Live(server, world)
    finally:
        drop_postgres_schema(schema)


@pytest.fixture(scope="module")
def live_sqlite(tmp_path_factory) -> Iterator[Live]:
    """gunicorn on a fresh SQLite file, as `make run` serves one (several threads at once):
    two processes of eight threads each, for one test module."""
    instance = tmp_path_factory.mktemp("live-sqlite")
    url = f"sqlite:///{instance / 'giupho.db'}"
    world = prepare_database(url, instance)
    with LiveServer(url, instance, workers=2, worker_class="gthread", threads=8) as server:
        yield Live(server, world)
