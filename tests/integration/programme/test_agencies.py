"""Agencies and their assignments: who manages them, periods, overlaps, history."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.db import db
from server.models.programme import AgencyAssignment, AgencyKind, UnitCategory
from server.problems import Problem
from server.services import audit
from server.services.programme import agencies
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


def test_a_phase_runs_from_its_first_january_until_the_first_january_after_it(world):
    commune = admin_units.find("11/03325")
    made = agencies.assign(world.agency, commune, "poor", phase="2021-2025", actor=world.admin)
    assert (made.phase, made.starts_on, made.ends_on) == (
        "2021-2025",
        dt.date(2021, 1, 1),
        dt.date(2026, 1, 1),
    )
    assert made.category == UnitCategory.POOR
    _refused("400.30", agencies.assign, world.agency, commune, phase="2025-2021")
    _refused("400.3", agencies.assign, world.agency, commune, "rich", phase="2026-2030")


def test_overlapping_assignment_of_the_same_agency_to_the_same_unit_is_refused(world):
    commune = admin_units.find("11/03325")
    agencies.assign(world.agency, commune, phase="2021-2025")
    refused = _refused(
        "409.30", agencies.assign, world.agency, commune, starts_on=dt.date(2025, 6, 1)
    )
    assert "Sở Y tế" in refused.message("vi") and "Xã Mường Phăng" in refused.message("vi")
    # The next phase starts the day the previous one ends (half-open): no overlap.
    later = agencies.assign(world.agency, commune, "coastal", phase="2026-2030")
    assert later.starts_on == dt.date(2026, 1, 1)
    # Another agency, or the same agency elsewhere, is fine.
    agencies.assign(world.team, commune, phase="2021-2025")
    agencies.assign(world.agency, admin_units.find("11/03316"), phase="2021-2025")


def test_agencies_help_communes_and_villages_not_provinces(world):
    refused = _refused("400.31", agencies.assign, world.agency, admin_units.find("11"))
    assert "Tỉnh Điện Biên" in refused.message("vi")
    village = agencies.assign(world.team, admin_units.find("11/03325/01"), phase="2021-2025")
    assert village.unit.path == "11/03325/01"


def test_ending_keeps_the_row_and_only_current_ones_are_listed_as_current(world):
    commune = admin_units.find("11/03325")
    old = agencies.assign(world.agency, commune, starts_on=dt.date(2020, 1, 1))
    agencies.end_assignment(old, on=dt.date(2021, 1, 1), actor=world.coordinator)
    running = agencies.assign(world.agency, commune, starts_on=dt.date(2021, 1, 1))
    _refused("409.31", agencies.end_assignment, old, on=dt.date(2022, 1, 1))
    every = db.session.scalars(agencies.assignments(world.admin, agency=world.agency)).all()
    current = db.session.scalars(agencies.assignments(world.admin, current=True)).all()
    assert {a.id for a in every} == {old.id, running.id} and current == [running]
    [event] = [e for e in audit.events_for(old) if e.action == "assignment.end"]
    assert event.details["after"] == {"ends_on": "2021-01-01"}


def test_coordinators_manage_agencies_and_assignments_only_inside_their_province(world):
    other_province = admin_units.find("12")
    _refused(
        "403.2", agencies.create_agency, "X", "X", home_unit=other_province, actor=world.coordinator
    )
    _refused("403.1", agencies.create_agency, "C", "Central", actor=world.coordinator)
    mine = agencies.create_agency(
        "HPN",
        "Hội Phụ nữ",
        kind=AgencyKind.ORGANISATION,
        home_unit=admin_units.find("11"),
        actor=world.coordinator,
    )
    _refused("403.2", agencies.update_agency, mine, actor=world.outsider, name="Đổi")
    _refused("403.2", agencies.assign, mine, admin_units.find("12/03390"), actor=world.coordinator)
    for who in (world.official_a, world.cadre, world.lead):
        _refused(
            "403.1", agencies.create_agency, "Y", "Y", home_unit=admin_units.find("11"), actor=who
        )
        _refused("403.1", agencies.assign, mine, admin_units.find("11/03325"), actor=who)


def test_an_edit_is_audited_with_what_changed_before_and_after(world):
    agencies.update_agency(
        world.agency, actor=world.coordinator, name="Sở Y tế Điện Biên", kind="agency"
    )
    [event] = [e for e in audit.events_for(world.agency) if e.action == "agency.update"][-1:]
    assert event.details == {"before": {"name": "Sở Y tế"}, "after": {"name": "Sở Y tế Điện Biên"}}
    assert event.actor_id == world.coordinator.id
    _refused("400.3", agencies.update_agency, world.agency, actor=None, parent=world.team)


def test_each_role_lists_the_agencies_and_assignments_of_its_own_area(world):
    elsewhere = agencies.create_agency("LC", "Sở Lào Cai", home_unit=admin_units.find("12"))
    agencies.assign(elsewhere, admin_units.find("12/03390"), phase="2021-2025")
    agencies.assign(world.team, admin_units.find("11/03325"), phase="2021-2025")

    def codes(who):
        return {a.code for a in db.session.scalars(agencies.listed(who))}

    assert codes(world.admin) == {"SYT", "SYT-T1", "LC"}
    assert codes(world.coordinator) == {"SYT", "SYT-T1"}
    assert codes(world.outsider) == {"LC"}
    assert codes(world.lead) == {"SYT", "SYT-T1"}
    assert codes(world.official_a) == {"SYT-T1"}  # assigned to their commune
    seen = db.session.scalars(agencies.assignments(world.official_b)).all()
    assert seen == []
    units = db.session.scalars(
        agencies.assignments(world.coordinator).with_only_columns(AgencyAssignment.unit_id)
    ).all()
    assert units == [admin_units.find("11/03325").id]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AgencyAssignment)) == 2
