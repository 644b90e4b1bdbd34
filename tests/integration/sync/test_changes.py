"""The change log: cursor pulls page through every change once, in order (sync contract P2)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit
from server.problems import Problem
from server.services.programme import units as admin_units
from server.services.sync import changes
from server.services.sync.changes import Cursor
from tests.integration.database import wait_for_pull_horizon


def _record(*entity_ids: str, unit_id: int | None = None, settle: bool = True) -> None:
    for entity_id in entity_ids:
        changes.record("household", entity_id, "update", unit_id)
    db.session.commit()
    if settle:
        _settle()


def _settle() -> None:
    """Wait until every logged change is below the PostgreSQL pull horizon (P2)."""
    wait_for_pull_horizon(db.session)


def _pull_all(cursor: Cursor, limit: int = 2, **kwargs) -> tuple[list[str], Cursor]:
    seen = []
    while True:
        page = changes.read(cursor, limit, **kwargs)
        seen += [change.entity_id for change in page.changes]
        cursor = page.cursor
        if not page.has_more:
            return seen, cursor


def test_pages_resume_from_the_cursor_without_loss_or_repeat(ctx):
    _record("h1", "h2", "h3", "h4", "h5")
    first = changes.read(Cursor(), 2)
    assert [c.entity_id for c in first.changes] == ["h1", "h2"] and first.has_more
    # The client stores the cursor as text and sends it back next time.
    rest, cursor = _pull_all(Cursor.decode(first.cursor.encode()))
    assert rest == ["h3", "h4", "h5"]
    _record("h6")
    assert _pull_all(cursor)[0] == ["h6"]


def test_pulls_see_their_units_and_nationwide_changes_only(ctx, places):
    a = admin_units.find(places.village_a1).id
    b = admin_units.find(places.village_b1).id
    _record("in-a", unit_id=a)
    _record("in-b", unit_id=b)
    _record("everyone")
    only_a = sa.select(AdminUnit.id).where(AdminUnit.id == a)
    assert _pull_all(Cursor(), unit_ids=only_a)[0] == ["in-a", "everyone"]


@pytest.mark.parametrize("text", ["x", "1", "1.2.3", "-1.5", "a.b"])
def test_malformed_cursor_is_a_400_3(text):
    with pytest.raises(Problem) as raised:
        Cursor.decode(text)
    assert raised.value.code == "400.3"


def _require_postgres() -> None:
    assert db.engine.dialect.name == "postgresql"


@pytest.mark.postgres_only
def test_p2_change_of_a_transaction_that_commits_late_is_not_skipped(app):
    """T1 starts first and commits last; a pull between the commits must not step over T1."""
    with app.app_context():
        _require_postgres()
    with app.app_context():  # T1: writes first, stays open
        changes.record("household", "t1", "update", None)
        db.session.flush()
        with app.app_context():  # T2: writes later, commits first
            _record("t2", settle=False)  # T1 is still open: the horizon cannot pass
        with app.app_context():  # a tablet pulls now
            early = changes.read(Cursor(), 10)
            naive_max_id = db.session.scalar(sa.text("SELECT max(id) FROM changes"))
        db.session.commit()
    with app.app_context():
        _settle()
        late = changes.read(early.cursor, 10)
        # What a plain "id > last id" cursor would have done: T1's row has the smaller id.
        naive = db.session.scalars(
            sa.text("SELECT entity_id FROM changes WHERE id > :last"), {"last": naive_max_id}
        ).all()
    assert early.changes == [] and early.cursor == Cursor()
    assert [c.entity_id for c in late.changes] == ["t1", "t2"]
    assert naive == []  # the naive cursor loses t1 for good


@pytest.mark.postgres_only
def test_p2_transaction_id_not_insert_order_decides(app):
    """T1 takes its transaction id first but inserts its change after T2 committed one."""
    with app.app_context():
        _require_postgres()
    with app.app_context():  # T1
        db.session.execute(sa.text("SELECT pg_current_xact_id()"))
        with app.app_context():  # T2
            _record("t2", settle=False)
        changes.record("household", "t1", "update", None)
        with app.app_context():
            while_open = changes.read(Cursor(), 10)
        db.session.commit()
    with app.app_context():
        _settle()
        after = changes.read(Cursor(), 10)
    assert while_open.changes == []
    assert [c.entity_id for c in after.changes] == ["t1", "t2"]
    assert after.changes[0].id > after.changes[1].id  # order came from txid, not id


@pytest.mark.postgres_only
def test_p2_a_long_read_such_as_a_backup_does_not_hold_pulls_back(app):
    """`giupho backup` (pg_dump) and a large export read for minutes inside one snapshot. Such a
    transaction never writes, so it never takes a transaction id, and the horizon (the oldest
    running transaction *id*) passes it: tablets keep pulling what is written meanwhile. Only
    a long write transaction holds pulls back (see `server.models.audit`)."""
    with app.app_context():
        _require_postgres()
        _record("before")
    with app.app_context():  # pg_dump's transaction: one snapshot, read only, held open
        db.session.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        assert db.session.scalar(sa.text("SELECT count(*) FROM changes")) == 1
        holder = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        with app.app_context():  # meanwhile a cadre's visit is stored, and a tablet pulls
            _record("during", settle=False)
            _settle()  # waits only for other writers: this would fail on the open read
            seen, _cursor = _pull_all(Cursor())
            old_snapshot = db.session.scalar(
                sa.text("SELECT backend_xmin IS NOT NULL FROM pg_stat_activity WHERE pid = :p"),
                {"p": holder},
            )
        assert db.session.scalar(sa.text("SELECT count(*) FROM changes")) == 1  # its snapshot
        db.session.rollback()
    assert old_snapshot, "the read transaction was not holding a snapshot: nothing was tested"
    assert seen == ["before", "during"]
