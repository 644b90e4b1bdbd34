"""Running giupho in production: metrics, probes, request logs, backup and restore.

`metrics` counts requests, submissions and export jobs for Prometheus (`/metrics`);
`probes` answers liveness and readiness (`/livez`, `/readyz`); `request_log` writes one
structured line per request without secrets; `backup` copies the database and the stored
files into one archive and puts them back. `init_app` mounts the first three.
"""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from server.operations import metrics, probes, request_log

    metrics.init_app(app)
    request_log.init_app(app)
    app.register_blueprint(probes.bp)
