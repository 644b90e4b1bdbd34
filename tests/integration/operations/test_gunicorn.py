"""The gunicorn settings production runs (`server.operations.gunicorn`): the app imported
once and forked, each worker with its own database connections, metrics summed over the
workers (issue 19: worker memory)."""

from __future__ import annotations

import requests
import sqlalchemy as sa

from server.db import db
from server.operations import gunicorn as settings
from tests.integration.live import LiveServer, prepare_database
from tests.integration.operations.test_probes_and_metrics import value


def test_the_app_is_loaded_once_and_shared_by_the_workers():
    assert settings.preload_app is True


def test_a_forked_worker_does_not_reuse_the_masters_connections(app):
    with app.app_context():
        with db.engine.connect() as conn:  # the master connected before forking
            conn.execute(sa.text("SELECT 1"))
        inherited = db.engine.pool.checkedin()
    settings.after_fork(app)

    with app.app_context():
        assert inherited >= 1 and db.engine.pool.checkedin() == 0
        with db.engine.connect() as conn:  # a connection of its own, opened on first use
            assert conn.execute(sa.text("SELECT 1")).scalar() == 1


def test_metrics_of_preloaded_workers_add_up(tmp_path):
    """Four forked workers each count their own requests; `/metrics`, whichever worker
    answers, gives the sum (prometheus_client's multiprocess folder)."""
    url = f"sqlite:///{tmp_path / 'giupho.db'}"
    prepare_database(url, tmp_path, lambda: None)
    folder = tmp_path / "metrics"
    with LiveServer(url, tmp_path, extra_env={"PROMETHEUS_MULTIPROC_DIR": str(folder)}) as server:
        for _ in range(40):  # a new connection each: gunicorn spreads them over the workers
            assert requests.get(f"{server.url}/livez", timeout=10).status_code == 200
        text = requests.get(f"{server.url}/metrics", timeout=10).text
        written_by = {p.name.rsplit("_", 1)[-1] for p in folder.glob("counter_*.db")}

    assert (
        value(text, "giupho_http_requests_total", route="/livez", method="GET", status="200") == 40
    )
    assert len(written_by) >= 2  # several workers answered, each in its own file
