"""The JSON API, version 1, under /api/v1. Views parse, authorise via services, render via schemas.

One blueprint per resource module, nested under the `api` blueprint that
owns the URL prefix.
"""

from __future__ import annotations

from flask import Blueprint

from server.api import (
    agencies,
    assignments,
    devices,
    duplicates,
    exports,
    forms,
    health,
    households,
    monitoring,
    openapi,
    pairs,
    quarantine,
    reports,
    reviews,
    submissions,
    support,
    sync,
    units,
    uploads,
    users,
)

bp = Blueprint("api", __name__, url_prefix="/api/v1")
children = (health.bp, forms.bp, units.bp, sync.bp, quarantine.bp, openapi.bp)
children += (uploads.bp, devices.bp)  # resumable uploads (C3), device login and revoke
children += (users.bp,)  # users administration, device enrolment
children += (duplicates.bp,)  # duplicate households, double entries (D1-D4)
children += (households.bp,)  # households, history, conflicts (H3, H7)
children += (agencies.bp, assignments.bp, pairs.bp)  # the programme's structure (issue 14)
children += (submissions.bp,)  # the review queue
children += (support.bp,)  # the support ledger (issue 15)
children += (reports.bp,)  # the programme's reports (issue 15)
children += (exports.bp,)  # exports: submissions, households, ledger, reports (issue 15)
children += (monitoring.bp,)  # token-visit monitoring (issue 16)
children += (reviews.bp,)  # the poverty review (issue 18)
for child in children:
    bp.register_blueprint(child)
