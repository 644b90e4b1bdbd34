"""SyncClient over a real `requests.Session` whose transport is scripted (the network is the
one thing outside the project): timeouts, retries with backoff and jitter, Retry-After (C2)."""

from __future__ import annotations

import gzip
import json
import random

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from sync.client import (
    AuthError,
    OfflineError,
    RequestError,
    RetryPolicy,
    ServerError,
    SyncClient,
    Timeouts,
)

NOW = "2026-11-22T01:00:00+00:00"


class Scripted(BaseAdapter):
    """A transport answering from a script: each entry is (status, body, headers) or an error."""

    def __init__(self, script):
        super().__init__()
        self.script = list(script)
        self.sent: list[tuple[requests.PreparedRequest, object]] = []

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self.sent.append((request, timeout))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        status, body, headers = step
        response = requests.Response()
        response.status_code = status
        response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
        response.headers = CaseInsensitiveDict(headers or {})
        response.request = request
        response.url = request.url
        return response

    def close(self):
        pass


def _client(script, **kwargs):
    adapter = Scripted(script)
    session = requests.Session()
    session.mount("http://", adapter)
    sleeps: list[float] = []
    client = SyncClient(
        "http://tablet.test", token="t0k3n", session=session, sleep=sleeps.append,
        rng=random.Random(1), timeouts=Timeouts(connect=3, read=7), **kwargs,
    )  # fmt: skip
    return client, adapter, sleeps


def _push_ok(n: int = 1) -> tuple:
    results = [{"instance_id": f"uuid:{i}", "result": "accepted", "status": 201} for i in range(n)]
    return (200, {"results": results, "server_time": NOW}, {})


def test_c2_every_call_has_explicit_timeouts_and_the_device_token():
    client, adapter, _ = _client([(200, {"server_time": NOW}, {}), _push_ok()])
    client.measure_clock()
    client.push([{"instance_id": "uuid:0", "form_id": "f", "answers": {}}])
    assert [timeout for _r, timeout in adapter.sent] == [(3, 7), (3, 7)]
    assert all(r.headers["Authorization"] == "Bearer t0k3n" for r, _t in adapter.sent)


def test_c2_push_is_gzip_compressed_json():
    client, adapter, _ = _client([_push_ok()])
    item = {"instance_id": "uuid:0", "form_id": "f", "answers": {"a": "Lò Văn Minh"}}
    client.push([item])
    request = adapter.sent[0][0]
    assert request.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(request.body)) == {"items": [item]}


def test_c2_network_errors_are_retried_with_growing_jittered_backoff():
    failures = [requests.ConnectionError("reset")] * 5
    client, adapter, sleeps = _client(
        [*failures, _push_ok()], retry=RetryPolicy(attempts=8, base=1.0, cap=100)
    )
    client.push([{"instance_id": "uuid:0", "form_id": "f", "answers": {}}])
    assert len(adapter.sent) == 6 and len(sleeps) == 5
    assert all(0 <= s <= 2**n for n, s in enumerate(sleeps))  # full jitter under the cap
    assert len(set(sleeps)) == 5  # jittered, not a fixed schedule
    assert max(sleeps[3:]) > 2  # and growing


def test_c2_5xx_and_429_are_retried_and_retry_after_is_honoured():
    client, _adapter, sleeps = _client(
        [(503, b"", {}), (429, b"", {"Retry-After": "7"}), _push_ok()]
    )
    client.push([{"instance_id": "uuid:0", "form_id": "f", "answers": {}}])
    assert sleeps[1] == 7


def test_c2_a_response_cut_short_is_retried():
    client, adapter, _ = _client([(200, b'{"results": [{"inst', {}), _push_ok()])
    response = client.push([{"instance_id": "uuid:0", "form_id": "f", "answers": {}}])
    assert response.results[0].result == "accepted" and len(adapter.sent) == 2


def test_offline_after_the_last_attempt_says_so_in_vietnamese_and_english():
    client, _adapter, _ = _client(
        [requests.ConnectionError("down")] * 3, retry=RetryPolicy(attempts=3)
    )
    with pytest.raises(OfflineError) as caught:
        client.measure_clock()
    assert "mạng" in caught.value.text("vi") and "network" in caught.value.text("en")


def test_server_errors_after_every_retry_raise_server_error():
    client, _adapter, _ = _client([(500, b"", {})] * 2, retry=RetryPolicy(attempts=2))
    with pytest.raises(ServerError):
        client.measure_clock()


def test_auth_errors_are_not_retried():
    problem = {"code": "401.2", "message": "Thiết bị này đã bị thu hồi quyền truy cập."}
    client, adapter, _ = _client([(401, problem, {})])
    with pytest.raises(AuthError) as caught:
        client.measure_clock()
    assert len(adapter.sent) == 1 and "thu hồi" in caught.value.text("vi")


def test_a_refused_request_carries_the_servers_problem():
    problem = {"code": "413.1", "message": "Yêu cầu quá lớn", "details": None}
    client, _adapter, _ = _client([(413, problem, {})])
    with pytest.raises(RequestError) as caught:
        client.push([{"instance_id": "uuid:0", "form_id": "f", "answers": {}}])
    assert caught.value.status == 413 and caught.value.problem["code"] == "413.1"


def test_c5_clock_offset_is_device_minus_server_at_the_midpoint():
    import datetime as dt

    times = iter([dt.datetime(2026, 11, 22, 1, 0, 10, tzinfo=dt.UTC),
                  dt.datetime(2026, 11, 22, 1, 0, 12, tzinfo=dt.UTC)])  # fmt: skip
    client, _adapter, _ = _client([(200, {"server_time": NOW}, {})], clock=lambda: next(times))
    assert client.measure_clock() == 11_000  # the device runs 11 s ahead
