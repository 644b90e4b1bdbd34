"""Operational checks."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from server.db import db


def replica_ok() -> bool:
    """Whether the read replica answers, when there is one (reading requests need it)."""
    from server import replica

    engine = replica.replica_engine()
    if engine is None:
        return True
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: database replica unreachable")
        return False
    return True


def database_ok() -> bool:
    """Whether the database answers a trivial query (the error is logged, not raised)."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        return False
    return True
