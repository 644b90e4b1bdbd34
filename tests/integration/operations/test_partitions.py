"""Partitioning on PostgreSQL (issue 19): the layout, DEFAULT partitions and `ensure`, pruning
on the pull cursor and a household's id, and the whole ingest path on partitioned tables."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from server.cli import main
from server.db import db
from server.models import SUBMISSION_INSTANCES, AuditEvent, Submission, SubmissionPayload
from server.operations import partitions
from server.services import audit
from server.services.households import rebuild as household_rebuild
from server.services.households import review as household_review
from server.services.receiving import store as ingest_store
from server.services.sync import changes
from server.services.sync.changes import Cursor
from tests.integration.contract.conftest import Records
from tests.integration.contract.drivers import DRIVERS
from tests.integration.contract.submissions import (
    household_id,
    instance_id,
    registration,
    visit,
)
from tests.integration.contract.tablet import Tablet, settle
from tests.integration.live import populate_world, publish_shipped_xforms

SPAN = {layout.table: layout.span for layout in partitions.LAYOUTS}


def where(table: str, column: str, value) -> str:
    """The partition holding the row of `table` whose `column` is `value`."""
    return db.session.scalar(
        sa.text(f"SELECT tableoid::regclass::text FROM {table} WHERE {column} = :v"), {"v": value}
    )


@contextlib.contextmanager
def statements_on(table: str):
    """Collect (SQL, parameters) of every statement that reads `table` meanwhile."""
    seen: list[tuple[str, object]] = []

    def collect(_conn, _cursor, statement, parameters, _context, _many):
        if f"FROM {table}" in statement:
            seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", collect)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", collect)


def plan(statement: str, parameters) -> str:
    """PostgreSQL's plan of `statement` with its own parameters (initial pruning shown)."""
    raw = db.session.connection().exec_driver_sql(f"EXPLAIN {statement}", parameters)
    return "\n".join(row[0] for row in raw)


@pytest.mark.postgres_only
def test_the_tables_that_grow_with_visits_are_partitioned(ctx):
    strategies = dict(
        db.session.execute(
            sa.text(
                "SELECT c.relname, p.partstrat FROM pg_partitioned_table p"
                " JOIN pg_class c ON c.oid = p.partrelid"
                " WHERE c.relnamespace = current_schema()::regnamespace"
            )
        ).all()
    )
    assert strategies == {
        "changes": "r",
        "submission_payloads": "r",
        "audit_events": "r",
        "household_versions": "h",
        "submissions": "r",
    }
    found = {}
    for p in partitions.partitions():
        found.setdefault(p.table, []).append(p.bounds)
    for table in ("changes", "submission_payloads", "audit_events", "submissions"):
        assert found[table][-1] == "DEFAULT"  # an insert never fails for want of a partition
    assert len(found["household_versions"]) == partitions.HASH_PARTITIONS
    assert found["submissions"][0] == f"FOR VALUES FROM ('0') TO ('{SPAN['submissions']}')"
    # Households stay a plain table: HASH partitions made the scope filters slower.
    assert "households" not in strategies


@pytest.mark.postgres_only
def test_a_row_of_a_month_without_partition_lands_in_default_then_ensure_moves_it(ctx):
    far = dt.datetime(2031, 2, 14, 9, 30, tzinfo=dt.UTC)
    db.session.add(AuditEvent(action="test.far", details={}, at=far))
    db.session.commit()
    assert where("audit_events", "action", "test.far") == "audit_events_default"

    done = partitions.ensure(months_ahead=2)

    assert "audit_events_y2031m02" in done.created and done.moved == 1
    assert where("audit_events", "action", "test.far") == "audit_events_y2031m02"
    assert db.session.scalar(sa.text("SELECT count(*) FROM audit_events_default")) == 0
    # The moved row's partition has the parent's indexes and foreign keys.
    indexes = db.session.scalar(
        sa.text("SELECT count(*) FROM pg_indexes WHERE tablename = 'audit_events_y2031m02'")
    )
    assert indexes == 4  # primary key, actor, at, target
    assert partitions.ensure(months_ahead=2).created == []  # idempotent
    today = dt.datetime.now(dt.UTC).date()
    ahead = partitions.next_month(partitions.next_month(today))
    assert partitions.month_name("audit_events", ahead) in {p.name for p in partitions.partitions()}


