"""The demo seed and the operator commands (run, db upgrade, seed)."""

from __future__ import annotations

import sqlalchemy as sa

from server.commands import db_group, run, seed_command
from server.db import db
from server.models import (
    AdminUnit,
    Agency,
    Device,
    FormState,
    FormVersion,
    Household,
    Pair,
    Role,
    UnitLevel,
    User,
)
from server.models.support import SupportSource
from server.services.access import auth, users
from server.services.demo import seed
from server.services.forms import publishing as forms
from server.services.households import lists
from server.services.programme import ledger
from tests.integration.helpers import basic, bearer


def _counts() -> dict[str, int]:
    def count(model, *where):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))

    return {
        "provinces": count(AdminUnit, AdminUnit.level == UnitLevel.PROVINCE),
        "communes": count(AdminUnit, AdminUnit.level == UnitLevel.COMMUNE),
        "villages": count(AdminUnit, AdminUnit.level == UnitLevel.VILLAGE),
        "users": count(User),
        "devices": count(Device),
        "published": count(FormVersion, FormVersion.state == FormState.PUBLISHED),
    }


def test_seed_builds_the_demo_once(ctx):
    assert seed.seed_demo() is True
    first = _counts()
    assert first == {
        "provinces": 1,
        "communes": 2,
        "villages": 7,
        "users": 7,
        "devices": 3,
        "published": len(forms.library_files()),
    }
    assert len(forms.library_files()) >= 1
    assert seed.seed_demo() is False  # not empty any more: nothing happens
    assert _counts() == first


def test_demo_people_have_roles_and_places(ctx):
    seed.seed_demo()
    roles = {user.role for user in db.session.scalars(sa.select(User))}
    assert roles == set(Role)
    cadre = users.find("giang.a.su")
    assert cadre.full_name == "Giàng A Sử"
    assert {unit.level for unit in cadre.units} == {UnitLevel.VILLAGE}
    assert {unit.parent.name for unit in cadre.units} == {"Xã Mường Phăng"}
    assert users.find("xa.muongphang").units[0].path == "11/03325"


def test_demo_has_the_programme_structure(ctx):
    """The demo shows who helps whom: an agency assigned to a commune, its lead, and pairs
    ranked by priority, one of them outside the cadre's villages (issue 14)."""
    seed.seed_demo()
    lead = users.find("so.nongnghiep")
    agency = db.session.get(Agency, lead.agency_id)
    assert agency.lead_id == lead.id
    assert [a.unit.name for a in agency.assignments] == ["Xã Mường Phăng"]
    hung = users.find("lo.van.hung")
    mine = db.session.scalars(sa.select(Pair).where(Pair.helper_user_id == hung.id)).all()
    assert sorted(p.priority for p in mine) == [1, 2, 3, 4]
    villages = {unit.id for unit in hung.units}
    outside = [
        p for p in mine if db.session.get(Household, p.household_id).village_id not in villages
    ]
    assert len(outside) == 1
    # the paired household outside his villages is on his tablet's list
    listed = {h.id for h in db.session.scalars(lists.in_scope(hung))}
    assert outside[0].household_id in listed
    union = db.session.scalars(sa.select(Pair).where(Pair.helper_agency_id.is_not(None))).all()
    assert len(union) == 1


def test_demo_has_support_of_several_kinds_and_sources(ctx):
    """The demo's visits carry support, and its agency gave the commune a road, lights and a
    production model, so the ledger's reports are not empty (issue 15)."""
    seed.seed_demo()
    live = db.session.scalars(ledger.live_entries()).all()
    from_visits = [e for e in live if e.submission_id is not None]
    to_communes = [e for e in live if e.household_id is None]
    assert len({e.kind.code for e in from_visits}) >= 6
    assert {SupportSource(e.source_type).value for e in live} >= {
        "agency", "cadre", "organisation", "donor", "business", "local_government"
    }  # fmt: skip
    assert {e.kind.code for e in to_communes} >= {"works", "equipment", "production_model"}
    agency = db.session.get(Agency, users.find("so.nongnghiep").agency_id)
    assert {e.source_agency_id for e in to_communes} == {agency.id}
    assert any(e.pupils for e in from_visits)


def test_demo_logins_work_until_changed(ctx):
    seed.seed_demo()
    logins = {login.username: login for login in seed.demo_logins()}
    assert len(logins) == 7
    cadre = logins["lo.van.hung"]
    assert cadre.password == "demo-pass" and cadre.token
    assert auth.authenticate_token(cadre.token).user.username == "lo.van.hung"
    assert logins["quantri"].token is None  # only cadres get a tablet
    auth.set_password(users.find("quantri"), "a new secret")
    auth.revoke_device(auth.authenticate_token(cadre.token))
    changed = {login.username: login for login in seed.demo_logins()}
    assert changed["quantri"].password is None and changed["lo.van.hung"].token is None


def test_seeded_cadre_sees_the_shipped_forms(client, app):
    with app.app_context():
        seed.seed_demo()
        token = next(lg.token for lg in seed.demo_logins() if lg.username == "nguyen.thi.hoa")
    response = client.get("/api/v1/forms", headers=bearer(token))
    ids = {form["form_id"] for form in response.json["forms"]}
    assert "giupho_household_registration" in ids
    assert client.get("/api/v1/forms", headers=basic("dieuphoi", "demo-pass")).status_code == 200


def test_seed_command_is_idempotent(runner, app):
    first = runner.invoke(seed_command)
    assert first.exit_code == 0, first.output
    assert "Seeded demo data." in first.output and "lo.van.hung" in first.output
    again = runner.invoke(seed_command)
    assert "nothing seeded" in again.output
    with app.app_context():
        assert _counts()["users"] == 7


def test_db_upgrade_command(runner):
    result = runner.invoke(db_group, ["upgrade"])
    assert result.exit_code == 0 and "up to date" in result.output


def test_run_prepares_prints_logins_and_odk_urls_then_serves(runner, app, monkeypatch):
    served = {}
    monkeypatch.setattr(type(app), "run", lambda self, **kwargs: served.update(kwargs))
    result = runner.invoke(run, ["--port", "5123"])
    assert result.exit_code == 0, result.output
    assert served["host"] == "127.0.0.1" and served["port"] == 5123
    with app.app_context():
        token = auth.demo_token("lo.van.hung")
    assert f"http://127.0.0.1:5123/key/{token}" in result.output
    assert "dieuphoi" in result.output and "demo-pass" in result.output
    # A second start: nothing seeded again, the same links printed.
    again = runner.invoke(run, ["--port", "5123"])
    assert "Seeded" not in again.output and f"/key/{token}" in again.output
