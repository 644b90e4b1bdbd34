"""GET /api/v1/health: is the server up and can it reach its database."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version

from flask import Blueprint

from server.problems import Problem
from server.schemas import HealthSchema
from server.services import system

bp = Blueprint("health", __name__)


@cache  # read from the package metadata once per process: half a millisecond each time
def _version() -> str:
    try:
        return version("giupho")
    except PackageNotFoundError:
        return "unknown"


@bp.get("/health")
def health():
    """200 when the database answers, 503 (problem 503.1) when it does not. No login needed."""
    if not system.database_ok():
        raise Problem("503.1")
    return HealthSchema().dump({"status": "ok", "database": "ok", "version": _version()})