@contextlib.contextmanager
def txid_split():
    """`changes_p0000` split at the current transaction id into an old and a new partition,
    as a national server's log is after a month (this test's server is too young to have
    filled a span); the layout is put back after."""
    with db.engine.begin() as conn:
        now = conn.scalar(sa.text("SELECT pg_current_xact_id()::text::bigint"))
        conn.execute(sa.text("DELETE FROM changes"))
        conn.execute(sa.text("ALTER TABLE changes DETACH PARTITION changes_p0000"))
        conn.execute(sa.text("DROP TABLE changes_p0000"))
        for name, low, high in (("old", 0, now), ("new", now, SPAN["changes"])):
            conn.execute(
                sa.text(
                    f"CREATE TABLE changes_test_{name} PARTITION OF changes"
                    f" FOR VALUES FROM ({low}) TO ({high})"
                )
            )
    try:
        yield now
    finally:
        db.session.rollback()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM changes"))
            for name in ("old", "new"):
                conn.execute(sa.text(f"DROP TABLE changes_test_{name}"))
        partitions.ensure()
        assert "changes_p0000" in {p.name for p in partitions.partitions()}


@pytest.mark.postgres_only
def test_a_pull_reads_only_the_partitions_from_its_cursor_on(ctx):
    """The plan of `changes.read` after a cursor leaves out the partitions below it. (Those
    above the pull horizon are left out too when the plan starts; the horizon is the
    server's, which other databases on it may hold back, so this test does not rely on it.)"""
    with txid_split() as split:
        changes.record("household", "h-1", "upsert", None)
        db.session.commit()
        assert db.session.scalar(sa.text("SELECT max(txid) FROM changes")) >= split
        with statements_on("changes") as seen:
            changes.read(Cursor(split, 0), 50, unit_ids=sa.select(sa.literal(1)))
            changes.read(Cursor(0, 0), 50)
        (recent_sql, recent_params), (old_sql, old_params) = seen

        recent_plan = plan(recent_sql, recent_params)
        assert "changes_test_old" not in recent_plan, recent_plan
        assert "changes_test_old" in plan(old_sql, old_params)  # the control: nothing pruned


@pytest.mark.postgres_only
def test_a_households_history_reads_one_partition(ctx):
    with statements_on("household_versions") as seen:
        household_review.versions_of(_Household("6a1f5c1e-4b0b-4c59-9e53-5e7d7c5d2a10"))
    ((statement, parameters),) = seen
    found = plan(statement, parameters)
    scanned = {
        f"household_versions_h{r:02d}"
        for r in range(partitions.HASH_PARTITIONS)
        if f"household_versions_h{r:02d}" in found
    }
    assert len(scanned) == 1, found


class _Household:
    def __init__(self, id_: str) -> None:
        self.id = id_


@contextlib.contextmanager
def month_without_partition():
    """This month's audit partition gone, as on the first day of a month nobody prepared,
    and submission ids about to cross into a span that has no partition either."""
    name = partitions.month_name("audit_events", dt.datetime.now(dt.UTC).date())
    made = [
        int(p.name.rsplit("_p", 1)[1])
        for p in partitions.partitions()
        if p.table == "submission_payloads" and p.bounds != "DEFAULT"
    ]
    span = max(made) + 2  # the first id falls in the span before it: neither has a partition
    first = span * SPAN["submission_payloads"] - 2
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE audit_events DETACH PARTITION {name}"))
        conn.execute(sa.text(f"DROP TABLE {name}"))
        conn.execute(sa.text("SELECT setval('submissions_id_seq', :v)"), {"v": first})
    yield first + 1, span


