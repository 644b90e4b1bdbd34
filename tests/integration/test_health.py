"""GET /api/v1/health: up, and honest about the database."""

from __future__ import annotations

from tests.integration.database import build_app, dispose_app
from tests.integration.helpers import basic


def test_health_is_ok_without_login(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json["status"] == "ok" and response.json["database"] == "ok"
    assert response.json["version"]


def test_health_reports_an_unreachable_database_as_503_1(tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'missing-dir' / 'db.sqlite3'}", str(tmp_path))
    try:
        response = app.test_client().get("/api/v1/health")
    finally:
        dispose_app(app)
    assert response.status_code == 503
    assert response.json["code"] == "503.1"


def test_a_request_that_cannot_reach_the_database_is_503_1_with_retry_after(tmp_path):
    # A database file without the schema: every query fails.
    app = build_app(f"sqlite:///{tmp_path / 'empty.sqlite3'}", str(tmp_path))
    try:
        response = app.test_client().get("/api/v1/forms", headers=basic("anyone"))
    finally:
        dispose_app(app)
    assert response.status_code == 503 and response.json["code"] == "503.1"
    assert response.headers["Retry-After"] == "30"
    assert "no such table" not in response.get_data(as_text=True)
