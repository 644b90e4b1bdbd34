"""C1-C3 over a bad link: 1,000 visits with photos through a proxy that breaks one connection
in five (drops, resets, truncation and stalls at random points of requests and responses)."""

from __future__ import annotations

import time

import pytest
import requests

from sync.client import LocalStore, Synchronizer
from sync.client.engine import Limits
from tests.integration.sync_client.faults import FaultyProxy
from tests.integration.sync_client.helpers import (
    fast_client,
    household_ids,
    queue_visits,
    registrations,
    server_state,
)

VISITS = 1000


@pytest.mark.slow
def test_c2_c3_thousand_visits_with_photos_through_a_faulty_link(live_db, tmp_path):
    live, url = live_db
    token = live.world.tokens["cadre_a"]
    # Households to visit, registered over a clean link.
    setup = fast_client(live.url, token)
    items = registrations(50)
    assert {r.result for r in setup.push(items).results} == {"accepted"}
    store = LocalStore(tmp_path / "tablet.sqlite3")
    expected = queue_visits(store, household_ids(items), VISITS)

    with FaultyProxy(live.server.port, failure_rate=0.2, seed=5, stall=1.5) as proxy:
        client = fast_client(proxy.url, token)
        limits = Limits(batch_items=50, upload_workers=4)
        started = time.perf_counter()
        report = Synchronizer(store, client, limits=limits).sync()
        elapsed = time.perf_counter() - started

    assert proxy.stats.connections > VISITS  # every photo took its own connections
    assert proxy.stats.failed >= proxy.stats.connections * 0.15, proxy.stats
    held = server_state(url, list(expected))
    assert held["count"] == dict.fromkeys(expected, 1), "every visit exactly once"
    assert held["photos"] == {iid: [sha] for iid, sha in expected.items()}, "every photo intact"
    assert held["quarantined"] == 0
    assert store.counts() == {"files_to_upload": 0}, "the outbox is empty"
    assert report.results.get("accepted", 0) + report.results.get("duplicate", 0) == VISITS
    print(f"\n{VISITS} visits: {elapsed:.1f} s, {proxy.stats}, retries {client.retries}")


class CountingSession(requests.Session):
    """A plain requests session that counts the bytes of every chunk it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.chunk_bytes = 0

    def request(self, method, url, *args, **kwargs):
        if method == "PATCH":
            self.chunk_bytes += len(kwargs.get("data") or b"")
        return super().request(method, url, *args, **kwargs)


def test_c3_a_large_photo_resumes_from_the_last_byte_the_server_holds(live_db, tmp_path):
    live, url = live_db
    token = live.world.tokens["cadre_a"]
    setup = fast_client(live.url, token)
    items = registrations(1, village="03325_02")
    assert setup.push(items).results[0].result == "accepted"
    store = LocalStore(tmp_path / "tablet.sqlite3")
    size, chunk = 400_000, 16_384
    expected = queue_visits(store, household_ids(items), 1, photo_size=size)

    with FaultyProxy(live.server.port, failure_rate=0.4, seed=11, stall=1.0) as proxy:
        session = CountingSession()
        client = fast_client(proxy.url, token, session=session)
        Synchronizer(store, client, limits=Limits(chunk_bytes=chunk)).sync()

    held = server_state(url, list(expected))
    assert held["photos"] == {iid: [sha] for iid, sha in expected.items()}
    assert proxy.stats.failed > 5, proxy.stats
    # Each failure costs at most the chunk in flight: nothing is sent again from byte 0.
    assert session.chunk_bytes <= size + proxy.stats.failed * chunk