@pytest.mark.postgres_only
@pytest.mark.parametrize("protocol", sorted(DRIVERS))
def test_ingest_pull_merge_and_rebuild_across_a_missing_partition(app, client, protocol):
    with app.app_context():
        world = populate_world(publish_shipped_xforms)
    driver = DRIVERS[protocol](client, world.tokens["cadre_a"])
    records = Records(app)
    with app.app_context(), month_without_partition() as (first_id, span):
        home = registration()
        hid = household_id(home)
        assert driver.submit(home).means("accepted")
        late = visit(hid, income__income_per_person="2000000", end="2026-03-02T15:40:00+07:00")
        early = visit(hid, income__income_per_person="3000000", end="2026-03-02T08:40:00+07:00")
        assert driver.submit(late).means("accepted")
        assert driver.submit(early).means("accepted")  # a three-way merge: one conflict
        audit.record(None, "test.decision")  # a decision of this month
        db.session.commit()

        ids = [s.id for s in records.submissions()]
        assert ids[0] == first_id and len(ids) == 3
        assert db.session.scalar(sa.text("SELECT count(*) FROM submission_payloads_default")) == 3
        assert db.session.scalar(sa.text("SELECT count(*) FROM submissions_default")) == 3
        assert where("audit_events", "action", "test.decision") == "audit_events_default"

        done = partitions.ensure()

        assert done.moved >= 4
        # Submissions are not moved (other tables refer to them): their span's partition
        # starts above them, and they are still found by id and by instanceID.
        assert done.kept == 3
        assert {where("submissions", "id", i) for i in ids} == {"submissions_default"}
        for stored in records.submissions():
            assert ingest_store.stored_submission(stored.instance_id).id == stored.id
        for table in ("submission_payloads", "audit_events", "changes"):
            assert db.session.scalar(sa.text(f"SELECT count(*) FROM {table}_default")) == 0
        payloads = db.session.scalars(
            sa.select(SubmissionPayload.submission_id).where(
                SubmissionPayload.submission_id.in_(ids)
            )
        )
        assert sorted(payloads) == ids
        assert where("submission_payloads", "submission_id", ids[0]) == partitions.span_name(
            "submission_payloads", span - 1
        )
        newest = partitions.span_name("submission_payloads", span)
        assert where("submission_payloads", "submission_id", ids[-1]) == newest
        assert household_rebuild.rebuild() == []
        db.session.remove()

    saved = records.household(hid)
    assert (saved.version, saved.open_conflicts) == (3, 1)
    tablet = Tablet(client, world.tokens["cadre_a"], settle=lambda: settle(app)).sync()
    assert tablet.households[hid]["version"] == 3
    # A visit after the move lands in the partition ensure made for its id.
    assert driver.submit(visit(hid, income__income_per_person="900000")).means("accepted")
    with app.app_context():
        last = db.session.scalar(sa.select(sa.func.max(Submission.id)))
        assert where("submission_payloads", "submission_id", last) == newest
        assert where("submissions", "id", last) == partitions.span_name("submissions", span)
        bounds = {p.name: p.bounds for p in partitions.partitions()}
        assert bounds[partitions.span_name("submissions", span)] == (
            f"FOR VALUES FROM ('{ids[-1] + 1}') TO ('{(span + 1) * SPAN['submissions']}')"
        )


def test_the_commands_ensure_and_list_on_either_database(runner, app):
    ensured = runner.invoke(main, ["partitions", "ensure", "--months-ahead", "2"])
    listed = runner.invoke(main, ["partitions", "list"])

    assert ensured.exit_code == 0 and listed.exit_code == 0, ensured.output + listed.output
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert "only PostgreSQL" in ensured.output and "only PostgreSQL" in listed.output
        return
    assert "rows moved out of DEFAULT" in ensured.output
    ahead = partitions.next_month(partitions.next_month(dt.datetime.now(dt.UTC).date()))
    assert partitions.month_name("audit_events", ahead) in listed.output
    assert "household_versions_h15" in listed.output


@pytest.mark.postgres_only
def test_ensure_gives_up_on_a_lock_held_by_a_long_transaction(ctx, monkeypatch):
    """`ensure` never queues behind a long transaction (every pull would queue behind it):
    it skips that partition, and the next run makes it."""
    monkeypatch.setattr(partitions, "LOCK_TIMEOUT", "200ms")
    partitions.ensure()
    today = dt.datetime.now(dt.UTC).date()
    ahead = partitions.month_name("audit_events", partitions.next_month(today))
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"ALTER TABLE audit_events DETACH PARTITION {ahead}"))
        conn.execute(sa.text(f"DROP TABLE {ahead}"))
    with db.engine.connect() as long_writer:
        long_writer.execute(
            sa.text("INSERT INTO audit_events (action, details, at) VALUES ('x', '{}', now())")
        )  # not committed yet: holds its lock on audit_events
        started = time.monotonic()
        done = partitions.ensure()
        assert done.skipped == [ahead] and ahead not in done.created
        assert time.monotonic() - started < 3
        long_writer.commit()
    again = partitions.ensure()
    assert again.created == [ahead] and again.skipped == []


def _copy_of_stored(instance_id: str) -> dict:
    """The columns of the stored submission as a new row named `instance_id`."""
    row = db.session.execute(sa.select(Submission.__table__).limit(1)).mappings().one()
    return {**{k: v for k, v in row.items() if k != "id"}, "instance_id": instance_id,
            "root_id": instance_id}  # fmt: skip


