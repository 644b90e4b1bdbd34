"""The dashboard's and the queue's counts (issue 19, point 1): read from indexes and from
columns kept by the code that writes households, never by loading a commune's households or
versions. Each count is compared, after every kind of change, with a plain oracle that reads
everything in Python; the summed-up columns fold the versions exactly as the exit rule reads
them; the statements do not grow with the commune and PostgreSQL answers them from indexes."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from forms.instance import to_xml
from server.db import db
from server.models import (
    AdminUnit,
    DuplicateCase,
    Household,
    HouseholdStatus,
    HouseholdVersion,
    PendingHouseholdUpdate,
    PovertyExit,
    ReviewState,
    Submission,
)
from server.models.submissions import claiming
from server.services.access import users
from server.services.duplicates import cases as duplicate_cases
from server.services.households import versions
from server.services.households.poverty import Tracked, track
from server.services.receiving import ingest
from server.services.review import decisions, exits, pages
from server.services.review.exits import Assessment, exit_of
from tests.integration.contract.submissions import household_id, instance_id, registration, visit
from tests.integration.live import populate_world, publish_shipped_xforms

STATUSES = ["poor", "near_poor", "average", "above", "unclassified"]
T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

# -- the rule, folded one version at a time --------------------------------------------------


@given(st.lists(st.sampled_from([*STATUSES, ""]), max_size=10))
def test_the_columns_fold_the_versions_as_the_exit_rule_reads_them(statuses):
    """Whatever the history (statuses repeated, emptied, unknown to the standards), the
    columns written version by version give the exit `exit_of` finds in the whole history."""
    tracked = Tracked()
    for version, status in enumerate(statuses, start=1):
        tracked = track(tracked, {"poverty_status": status}, version)
    history = [
        Assessment(n, T0 + dt.timedelta(days=n), s, None, None)
        for n, s in enumerate(statuses, start=1)
        if s
    ]
    current = next((s for s in reversed(statuses) if s), "")
    found = exit_of(Household(id="h", properties={"poverty_status": current}), history)
    from_columns = (
        (tracked.exit_version, tracked.exit_from)
        if tracked.exit_version is not None and tracked.assessed_status == current
        else None
    )
    assert from_columns == ((found.version, found.from_status) if found else None)


# -- counts against an oracle, after each kind of change ------------------------------------


def _oracle(commune: AdminUnit) -> dict:
    """Every count read the plain way: all of the commune's rows loaded into Python."""
    homes = list(db.session.scalars(sa.select(Household).where(Household.commune_id == commune.id)))
    active = [h for h in homes if h.status == HouseholdStatus.ACTIVE]
    poverty = Counter((h.properties or {}).get("poverty_status") or "" for h in active)
    history = exits.assessments(h.id for h in active)
    found = [e for h in active if (e := exit_of(h, history.get(h.id, []))) is not None]
    decided = {(d.household_id, d.version) for d in db.session.scalars(sa.select(PovertyExit))}
    subs = [
        s
        for s in db.session.scalars(sa.select(Submission))
        if s.commune_id == commune.id and not s.superseded
    ]
    held = [
        p
        for p in db.session.scalars(sa.select(PendingHouseholdUpdate))
        if p.resolved_at is None
        and db.session.get(Submission, p.submission_id).commune_id == commune.id
    ]
    cases = db.session.scalars(
        sa.select(DuplicateCase).where(DuplicateCase.commune_id == commune.id)
    )
    return {
        "poverty": {k: n for k, n in poverty.items() if n},
        "households": len(active),
        "exits": sum(1 for e in found if (e.household.id, e.version) not in decided),
        "conflicts": sum(1 for h in homes if h.open_conflicts > 0),
        "received": sum(1 for s in subs if s.review_state == ReviewState.RECEIVED),
        "has_issues": sum(1 for s in subs if s.review_state == ReviewState.HAS_ISSUES),
        "returned": sum(1 for s in subs if s.review_state == ReviewState.RETURNED),
        "held_updates": len(held),
        "duplicates": sum(1 for c in cases if c.status == "open"),
    }


