"""The support ledger's rules: who records where, what a valid entry is, voids, repayments,
the catalogue, scope-bounded lists and spreadsheet imports."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent, SupportEntry
from server.models.support import SupportSource
from server.problems import Problem
from server.services.programme import agencies, ledger
from server.services.programme import units as admin_units
from tests.integration.programme.world import build


@pytest.fixture
def world(ctx):
    ledger.load_catalogue()
    return build()


def _refused(code: str, call, *args, **kwargs) -> Problem:
    with pytest.raises(Problem) as raised:
        call(*args, **kwargs)
    assert raised.value.code == code, raised.value
    db.session.rollback()
    return raised.value


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(SupportEntry))


def _actions(action: str) -> int:
    stmt = sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
    return db.session.scalar(stmt)


def test_an_agency_lead_records_a_road_to_a_commune_its_agency_helps(world):
    commune = admin_units.find("11/03325")
    agencies.assign(world.agency, commune, phase="2021-2030", actor=None)
    road = ledger.get_kind("works")

    entry = ledger.record(
        world.lead,
        road,
        ledger.recipient(unit=commune),
        quantity=1,
        value_vnd=850_000_000,
        given_on=dt.date(2025, 9, 2),
        description="Đường bê tông bản Một – bản Hai, 1,2 km",
    )

    assert (entry.commune_id, entry.village_id, entry.household_id) == (commune.id, None, None)
    assert entry.source_type == SupportSource.AGENCY and entry.source_agency_id == world.agency.id
    assert entry.unit == "work" and entry.recorded_by_id == world.lead.id
    assert entry.description == "Đường bê tông bản Một – bản Hai, 1,2 km"
    assert _actions("support.record") == 1
    # Not where the agency is not assigned.
    other = admin_units.find("11/03316")
    problem = _refused("403.42", ledger.record, world.lead, road, ledger.recipient(unit=other),
                       quantity=1)  # fmt: skip
    assert "Sở Y tế" in problem.message("vi")


def test_who_records_where(world):
    rice = ledger.get_kind("rice")
    to_a = ledger.recipient(household=world.household_a)
    to_b = ledger.recipient(household=world.household_b)
    for actor in (world.admin, world.coordinator, world.official_a):
        ledger.record(actor, rice, to_a, quantity=10, value_vnd=200_000)
    _refused("403.2", ledger.record, world.official_a, rice, to_b, quantity=10)
    _refused("403.2", ledger.record, world.outsider, rice, to_a, quantity=10)
    _refused("403.40", ledger.record, world.cadre, rice, to_a, quantity=10)
    assert _count() == 3


def test_what_a_valid_entry_is(world):
    rice, to = ledger.get_kind("rice"), ledger.recipient(household=world.household_a)
    assert "0" in _refused("400.41", ledger.record, world.admin, rice, to, quantity=0).message("en")
    _refused("400.42", ledger.record, world.admin, rice, to, value_vnd=-1)
    _refused("400.45", ledger.record, world.admin, rice, to)
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    _refused("400.43", ledger.record, world.admin, rice, to, quantity=1, given_on=tomorrow)
    _refused("400.43", ledger.record, world.admin, rice, to, quantity=1,
             given_on=dt.date(1999, 12, 31))  # fmt: skip
    _refused("400.44", ledger.recipient, unit=admin_units.find("11"))
    ledger.deactivate_kind(ledger.get_kind("sugar"), actor=world.admin)
    _refused("400.40", ledger.record, world.admin, ledger.get_kind("sugar"), to, quantity=1)
    _refused("404.41", ledger.get_kind, "no_such_kind")
    assert _count() == 0


def test_pupils_count_only_for_education_kinds(world):
    to = ledger.recipient(household=world.household_a)
    books = ledger.record(world.admin, ledger.get_kind("books"), to, quantity=2, pupils=2)
    rice = ledger.record(world.admin, ledger.get_kind("rice"), to, quantity=5, pupils=2)
    assert (books.pupils, rice.pupils) == (2, None)


def test_void_keeps_the_entry_and_says_who_and_why(world):
    to = ledger.recipient(household=world.household_a)
    entry = ledger.record(world.admin, ledger.get_kind("cash"), to, value_vnd=1_000_000)
    _refused("400.48", ledger.void, world.official_a, entry, "  ")
    _refused("403.2", ledger.void, world.official_b, entry, "nhập nhầm")

    ledger.void(world.official_a, entry, "Nhập trùng với phiếu thăm")

    assert entry.voided_by_id == world.official_a.id and entry.void_reason.startswith("Nhập")
    assert _count() == 1
    assert db.session.scalars(ledger.live_entries()).all() == []
    _refused("409.40", ledger.void, world.admin, entry, "again")
    assert _actions("support.void") == 1


def test_loan_repayments_up_to_what_is_owed(world):
    to = ledger.recipient(household=world.household_a)
    loan = ledger.record(world.admin, ledger.get_kind("loan_capital"), to, value_vnd=10_000_000,
                         given_on=dt.date(2025, 1, 10))  # fmt: skip
    ledger.repay(world.official_a, loan, 4_000_000, dt.date(2025, 6, 1))
    assert ledger.outstanding(loan) == 6_000_000
    problem = _refused("400.49", ledger.repay, world.admin, loan, 6_000_001)
    assert "6000000" in problem.message("en")
    gift = ledger.record(world.admin, ledger.get_kind("cash"), to, value_vnd=5)
    _refused("400.46", ledger.repay, world.admin, gift, 1)
    ledger.repay(world.admin, loan, 6_000_000)
    assert ledger.outstanding(loan) == 0
    assert _actions("support.repay") == 2


def test_the_catalogue_is_the_admins(world):
    _refused("403.41", ledger.add_kind, "ducks", "goods", "head", "Vịt", "Ducks",
             actor=world.coordinator)  # fmt: skip
    ducks = ledger.add_kind("ducks", "goods", "head", "Vịt giống", "Ducklings", "livestock",
                            actor=world.admin)  # fmt: skip
    assert ducks.name_vi == "Vịt giống" and ducks.active
    _refused("409.41", ledger.add_kind, "ducks", "goods", "head", "Vịt", "Ducks",
             actor=world.admin)  # fmt: skip
    _refused("400.47", ledger.add_kind, "geese", "goods", "flock", "Ngỗng", "Geese",
             actor=world.admin)  # fmt: skip
    ledger.update_kind(ducks, actor=world.admin, name_en="Ducks")
    assert [k.code for k in ledger.kinds(active_only=True)][-1] == "ducks"
    assert _actions("support_kind.create") == 1 and _actions("support_kind.update") == 1


def test_lists_are_bounded_by_scope_and_filters(world):
    rice = ledger.get_kind("rice")
    a = ledger.record(world.admin, rice, ledger.recipient(household=world.household_a),
                      quantity=10, given_on=dt.date(2025, 3, 1))  # fmt: skip
    b = ledger.record(world.admin, rice, ledger.recipient(household=world.household_b),
                      quantity=20, given_on=dt.date(2025, 4, 1))  # fmt: skip
    everything = ledger.listed(world.admin, ledger.Filters())
    assert [e.id for e in everything.items] == [b.id, a.id]
    assert [e.id for e in ledger.listed(world.official_a, ledger.Filters()).items] == [a.id]
    assert ledger.listed(world.outsider, ledger.Filters()).items == []
    since = ledger.listed(world.admin, ledger.Filters(date_from=dt.date(2025, 3, 15)))
    assert [e.id for e in since.items] == [b.id]
    first = ledger.listed(world.admin, ledger.Filters(), limit=1)
    second = ledger.listed(world.admin, ledger.Filters(), after=first.next_after, limit=1)
    assert [e.id for e in first.items + second.items] == [b.id, a.id]
    _refused("404.40", ledger.readable, world.official_a, b.id)


def test_an_import_records_nothing_unless_every_row_is_good(world):
    commune = admin_units.find("11/03325")
    agencies.assign(world.agency, commune, phase="2021-2030", actor=None)
    bad = (
        "kind,unit,quantity,value_vnd,given_on,source,description\n"
        'works,03325,1,"850.000.000",02/09/2025,agency,Đường bê tông\n'
        "lights,03325,10,5000000,2025-09-02,agency,Đèn đường\n"
        "equipment,03316,2,3000000,2025-09-02,agency,Máy cày\n"
        "rice,03325,abc,1,2025-09-02,,\n"
    ).encode()
    report = ledger.import_entries(world.lead, bad, "ho-tro.csv")
    assert not report.ok and _count() == 0
    errors = {(e.row, e.column): e.text("vi") for e in report.errors}
    assert set(errors) == {(3, "kind"), (4, "unit"), (5, "quantity")}
    assert "lights" in errors[(3, "kind")]

    good = (
        "kind,unit,quantity,value_vnd,given_on,source,description\n"
        'works,03325,1,"850.000.000",02/09/2025,agency,Đường bê tông\n'
        "production_model,11/03325/01,1,120000000,2025-10-01,,Mô hình nuôi vịt bầu\n"
    ).encode()
    report = ledger.import_entries(world.lead, good, "ho-tro.csv")
    assert report.ok and len(report.created) == 2
    road, model = report.created
    assert road.value_vnd == 850_000_000 and road.given_on == dt.date(2025, 9, 2)
    assert model.village_id is not None and model.source_agency_id == world.agency.id
    assert model.description == "Mô hình nuôi vịt bầu"