@pytest.mark.postgres_only
def test_r7_eight_connections_racing_one_instance_id_on_the_partitioned_table(app, client):
    """R7 on the partitioned `submissions`: eight connections insert one instanceID at once,
    half with ingest's single statement, half with the batch's; the claim makes exactly one
    of them store it. Deleting it frees the claim; the ORM claims too."""
    with app.app_context():
        world = populate_world(publish_shipped_xforms)
    assert DRIVERS["json"](client, world.tokens["cadre_a"]).submit(registration()).means("accepted")
    with app.app_context():
        values = _copy_of_stored("uuid:race")
    payload = {"content_type": "application/json", "body": b"{}"}
    start = threading.Barrier(8)
    stored: list[int | None] = []

    def race(n: int) -> None:
        with app.app_context():
            conn = db.session.connection()
            start.wait()
            if n % 2:
                got = ingest_store.insert_many([dict(values)]).get("uuid:race")
            else:
                got = ingest_store._insert_new(conn, dict(values), payload, None)
            time.sleep(0.05)  # the winner holds its claim a while: the others wait on it
            db.session.commit()
            stored.append(got)
            db.session.remove()

    threads = [threading.Thread(target=race, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with app.app_context():
        assert len(stored) == 8 and len([s for s in stored if s is not None]) == 1, stored
        (winner,) = [s for s in stored if s is not None]
        rows = db.session.execute(
            sa.text("SELECT id, tableoid::regclass::text FROM submissions WHERE instance_id = :i"),
            {"i": "uuid:race"},
        ).all()
        span = winner // SPAN["submissions"]
        assert rows == [(winner, partitions.span_name("submissions", span))]
        claim = sa.select(SUBMISSION_INSTANCES.c.submission_id).where(
            SUBMISSION_INSTANCES.c.instance_id == "uuid:race"
        )
        assert db.session.scalars(claim).all() == [winner]
        assert ingest_store.stored_submission("uuid:race").id == winner

        # The delete trigger frees the claim: the instanceID can be stored again.
        db.session.execute(sa.delete(Submission).where(Submission.id == winner))
        db.session.commit()
        assert db.session.scalars(claim).all() == []
        again = ingest_store.insert_many([dict(values)])["uuid:race"]
        assert db.session.scalars(claim).all() == [again]

        # A row added through the ORM claims its instanceID; a second one is refused.
        orm = {k: v for k, v in _copy_of_stored("uuid:orm").items() if k not in ("answers",)}
        db.session.add(Submission(**orm, answers={}))
        db.session.commit()
        assert ingest_store.stored_submission("uuid:orm") is not None
        db.session.add(Submission(**orm, answers={}))
        with pytest.raises(sa.exc.IntegrityError):
            db.session.commit()
        db.session.rollback()
        # Nor can raw SQL store an instanceID twice: each row must match its own claim.
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(
                sa.text(
                    "INSERT INTO submissions (instance_id, root_id, form_version_id, answers,"
                    " canonical_hash, review_state, superseded, received_at)"
                    " SELECT instance_id, root_id, form_version_id, answers, canonical_hash,"
                    " review_state, superseded, received_at FROM submissions"
                    " WHERE instance_id = 'uuid:orm'"
                )
            )
        db.session.rollback()


@pytest.mark.postgres_only
def test_a_submission_looked_up_by_instance_id_reads_one_partition(app, client):
    """`instance_is` goes through the claim: the submission's id prunes the partitions to
    the one holding it (run-time pruning: the others are never executed)."""
    with app.app_context():
        world = populate_world(publish_shipped_xforms)
    home = registration()
    assert DRIVERS["json"](client, world.tokens["cadre_a"]).submit(home).means("accepted")
    with app.app_context():
        with statements_on("submissions") as seen:
            assert ingest_store.stored_submission(instance_id(home)) is not None
        ((statement, parameters),) = seen
        raw = db.session.connection().exec_driver_sql(
            f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {statement}", parameters
        )
        found = [row[0] for row in raw]
        scans = [line for line in found if " on submissions_" in line]
        assert len(scans) > 1, found  # every partition is in the plan...
        executed = [line for line in found if " on submissions_" in line and "never" not in line]
        assert len(executed) == 1, found  # ...and one is read
        db.session.rollback()
