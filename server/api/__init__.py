"""The JSON API, version 1, under /api/v1. Views parse, authorise via services, render via schemas.

One blueprint per resource module, nested under the `api` blueprint that
owns the URL prefix.
"""

from __future__ import annotations

from flask import Blueprint

from server.api import (
    duplicates,
    forms,
    health,
    households,
    openapi,
    quarantine,
    submissions,
    sync,
    units,
    uploads,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
children = (health.bp, forms.bp, units.bp, sync.bp, quarantine.bp, openapi.bp)
children += (uploads.bp, uploads.devices_bp)  # resumable uploads (C3), device login
children += (duplicates.bp,)  # duplicate households, double entries (D1-D4)
children += (households.bp,)  # households, history, conflicts (H3, H7)
children += (submissions.bp,)  # the review queue
for child in children:
    bp.register_blueprint(child)
