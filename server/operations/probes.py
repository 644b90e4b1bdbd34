"""Liveness and readiness, for a load balancer or an orchestrator.

* `GET /livez`: 200 while the process answers at all; it reads nothing, so a slow or
  lost database never gets a live worker killed.
* `GET /readyz`: 200 when this worker can serve: the database answers and its schema is at
  the migration this code expects; 503 with the reasons otherwise (an upgrade not yet run,
  a database away), so traffic goes to other workers meanwhile.

`/api/v1/health` stays as it was (Collect-facing tools and monitors use it).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from server.db import schema_revisions
from server.services import system

bp = Blueprint("probes", __name__)


@bp.get("/livez")
def livez():
    return jsonify(status="alive")


@bp.get("/readyz")
def readyz():
    reasons = []
    if not system.database_ok():
        reasons.append("database: not reachable")
    else:
        current, expected = schema_revisions()
        if current != expected:
            reasons.append(
                f"database schema: at {current or 'nothing'}, this code needs {expected}: "
                "run `giupho db upgrade`"
            )
    if not system.replica_ok():
        reasons.append("database replica (GIUPHO_DATABASE_REPLICA_URL): not reachable")
    if reasons:
        response = jsonify(status="not ready", reasons=reasons)
        response.status_code = 503
        response.headers["Retry-After"] = "10"
        return response
    return jsonify(status="ready")
