"""C1/C2: a sync killed at any moment (SIGKILL of the client, a server restart mid-push) and run
again loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sync.client import LocalStore, RetryPolicy, Synchronizer, store_path
from sync.client.engine import Limits
from tests.integration.database import drop_postgres_schema
from tests.integration.sync_client.conftest import start_live
from tests.integration.sync_client.helpers import (
    fast_client,
    household_ids,
    queue_visits,
    registrations,
    server_state,
)

CLI = [sys.executable, "-m", "sync.client.cli"]
ROOT = Path(__file__).resolve().parents[3]


def _cli(home: Path, *args: str, **kwargs) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIUPHO_")}
    env["GIUPHO_SYNC_HOME"] = str(home)
    return subprocess.Popen([*CLI, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, **kwargs)  # fmt: skip


def test_c1_sigkill_at_random_moments_of_a_sync_loses_and_duplicates_nothing(live_db, tmp_path):
    live, url = live_db
    token = live.world.tokens["cadre_b"]
    home = tmp_path / "home"
    login = _cli(home, "login", live.url, "-u", "cadre_b", "--token", token)
    assert login.wait(30) == 0, login.stdout.read()
    items = registrations(10, village="03316_01")
    assert {r.result for r in fast_client(live.url, token).push(items).results} == {"accepted"}
    households = household_ids(items)

    # Killed somewhere in clock, push, uploads or pull. Every round first queues more visits,
    # so there is always a sync to interrupt however fast the server is; the kill moment is
    # drawn at random, from a range that shrinks after a round the sync finished before it.
    rng = random.Random(7)
    expected: dict[str, str] = {}
    killed, window = 0, 1.5
    for _round in range(8):
        store = LocalStore(store_path(home, live.url, "cadre_b"))
        expected |= queue_visits(store, households, 40)
        store.close()
        process = _cli(home, "sync")
        time.sleep(rng.uniform(0.15, window))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        else:
            window = max(0.3, window * 0.6)
        process.wait(30)
    assert killed >= 3, "the sync must have been killed mid-way several times"

    final = _cli(home, "--lang", "en", "sync")
    output = final.communicate(timeout=300)[0].decode()
    assert final.returncode == 0, output
    held = server_state(url, list(expected))
    assert held["count"] == dict.fromkeys(expected, 1), "every visit exactly once"
    assert held["photos"] == {iid: [sha] for iid, sha in expected.items()}, "every photo intact"
    store = LocalStore(store_path(home, live.url, "cadre_b"))
    assert store.outbox() == []
    assert int(store.get_meta("sent_total")) == len(expected)
    store.close()


def test_c2_restarting_the_server_in_the_middle_of_a_push_loses_and_duplicates_nothing(tmp_path):
    running, schema, url = start_live(tmp_path / "server", workers=2)
    try:
        token = running.world.tokens["cadre_a"]
        items = registrations(10)
        assert {r.result for r in fast_client(running.url, token).push(items).results} == {
            "accepted"
        }
        store = LocalStore(tmp_path / "tablet.sqlite3")
        expected = queue_visits(store, household_ids(items), 120)
        client = fast_client(running.url, token, retry=RetryPolicy(attempts=80, base=0.05, cap=0.5))
        syncer = Synchronizer(store, client, limits=Limits(batch_items=5, upload_workers=4))
        failure: list[BaseException] = []

        def push() -> None:
            own = LocalStore(tmp_path / "tablet.sqlite3")  # sqlite3: one connection per thread
            try:
                Synchronizer(own, client, limits=syncer.limits).push()
            except BaseException as exc:  # reported to the test below
                failure.append(exc)
            finally:
                own.close()

        worker = threading.Thread(target=push)
        worker.start()
        deadline = time.monotonic() + 60
        while len(store.pending()) == len(expected) and time.monotonic() < deadline:
            time.sleep(0.01)  # the server goes as soon as it acknowledged a first batch
        assert worker.is_alive(), "the push must still be running when the server goes"
        sent_before = len(expected) - len(store.pending())
        for pid in running.server.worker_pids():  # a hard stop: workers die mid-request
            os.kill(pid, signal.SIGKILL)
        running.server.process.kill()
        running.server.process.wait(10)
        time.sleep(0.5)
        running.server.start()
        worker.join(120)
        assert not worker.is_alive() and failure == []
        assert 0 < sent_before < len(expected)
        syncer.upload_files()
        held = server_state(url, list(expected))
        assert held["count"] == dict.fromkeys(expected, 1), "every visit exactly once"
        assert held["photos"] == {iid: [sha] for iid, sha in expected.items()}
        assert store.outbox() == []
        store.close()
    finally:
        running.server.stop()
        if schema:
            drop_postgres_schema(schema)
