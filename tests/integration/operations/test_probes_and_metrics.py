"""What an operator's load balancer, Prometheus and log collector read (issue 19, point 5)."""

from __future__ import annotations

import json
import logging
import re

import pytest

from server.operations import request_log
from tests.integration.database import build_app, dispose_app
from tests.integration.openrosa.test_forms import submit
from tests.integration.openrosa.world import OPENROSA, household, registration_xml, world  # noqa: F401


def value(text: str, name: str, **labels: str) -> float:
    """The sample `name{labels}` of a Prometheus text exposition (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{"):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_live_and_ready_on_a_migrated_database(client):
    assert client.get("/livez").json == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json == {"status": "ready"}


def test_not_ready_until_the_database_is_upgraded(tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'new.sqlite3'}", str(tmp_path / "instance"))
    try:
        client = app.test_client()
        assert client.get("/livez").status_code == 200  # alive: do not restart it
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.headers["Retry-After"]
        assert "giupho db upgrade" in ready.json["reasons"][0]
    finally:
        dispose_app(app)


def test_metrics_count_requests_by_route_and_submissions_by_result(app, client, world):  # noqa: F811
    before = client.get("/metrics").get_data(as_text=True)
    home = household()
    xml = registration_xml(home)
    assert submit(client, world, "cadre_a", xml).status_code == 201
    assert submit(client, world, "cadre_a", xml).status_code in (201, 202)  # sent again
    client.get("/api/v1/households/no-such-household", headers=OPENROSA)
    after = client.get("/metrics").get_data(as_text=True)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("giupho_submissions_total", protocol="openrosa", result="accepted") == 1
    assert grew("giupho_submissions_total", protocol="openrosa", result="duplicate") == 1
    route = "/key/<token>/submission"
    assert grew("giupho_http_requests_total", route=route, method="POST", status="201") == 1
    assert grew("giupho_http_request_duration_seconds_count", route=route, method="POST") == 2
    # The token is never a label: only the route's template is.
    assert world.tokens["cadre_a"] not in after
    assert 'giupho_export_jobs{status="queued"} 0.0' in after


def test_metrics_are_for_the_operator_only(app, client):
    far = {"REMOTE_ADDR": "203.0.113.9"}
    refused = client.get("/metrics", environ_base=far)
    assert refused.status_code == 403 and refused.json["code"] == "403.110"
    app.config["METRICS_TOKEN"] = "s3cret-scrape-token"
    assert client.get("/metrics", environ_base=far).status_code == 403
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", environ_base=far, headers=wrong).status_code == 403
    right = {"Authorization": "Bearer s3cret-scrape-token"}
    assert client.get("/metrics", environ_base=far, headers=right).status_code == 200
    # With a token set, the machine itself needs it too.
    assert client.get("/metrics").status_code == 403


@pytest.fixture
def logged(database, tmp_path):
    app = build_app(database, str(tmp_path / "instance"), REQUEST_LOG=True, LOG_FORMAT="json")
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(self.format(record))

    keep = Keep()
    keep.setFormatter(request_log.formatter("json"))
    keep.addFilter(logging.Filter())
    request_log.LOGGER.addHandler(keep)
    yield app, lines
    request_log.LOGGER.removeHandler(keep)
    dispose_app(app)


def test_one_json_line_per_request_without_secrets(logged):
    app, lines = logged
    client = app.test_client()
    token = "tOkEn-in-the-url-0123456789abcdef"
    client.get(f"/key/{token}/formList?password=hunter2", headers={"X-Request-ID": "abc-123"})
    client.get("/livez")
    records = [json.loads(line) for line in lines]
    assert len(records) == 2
    first = records[0]
    assert first["request_id"] == "abc-123" and first["route"] == "/key/<token>/formList"
    assert first["status"] in (400, 401) and first["method"] == "GET" and first["ms"] >= 0
    assert token not in lines[0] and "hunter2" not in lines[0]
    assert "[redacted]" in first["path"]
    assert records[1]["route"] == "/livez" and len(records[1]["request_id"]) == 32
    response = client.get("/livez", headers={"X-Request-ID": "bad id with spaces"})
    assert response.headers["X-Request-ID"] != "bad id with spaces"
