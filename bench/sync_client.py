"""Sync client benchmarks: bytes on the wire per visit (JSON sync vs OpenRosa), and the time to
sync 1,000 visits with photos through a faulty link versus a clean one.

Both measured through the tests' TCP proxy (`tests/integration/sync_client/faults.py`),
which counts every byte forwarded each way (HTTP headers included) and, on the faulty
link, breaks one connection in five. The server is gunicorn with 4 workers on SQLite
(PostgreSQL when GIUPHO_TEST_POSTGRES_URL is set), as in the tests.

Run alone: `.venv/bin/python bench/sync_client.py [-n 1000]`.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

import requests  # noqa: E402

from forms.instance import from_answers, to_xml  # noqa: E402
from sync.client import LocalStore, Synchronizer  # noqa: E402
from sync.client.engine import Limits  # noqa: E402
from tests.integration.contract.drivers import OPENROSA_HEADERS  # noqa: E402
from tests.integration.contract.submissions import visit_form  # noqa: E402
from tests.integration.database import drop_postgres_schema  # noqa: E402
from tests.integration.sync_client.conftest import start_live  # noqa: E402
from tests.integration.sync_client.faults import FaultyProxy  # noqa: E402
from tests.integration.sync_client.helpers import (  # noqa: E402
    fast_client,
    household_ids,
    queue_visits,
    registrations,
)


def row(name: str, measured, unit: str, target: str, reference: str) -> dict:
    return dict(name=name, measured=measured, unit=unit, target=target, reference=reference)


def wire_bytes(live, households: list[str], tmp: Path, n: int) -> tuple[float, float]:
    """(JSON push bytes per visit, OpenRosa multipart bytes per visit), request + response."""
    token = live.world.tokens["cadre_a"]
    store = LocalStore(tmp / "wire.sqlite3")
    queue_visits(store, households, n)
    visits = [item.item for item in store.pending()]
    with FaultyProxy(live.server.port, failure_rate=0, delay_rate=0) as proxy:
        Synchronizer(store, fast_client(proxy.url, token)).push()
        json_bytes = proxy.stats.wire_bytes / n
    form = visit_form()
    session = requests.Session()
    with FaultyProxy(live.server.port, failure_rate=0, delay_rate=0) as proxy:
        for item in visits:  # the same visits again, as ODK Collect sends them (new ids)
            answers = dict(item["answers"])
            answers["meta"] = dict(answers["meta"]) | {"instanceID": f"{item['instance_id']}-or"}
            xml = to_xml(from_answers(answers, form))
            files = {"xml_submission_file": ("submission.xml", xml, "text/xml")}
            response = session.post(f"{proxy.url}/key/{token}/submission", files=files,
                                    headers=OPENROSA_HEADERS, timeout=30)  # fmt: skip
            assert response.status_code in (201, 202), response.text[:300]
        openrosa_bytes = proxy.stats.wire_bytes / n
    store.close()
    return json_bytes, openrosa_bytes


def sync_time(live, households: list[str], tmp: Path, n: int, failure_rate: float):
    """(seconds, proxy stats) to sync `n` visits with a 3 kB photo each through the proxy."""
    store = LocalStore(tmp / f"link-{failure_rate}.sqlite3")
    queue_visits(store, households, n)
    with FaultyProxy(live.server.port, failure_rate=failure_rate, seed=3, stall=1.5) as proxy:
        client = fast_client(proxy.url, live.world.tokens["cadre_a"])
        started = time.perf_counter()
        Synchronizer(store, client, limits=Limits(upload_workers=4)).sync()
        elapsed = time.perf_counter() - started
    assert store.outbox() == [], "everything must be sent"
    store.close()
    return elapsed, proxy.stats


def run(n: int = 1000, wire_n: int = 200) -> list[dict]:
    with tempfile.TemporaryDirectory(prefix="giupho-bench-client-") as folder:
        tmp = Path(folder)
        live, schema, _url = start_live(tmp / "server")
        try:
            items = registrations(50)
            fast_client(live.url, live.world.tokens["cadre_a"]).push(items)
            households = household_ids(items)
            json_b, openrosa_b = wire_bytes(live, households, tmp, wire_n)
            clean_s, _clean = sync_time(live, households, tmp, n, 0.0)
            faulty_s, faulty = sync_time(live, households, tmp, n, 0.2)
        finally:
            live.server.stop()
            if schema:
                drop_postgres_schema(schema)
    ratio = json_b / openrosa_b
    failed = f"{faulty.failed} of {faulty.connections} connections broken"
    return [
        row("sync client: bytes on the wire per visit, JSON sync (gzip batch of 50)", json_b,
            "B", "", "request + response, HTTP headers included"),
        row("sync client: bytes on the wire per visit, OpenRosa multipart", openrosa_b, "B",
            "", "one POST per visit, as ODK Collect"),
        row("sync client: JSON / OpenRosa bytes per visit", ratio, "×", "≤ 0.20",
            "met" if ratio <= 0.20 else "not met"),
        row(f"sync client: {n:,} visits + photos, clean link", clean_s, "s", "", ""),
        row(f"sync client: {n:,} visits + photos, 1 connection in 5 failing", faulty_s, "s",
            "", failed),
        row("sync client: faulty / clean link time", faulty_s / clean_s, "×", "≤ 2",
            "met" if faulty_s <= 2 * clean_s else "not met"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="visits with photos per link")
    args = parser.parse_args()
    for r in run(args.n):
        print(f"{r['name']:<75} {r['measured']:>10.2f} {r['unit']:<2} {r['target']:<8} "
              f"{r['reference']}")  # fmt: skip


if __name__ == "__main__":
    main()
