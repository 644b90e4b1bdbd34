"""Fixtures of the rule tests: a populated world, a driver per protocol, and the stored records."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Attachment, Device, QuarantineItem, Submission, User
from server.models.households import Household
from tests.integration.contract.drivers import DRIVERS
from tests.integration.live import World, shipped_world


@pytest.fixture
def world(app) -> World:
    with app.app_context():
        return shipped_world()


@pytest.fixture(params=sorted(DRIVERS))
def protocol(request) -> str:
    return request.param


@pytest.fixture
def driver(client, world, protocol):
    """Submissions from cadre_a's tablet over `protocol`."""
    return DRIVERS[protocol](client, world.tokens["cadre_a"])


class Records:
    """What the server stored, read straight from the database (each call a fresh session)."""

    def __init__(self, app) -> None:
        self.app = app

    def _all(self, stmt):
        with self.app.app_context():
            rows = list(db.session.scalars(stmt))
            db.session.expunge_all()
            return rows

    def submissions(self, instance_id: str | None = None) -> list[Submission]:
        stmt = sa.select(Submission).order_by(Submission.id)
        if instance_id is not None:
            stmt = stmt.where(Submission.instance_id == instance_id)
        return self._all(stmt)

    def submission(self, instance_id: str) -> Submission:
        (found,) = self.submissions(instance_id)
        return found

    def quarantine(self, instance_id: str | None = None) -> list[QuarantineItem]:
        stmt = sa.select(QuarantineItem).order_by(QuarantineItem.id)
        if instance_id is not None:
            stmt = stmt.where(QuarantineItem.instance_id == instance_id)
        return self._all(stmt.options(sa.orm.undefer(QuarantineItem.payload)))

    def attachments(self, instance_id: str) -> dict[str, int]:
        """File name -> size of the attachments stored for `instance_id`."""
        stmt = (
            sa.select(Attachment)
            .join(Submission)
            .where(Submission.instance_id == instance_id)
            .order_by(Attachment.filename)
        )
        return {a.filename: a.size for a in self._all(stmt)}

    def sender(self, instance_id: str) -> tuple[str, str | None]:
        """(username, device name) that `instance_id` was received from."""
        stmt = (
            sa.select(User.username, Device.name)
            .select_from(Submission)
            .join(User, User.id == Submission.submitter_id)
            .outerjoin(Device, Device.id == Submission.device_id)
            .where(Submission.instance_id == instance_id)
        )
        with self.app.app_context():
            return tuple(db.session.execute(stmt).one())

    def household(self, household_id: str) -> Household | None:
        with self.app.app_context():
            found = db.session.get(Household, household_id)
            if found is not None:
                db.session.expunge(found)
            return found

    def count(self, model) -> int:
        with self.app.app_context():
            return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def records(app) -> Records:
    return Records(app)