def _board(commune: AdminUnit) -> dict:
    board = pages.dashboard(users.find("official_a"), commune)
    waiting = {kind.key: n for kind, n in board.waiting}
    return {
        "poverty": {key: n for key, _labels, n in board.poverty if n},
        "households": board.households,
        **{key: waiting[key] for key in ("exits", "conflicts", "received", "has_issues",
                                         "returned", "held_updates", "duplicates")},
    }  # fmt: skip


def _check(commune: AdminUnit, **expected) -> dict:
    db.session.commit()
    db.session.expire_all()
    oracle = _oracle(commune)
    assert _board(commune) == oracle
    for key, value in expected.items():
        assert oracle[key] == value, key
    db.session.expire_all()
    return oracle


def _send(root, user: str = "cadre_a") -> None:
    receipt = ingest.receive_xml(to_xml(root), user=users.find(user))
    assert receipt.stored, receipt
    db.session.commit()


def test_every_count_matches_the_oracle_after_each_kind_of_change(ctx):
    populate_world(publish_shipped_xforms)
    commune = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.path == "11/03325"))
    official, cadre = users.find("official_a"), users.find("cadre_a")
    _check(commune, households=0, exits=0)

    # New registrations: near-poor (1.2 M a person) and poor (every dimension deprived).
    near = registration(head_name="Lò Thị Sáu")
    _send(near)
    poor = registration(
        head_name="Quàng Văn Bảy", village="03325_02", income__income_per_person="500000"
    )
    _send(poor)
    first = _check(commune, households=2, received=2)
    assert sum(first["poverty"].values()) == 2

    # Reclassification out of near-poverty: an exit to certify.
    _send(visit(household_id(near), income__income_per_person="4500000"))
    _check(commune, exits=1)
    # Out of poverty too.
    _send(visit(household_id(poor), income__income_per_person="4500000"))
    _check(commune, exits=2)

    # A review decision on each kind: approved leaves the queue's count, issues move it.
    decisions.decide(official, instance_id(near), "approve")
    decisions.decide(official, instance_id(poor), "has_issues")
    _check(commune, has_issues=1)

    # The exit certified: no longer waiting.
    exits.decide(official, household_id(near), 2, "certify", exits.today())
    _check(commune, exits=1)

    # Back into poverty (re-poverty): the other exit is no longer one.
    _send(visit(household_id(poor), base_version=2, income__income_per_person="300000"))
    _check(commune, exits=0)

    # Conflicting edits from the same version (H3), then their resolution.
    twin_a = registration(head_name="Cà Văn Năm", village="03325_02", head__phone="0911222333")
    twin_b = registration(
        head_name="Cà Văn Năm", village="03325_02", head__phone="0911222333",
        place__address="Nhà số 5",
    )  # fmt: skip
    _send(twin_a)
    _send(twin_b)
    for income in ("1300000", "1400000"):
        _send(visit(household_id(twin_a), base_version=1, income__income_per_person=income))
    counted = _check(commune, conflicts=1)
    assert counted["duplicates"] >= 1

    # A duplicate merge: the absorbed household leaves every count.
    case = db.session.scalar(sa.select(DuplicateCase).where(DuplicateCase.status == "open"))
    duplicate_cases.merge(case.id, official, survivor=household_id(twin_a))
    after_merge = _check(commune)
    assert after_merge["households"] == counted["households"] - 1

    # Closing a household (a decision version with the closed status).
    versions.record_decision(
        household_id(near), {}, kind="close", actor_id=official.id, status=HouseholdStatus.CLOSED
    )
    _check(commune, households=after_merge["households"] - 1)

    # An update waiting for its household's registration (H5) is counted while held.
    late = registration(head_name="Điêu Thị Tám")
    _send(visit(household_id(late), base_version=1, income__income_per_person="4500000"))
    _check(commune, held_updates=1)
    _send(late)
    _check(commune, held_updates=0, exits=1)
    assert cadre is not None


