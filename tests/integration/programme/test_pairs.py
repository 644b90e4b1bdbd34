"""Pairs: who may pair which household with whom, reassignment history, imports."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Change, HouseholdStatus
from server.models.programme import Pair
from server.problems import Problem
from server.services import audit
from server.services.programme import agencies, pairs
from server.services.programme import units as admin_units
from tests.integration.programme.world import build


@pytest.fixture
def world(ctx):
    return build()


def _refused(code: str, call, *args, **kwargs) -> Problem:
    with pytest.raises(Problem) as raised:
        call(*args, **kwargs)
    assert raised.value.code == code, raised.value
    db.session.rollback()
    return raised.value


def _pairs() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Pair))


def test_a_cadre_or_a_team_is_paired_with_priority_and_capacity_note(world):
    first = pairs.pair(
        world.household_a,
        world.cadre_b,
        priority=1,
        capacity_note="Có đất, thiếu vốn",
        actor=world.official_a,
    )
    team = pairs.pair(world.household_a, world.team, priority=2, actor=world.coordinator)
    assert (first.helper_user_id, first.priority, first.capacity_note) == (
        world.cadre_b.id,
        1,
        "Có đất, thiếu vốn",
    )
    assert team.helper_agency_id == world.team.id and team.ends_on is None
    # The helper's tablet learns of it at its next sync.
    keys = db.session.scalars(sa.select(Change.entity_id).where(Change.kind == "pair")).all()
    assert f"u{world.cadre_b.id}:{world.household_a.id}" in keys
    _refused("409.34", pairs.pair, world.household_a, world.cadre_b)


def test_only_cadres_members_teams_and_organisations_help(world):
    refused = _refused("400.32", pairs.pair, world.household_a, world.agency)  # kind agency
    assert "Sở Y tế" in refused.message("vi")
    _refused("400.32", pairs.pair, world.household_a, world.official_a)  # no agency, not cadre
    assert pairs.pair(world.household_a, world.lead).helper_user_id == world.lead.id  # a member


def test_every_pairing_rule_refuses_the_wrong_role_or_place(world):
    cases = [
        (world.cadre, world.household_a, world.cadre, "403.1"),
        (world.official_b, world.household_a, world.cadre, "403.2"),
        (world.outsider, world.household_a, world.cadre, "403.2"),
        (world.lead, world.household_a, world.cadre_b, "403.21"),  # not their member
        (world.lead, world.household_a, world.cadre, "403.22"),  # agency not assigned there yet
    ]
    for actor, household, helper, code in cases:
        refused = _refused(code, pairs.pair, household, helper, actor=actor)
        if code == "403.2":
            assert "Bản Một" in refused.message("vi")  # the place, not a code
    assert _pairs() == 0
    agencies.assign(world.agency, admin_units.find("11/03325"), phase="2021-2030")
    assert pairs.pair(world.household_a, world.cadre, actor=world.lead).id
    assert pairs.pair(world.household_a2, world.team, actor=world.lead).id
    _refused("403.22", pairs.pair, world.household_b, world.cadre, actor=world.lead)
    assert pairs.pair(world.household_b, world.cadre, actor=world.official_b).id


def test_a_merged_household_names_the_one_to_pair_instead(world):
    world.household_a2.status = HouseholdStatus.MERGED
    world.household_a2.merged_into_id = world.household_a.id
    db.session.commit()
    refused = _refused("409.32", pairs.pair, world.household_a2, world.cadre)
    assert "Lò Văn Một" in refused.message("vi") and "MP-001" in refused.message("vi")
    world.household_b.status = HouseholdStatus.CLOSED
    db.session.commit()
    _refused("409.33", pairs.pair, world.household_b, world.cadre)


def test_reassignment_ends_the_old_pair_the_day_the_new_starts_and_keeps_history(world):
    start = dt.date(2024, 3, 1)
    old = pairs.pair(
        world.household_a, world.cadre, priority=3, capacity_note="Chăm chỉ", starts_on=start
    )
    new = pairs.reassign(old, world.cadre_b, actor=world.official_a, reason="Chuyển công tác")
    assert old.ends_on == new.starts_on == pairs.today() and old.replaced_by_id == new.id
    assert (new.priority, new.capacity_note, old.end_reason) == (3, "Chăm chỉ", "Chuyển công tác")
    history = db.session.scalars(pairs.listed(world.admin, world.household_a, current=False))
    assert [p.id for p in history] == [new.id, old.id]
    current = db.session.scalars(pairs.listed(world.official_a, world.household_a)).all()
    assert current == [new]
    _refused("409.31", pairs.end_pair, old)
    _refused("409.31", pairs.reassign, old, world.team)
    assert [e.action for e in audit.events_for(old)] == ["pair.create", "pair.reassign"]
    # Both helpers' tablets are told: one gains the household, the other drops it.
    keys = set(db.session.scalars(sa.select(Change.entity_id).where(Change.kind == "pair")))
    assert {
        f"u{world.cadre.id}:{world.household_a.id}",
        f"u{world.cadre_b.id}:{world.household_a.id}",
    } <= keys
    ended = pairs.end_pair(new, reason="Thoát nghèo", actor=world.coordinator)
    assert ended.ends_on == pairs.today()
    assert db.session.scalars(pairs.listed(world.admin, world.household_a)).all() == []


def test_each_role_lists_the_pairs_of_its_own_area(world):
    agencies.assign(world.agency, admin_units.find("11/03325"), phase="2021-2030")
    a = pairs.pair(world.household_a, world.cadre)
    b = pairs.pair(world.household_b, world.cadre_b)

    def seen(who):
        return {p.id for p in db.session.scalars(pairs.listed(who))}

    assert seen(world.admin) == seen(world.coordinator) == {a.id, b.id}
    assert seen(world.official_a) == {a.id} and seen(world.official_b) == {b.id}
    assert seen(world.lead) == {a.id} and seen(world.cadre) == {a.id}
    assert seen(world.outsider) == set()


CSV = (
    "household,helper,priority,capacity_note,starts_on\n"
    "MP-001,cadre,1,Có đất,2025-01-15\n"
    "{a2},SYT-T1,2,,15/01/2025\n"
)


def test_import_pairs_by_household_code_or_id_and_username_or_agency_code(world):
    data = CSV.format(a2=world.household_a2.id).encode()
    report = pairs.import_pairs(data, "pairs.csv", actor=world.official_a)
    assert report.ok and len(report.created) == 2
    first, second = report.created
    assert (first.household_id, first.helper_user_id, first.starts_on) == (
        world.household_a.id,
        world.cadre.id,
        dt.date(2025, 1, 15),
    )
    assert (second.helper_agency_id, second.priority) == (world.team.id, 2)


def test_import_with_bad_rows_creates_nothing_and_says_what_is_wrong_row_by_row(world):
    bad = (
        b"household,helper,priority,starts_on\n"
        b"MP-001,cadre,1,2025-01-15\n"  # fine alone
        b"NT-001,cadre,1,2025-01-15\n"  # commune B: outside official A's commune
        b"KHONG-CO,cadre,,\n"  # no such household
        b"MP-002,nobody,,\n"  # no such helper
        b"MP-002,cadre,first,\n"  # priority not a number
        b"MP-001,cadre,2,\n"  # the same pair twice
        b"MP-002,SYT,,\n"  # an agency (not a team) cannot help
    )
    report = pairs.import_pairs(bad, "pairs.csv", actor=world.official_a)
    assert [(e.row, e.column) for e in report.errors] == [
        (3, "household"),
        (4, "household"),
        (5, "helper"),
        (6, "priority"),
        (7, "household"),
        (8, "helper"),
    ]
    assert "KHONG-CO" in report.errors[1].text("vi")
    assert "Sở Y tế" in report.errors[5].text("vi")
    assert _pairs() == 0
    _refused("403.1", pairs.import_pairs, bad, "pairs.csv", actor=world.cadre)
