"""The JSON API, version 1, under /api/v1. Views parse, authorise via services, render via schemas.

One blueprint per resource module, nested under the `api` blueprint that
owns the URL prefix.
"""

from __future__ import annotations

from flask import Blueprint

from server.api import forms, health, openapi, sync, units

bp = Blueprint("api", __name__, url_prefix="/api/v1")
for child in (health.bp, forms.bp, units.bp, sync.bp, openapi.bp):
    bp.register_blueprint(child)