def test_the_migration_backfills_the_columns_from_the_versions(ctx):
    """The backfill's SQL reads existing versions as `track` does (the same rows, with the
    columns emptied and refilled by the migration's own function)."""
    import importlib.util
    from pathlib import Path

    populate_world(publish_shipped_xforms)
    near = registration(head_name="Lò Thị Sáu")
    _send(near)
    _send(visit(household_id(near), income__income_per_person="4500000"))
    poor = registration(head_name="Quàng Văn Bảy", income__income_per_person="500000")
    _send(poor)
    _send(visit(household_id(poor), income__income_per_person="4500000"))
    _send(visit(household_id(poor), base_version=2, income__income_per_person="300000"))
    columns = ("poverty_status", "assessed_status", "exit_version", "exit_from")
    table = Household.__table__
    written = {
        r.id: r for r in db.session.execute(sa.select(table.c.id, *(table.c[c] for c in columns)))
    }
    assert written[household_id(near)].exit_version == 2
    db.session.execute(sa.update(table).values(**dict.fromkeys(columns)))
    path = next(Path("migrations/versions").glob("*_7775fa59283e_*.py"))
    spec = importlib.util.spec_from_file_location("dashboard_counts", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    with Operations.context(MigrationContext.configure(db.session.connection())):
        migration._backfill()
    refilled = {
        r.id: r for r in db.session.execute(sa.select(table.c.id, *(table.c[c] for c in columns)))
    }
    assert refilled == written
    db.session.rollback()


# -- statements that do not grow with the commune; indexes on PostgreSQL --------------------


def _fill(commune: AdminUnit, count: int, *, start: int = 0) -> None:
    """`count` households of the commune with a history of assessments (every third one an
    exit, every fifth with open conflicts), written with the columns ingest writes."""
    village = db.session.scalar(sa.select(AdminUnit.id).where(AdminUnit.parent_id == commune.id))
    histories = (
        ["poor", "near_poor"],
        ["near_poor", "average"],
        ["poor"],
        ["poor", "above", "poor"],
    )
    homes, rows = [], []
    for n in range(start, start + count):
        history = histories[n % len(histories)]
        tracked = Tracked()
        for version, status in enumerate(history, start=1):
            tracked = track(tracked, {"poverty_status": status}, version)
            rows.append({"household_id": f"h-{n:08d}", "version": version,
                         "changes": {"poverty_status": status}, "kind": "submission",
                         "created_at": T0, "branch_position": 0})  # fmt: skip
        homes.append({
            "id": f"h-{n:08d}", "dataset": "households", "label": f"Hộ {n}",
            "version": len(history), "properties": {"poverty_status": history[-1]},
            "status": "active", "village_id": village, "commune_id": commune.id,
            "created_at": T0, "updated_at": T0, "flagged": False,
            "open_conflicts": 1 if n % 5 == 0 else 0, "held_updates": 0,
            "poverty_status": history[-1], **tracked.columns(),
        })  # fmt: skip
    db.session.execute(sa.insert(Household.__table__), homes)
    db.session.execute(sa.insert(HouseholdVersion.__table__), rows)
    db.session.commit()


class _Recorder:
    """The statements a block of code sends, and the households and versions it loads."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, object]] = []
        self.loaded = Counter()

    def __enter__(self):
        sa.event.listen(db.engine, "before_cursor_execute", self._statement)
        sa.event.listen(Household, "load", self._household)
        sa.event.listen(HouseholdVersion, "load", self._version)
        return self

    def __exit__(self, *exc) -> None:
        sa.event.remove(db.engine, "before_cursor_execute", self._statement)
        sa.event.remove(Household, "load", self._household)
        sa.event.remove(HouseholdVersion, "load", self._version)

    def _statement(self, _conn, _cursor, statement, parameters, _context, _many) -> None:
        self.statements.append((statement, parameters))

    def _household(self, *_args) -> None:
        self.loaded["households"] += 1

    def _version(self, *_args) -> None:
        self.loaded["versions"] += 1


def _dashboard_and_queue(commune: AdminUnit) -> _Recorder:
    official = users.find("official_a")
    db.session.expire_all()
    with _Recorder() as recorded:
        pages.dashboard(official, commune)
        pages.queue(official, commune, pages.QueueFilter())
    db.session.rollback()
    return recorded


@pytest.mark.postgres_only
def test_the_dashboard_sends_as_many_statements_for_200_households_as_for_10(ctx):
    populate_world(publish_shipped_xforms)
    commune = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.path == "11/03325"))
    pages.dashboard(users.find("official_a"), commune)  # the waiting kinds registered
    _fill(commune, 10)
    small = _dashboard_and_queue(commune)
    _fill(commune, 190, start=10)
    large = _dashboard_and_queue(commune)
    assert len(small.statements) == len(large.statements)
    assert [s for s, _ in small.statements] == [s for s, _ in large.statements]
    assert large.loaded == Counter(), "nothing loads the commune's households or versions"
    board = pages.dashboard(users.find("official_a"), commune)
    assert (
        dict((k.key, n) for k, n in board.waiting)["exits"] == 100
    )  # poor -> near-poor, near-poor -> average
    assert board.households == 200


#: The big tables: a dashboard statement reads them through an index or not at all.
BIG = ("households", "household_versions", "submissions")


@pytest.mark.postgres_only
def test_postgresql_answers_the_dashboard_from_indexes_on_20000_households(ctx):
    populate_world(publish_shipped_xforms)
    commune = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.path == "11/03325"))
    other = db.session.scalar(sa.select(AdminUnit).where(AdminUnit.path == "11/03316"))
    _send(registration(head_name="Lò Thị Sáu"))
    pages.dashboard(users.find("official_a"), commune)
    _fill(commune, 1000)
    # 19,000 more households (and their versions and submissions) in another commune.
    sid = db.session.scalar(sa.select(Submission.id))
    copied = [c.name for c in Submission.__table__.c if c.name not in ("id", "instance_id",
              "root_id", "commune_id", "village_id")]  # fmt: skip
    db.session.execute(sa.text(claiming(
        "INSERT INTO submissions (instance_id, root_id, commune_id, village_id, "
        f"{', '.join(copied)}) SELECT 'uuid:g-' || g, 'uuid:g-' || g, :other, NULL, "
        f"{', '.join(copied)} "
        "FROM submissions, generate_series(1, 19000) AS g WHERE id = :sid"
    )), {"other": other.id, "sid": sid})  # fmt: skip
    db.session.execute(
        sa.text(
            "INSERT INTO households (id, dataset, label, version, properties, status, commune_id, "
            "created_at, updated_at, flagged, open_conflicts, held_updates, poverty_status, "
            "assessed_status, exit_version, exit_from) "
            "SELECT 'g-' || g, 'households', 'Hộ ' || g, 2, '{\"poverty_status\": \"average\"}', "
            "'active', :other, now(), now(), false, 0, 0, 'average', 'average', "
            "CASE WHEN g % 3 = 0 THEN 2 END, CASE WHEN g % 3 = 0 THEN 'near_poor' END "
            "FROM generate_series(1, 19000) AS g"
        ),
        {"other": other.id},
    )
    db.session.execute(
        sa.text(
            "INSERT INTO household_versions (household_id, version, changes, created_at, kind, "
            'branch_position) SELECT id, v, \'{"poverty_status": "average"}\', now(), '
            "'submission', 0 FROM households, generate_series(1, 2) AS v WHERE id LIKE 'g-%'"
        )
    )
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
        for table in BIG:  # as autovacuum leaves them: statistics, the visibility map
            autocommit.exec_driver_sql(f"VACUUM ANALYZE {table}")
    grouped = None
    recorded = _dashboard_and_queue(commune)
    conn = db.session.connection()
    for statement, parameters in recorded.statements:
        if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        plan = "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
        scanned = [
            t for t in BIG if f"Seq Scan on {t} " in plan or plan.endswith(f"Seq Scan on {t}")
        ]
        assert not scanned, f"{statement}\n{plan}"
        if "GROUP BY households.poverty_status" in statement:
            grouped = (statement, parameters)
    # The households by poverty status can be counted from the index alone, not the rows
    # (whether PostgreSQL does depends on the visibility map, which VACUUM cannot set while
    # another session's transaction is open: the other ways are turned off to ask; a
    # GROUP BY of the JSON property could only read the rows).
    statement, parameters = grouped
    for way in ("seqscan", "bitmapscan", "indexscan"):
        conn.exec_driver_sql(f"SET LOCAL enable_{way} = off")
    plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {statement}", parameters))
    assert "Index Only Scan using ix_households_commune_poverty" in plan, plan
    db.session.rollback()
