"""Users administration (services): who may manage whom, edits audited, deactivation and
password resets that take effect at once, spreadsheet imports that change nothing unless every
row is good, and listings bounded by the caller's scope."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from server.db import db
from server.models import AuditEvent, Role, User
from server.models.programme import Agency
from server.problems import Problem
from server.services import audit
from server.services.access import auth, sessions, users
from server.services.programme import units as admin_units
from tests.integration.helpers import PASSWORD, bearer


@pytest.fixture
def people(app, places, make_user):
    """A coordinator of commune A, a commune official of A, cadres in A and B, an admin."""
    make_user("admin", Role.ADMIN)
    make_user("coord_a", Role.COORDINATOR, places.commune_a)
    make_user("official_a", Role.COMMUNE_OFFICIAL, places.commune_a)
    make_user("cadre_a", Role.CADRE, places.village_a1)
    make_user("cadre_b", Role.CADRE, places.village_b1)
    make_user("lead", Role.AGENCY_LEAD, places.commune_a)
    return places


def _unit(path):
    return admin_units.find(path)


def _refused(code, fn, *args, **kwargs) -> Problem:
    with pytest.raises(Problem) as caught:
        fn(*args, **kwargs)
    assert caught.value.code == code, caught.value
    return caught.value


def test_a_coordinator_creates_users_inside_their_area_and_it_is_audited(ctx, people):
    coordinator = users.find("coord_a")
    user = users.create_user(
        "Lo.Van.Minh", "Lò Văn Minh", "cán bộ", units=["03325"], actor=coordinator
    )
    assert (user.username, user.role) == ("lo.van.minh", Role.CADRE)
    assert [u.path for u in user.units] == [people.commune_a]
    (event,) = [e for e in audit.events_for(user) if e.action == "user.create"]
    assert event.actor_id == coordinator.id and event.details["units"] == [people.commune_a]


def test_a_coordinator_may_not_make_an_administrator(ctx, people):
    problem = _refused(
        "403.11",
        users.create_user,
        "boss",
        "Boss",
        Role.ADMIN,
        units=[people.commune_a],
        actor=users.find("coord_a"),
    )
    assert "Quản trị" in problem.message("vi")
    cadre = users.find("cadre_a")
    _refused("403.11", users.update_user, cadre, actor=users.find("coord_a"), role=Role.ADMIN)
    assert users.find("boss") is None and users.find("cadre_a").role == Role.CADRE


def test_a_coordinator_may_not_give_units_outside_their_area_and_is_told_which(ctx, people):
    coordinator = users.find("coord_a")
    problem = _refused(
        "403.2",
        users.create_user,
        "far",
        "Far",
        Role.CADRE,
        units=[people.village_b2],
        actor=coordinator,
    )
    assert "Bản Hai" in problem.message("vi") and "Nà Tấu" in problem.message("vi")
    cadre = users.find("cadre_a")
    problem = _refused("403.12", users.update_user, cadre, actor=coordinator,
                       units=[people.commune_b])  # fmt: skip
    assert "Nà Tấu" in problem.message("vi")
    assert [u.path for u in users.find("cadre_a").units] == [people.village_a1]


def test_a_coordinator_may_not_create_a_user_who_works_nowhere(ctx, people):
    _refused(
        "403.13", users.create_user, "nowhere", "Nowhere", Role.CADRE, actor=users.find("coord_a")
    )


def test_a_user_who_works_nowhere_is_the_administrators_and_the_coordinator_is_told_so(ctx, people):
    """A coordinator giving units to someone an admin made without any was told to "give at
    least one unit in your area", which is what they were doing: now they are told that only
    an administrator can place such a user first."""
    users.create_user("ai.do", "Lò Văn Ai", Role.CADRE, units=[])
    coordinator = users.find("coord_a")
    problem = _refused(
        "403.17", users.update_user, users.find("ai.do"), actor=coordinator,
        units=[people.village_a1],
    )  # fmt: skip
    assert "Lò Văn Ai" in problem.message("vi") and "quản trị" in problem.message("vi").lower()
    assert users.find("ai.do").units == []


def test_a_coordinator_cannot_touch_a_user_who_also_works_outside_their_area(ctx, people):
    coordinator = users.find("coord_a")
    both = users.create_user("both", "Hai Xã", Role.CADRE, PASSWORD,
                             [people.village_a2, people.village_b2])  # fmt: skip
    problem = _refused("403.12", users.update_user, both, actor=coordinator, full_name="X")
    assert "Hai Xã" in problem.message("vi") and "Bản Hai" in problem.message("vi")
    _refused("403.12", users.set_active, both, False, coordinator)
    _refused("403.12", users.reset_password, both, coordinator)
    _refused("403.12", users.update_user, users.find("cadre_b"), actor=coordinator, full_name="Y")


def test_an_agency_outside_the_coordinators_area_is_refused(ctx, people):
    outside = Agency(code="B-AG", name="Hội Nông dân xã Nà Tấu", home_unit=_unit(people.commune_b))
    inside = Agency(code="A-AG", name="Hội Phụ nữ xã Mường Phăng",
                    home_unit=_unit(people.commune_a))  # fmt: skip
    db.session.add_all([outside, inside])
    db.session.commit()
    coordinator = users.find("coord_a")
    problem = _refused("403.14", users.create_user, "m1", "M1", Role.CADRE,
                       units=[people.commune_a], agency="B-AG", actor=coordinator)  # fmt: skip
    assert "Nà Tấu" in problem.message("vi")
    member = users.create_user("m2", "M2", Role.CADRE, units=[people.commune_a], agency="A-AG",
                               actor=coordinator)  # fmt: skip
    assert member.agency_id == inside.id
    _refused("400.22", users.create_user, "m3", "M3", Role.CADRE, units=[people.commune_a],
             agency="NO-SUCH", actor=coordinator)  # fmt: skip


@pytest.mark.parametrize("username", ["cadre_a", "lead", "official_a"])
def test_cadres_agency_leads_and_commune_officials_manage_no_users(ctx, people, username):
    actor = users.find(username)
    _refused("403.10", users.create_user, "x", "X", Role.CADRE, units=[people.village_a1],
             actor=actor)  # fmt: skip
    _refused("403.10", users.update_user, users.find("cadre_a"), actor=actor, full_name="Z")
    _refused("403.10", users.reset_password, users.find("cadre_a"), actor)
    _refused("403.10", users.set_active, users.find("cadre_a"), False, actor)
    _refused("403.10", users.import_users, b"username,full_name,role\n", "u.csv", actor)


def test_edits_are_audited_with_only_the_changed_fields_before_and_after(ctx, people):
    cadre = users.find("cadre_a")
    users.update_user(cadre, actor=users.find("coord_a"), full_name=cadre.full_name,
                      units=[people.village_a1, people.village_a2])  # fmt: skip
    (event,) = [e for e in audit.events_for(cadre) if e.action == "user.update"]
    assert event.details == {
        "before": {"units": [people.village_a1]},
        "after": {"units": [people.village_a1, people.village_a2]},
    }
    users.update_user(cadre, actor=None, role="cán bộ")  # nothing changed: no event
    assert len([e for e in audit.events_for(cadre) if e.action == "user.update"]) == 1


def test_nobody_deactivates_themselves_or_changes_their_own_role(ctx, people):
    admin = users.find("admin")
    _refused("409.20", users.set_active, admin, False, admin)
    _refused("409.21", users.update_user, admin, actor=admin, role=Role.CADRE)


def test_deactivation_stops_passwords_tokens_and_sessions_and_activation_restores(
    app, client, people, make_device
):
    token = make_device("cadre_a")
    with app.app_context():
        cadre = users.find("cadre_a")
        session_id = sessions.open_session(cadre)
        users.set_active(cadre, False, users.find("coord_a"))
        assert not sessions.is_open(users.find("cadre_a"), session_id)
        assert auth.authenticate_password("cadre_a", PASSWORD) is None
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert "user.deactivate" in actions
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 401
    with app.app_context():
        users.set_active(users.find("cadre_a"), True, users.find("coord_a"))
        assert auth.authenticate_password("cadre_a", PASSWORD) is not None
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 200


def test_a_reset_password_replaces_the_old_one_and_is_never_stored_or_audited(ctx, people):
    cadre = users.find("cadre_a")
    password = users.reset_password(cadre, users.find("coord_a"))
    assert len(password) >= 12
    assert auth.authenticate_password("cadre_a", PASSWORD) is None
    assert auth.authenticate_password("cadre_a", password).username == "cadre_a"
    events = db.session.scalars(sa.select(AuditEvent)).all()
    assert "user.password" in [e.action for e in events]
    assert all(password not in str(e.details) for e in events)
    assert users.reset_password(cadre, None) != password


# -- import ----------------------------------------------------------------------------------


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def _xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


HEADER = ["Username", "Full_name", "Role", "Units", "Agency", "Password"]


def test_an_xlsx_of_users_is_imported_with_vietnamese_role_names(ctx, people):
    data = _xlsx([
        HEADER,
        ["lo.thi.mai", "Lò Thị Mai", "Cán bộ", "11/03325/01", "", "mật khẩu 1"],
        ["quang.van.an", "Quàng Văn An", "công chức xã", "03325", "", ""],
        ["ca.van.sinh", "Cà Văn Sinh", "Điều phối", "11/03325", "", ""],
    ])  # fmt: skip
    report = users.import_users(data, "can-bo.xlsx", users.find("coord_a"))
    assert report.ok, [e.as_dict("en") for e in report.errors]
    assert [(u.username, u.role) for u in report.created] == [
        ("lo.thi.mai", Role.CADRE),
        ("quang.van.an", Role.COMMUNE_OFFICIAL),
        ("ca.van.sinh", Role.COORDINATOR),
    ]
    assert auth.authenticate_password("lo.thi.mai", "mật khẩu 1") is not None
    assert users.find("quang.van.an").password_hash is None


def test_an_import_with_bad_rows_names_each_row_and_column_and_creates_nothing(ctx, people):
    data = _csv([
        HEADER,
        ["new.one", "Người Một", "cán bộ", "11/03325/01", "", ""],
        ["new.two", "Người Hai", "trưởng thôn", "11/03325/01", "", ""],
        ["new.three", "Người Ba", "cán bộ", "11/99999;03325", "", ""],
        ["new.one", "Người Một Lại", "cán bộ", "03325", "", ""],
        ["cadre_b", "Trùng", "cán bộ", "03325", "", ""],
        ["new.four", "", "cán bộ", "03325", "NO-AGENCY", ""],
    ])  # fmt: skip
    count = db.session.scalar(sa.select(sa.func.count(User.id)))
    report = users.import_users(data, "users.csv", None)
    found = {(e.row, e.column): e.text("vi") for e in report.errors}
    assert set(found) == {(3, "role"), (4, "units"), (5, "username"), (6, "username"),
                          (7, "full_name"), (7, "agency")}, found  # fmt: skip
    assert "trưởng thôn" in found[(3, "role")]
    assert "11/99999" in found[(4, "units")]
    assert "2" in found[(5, "username")]  # the row it repeats
    assert "cadre_b" in found[(6, "username")]
    assert report.created == []
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == count
    assert users.find("new.one") is None


def test_a_coordinators_import_refuses_rows_outside_their_area_by_name(ctx, people):
    data = _csv([HEADER, ["ok.one", "Ok", "cán bộ", "03325", "", ""],
                 ["far.one", "Far", "cán bộ", "03316", "", ""],
                 ["boss", "Boss", "quản trị", "03325", "", ""]])  # fmt: skip
    report = users.import_users(data, "users.csv", users.find("coord_a"))
    found = {(e.row, e.column): e.text("vi") for e in report.errors}
    assert set(found) == {(3, "units"), (4, "role")}
    assert "Nà Tấu" in found[(3, "units")]
    assert users.find("ok.one") is None


def test_an_import_without_the_required_columns_says_which(ctx, people):
    report = users.import_users(_csv([["username", "name"], ["a", "b"]]), "u.csv", None)
    assert {(e.row, e.column) for e in report.errors} == {(1, "full_name"), (1, "role")}


# -- listing ---------------------------------------------------------------------------------


def _names(actor, **filters) -> set[str]:
    return set(db.session.scalars(users.listed(actor, **filters).with_only_columns(User.username)))


def test_listings_are_bounded_by_the_callers_scope(ctx, people):
    everyone = {"admin", "coord_a", "official_a", "cadre_a", "cadre_b", "lead"}
    assert _names(users.find("admin")) == everyone
    assert _names(users.find("coord_a")) == {"coord_a", "official_a", "cadre_a", "lead"}
    assert _names(users.find("official_a")) == {"official_a", "cadre_a"}
    assert _names(users.find("cadre_a")) == {"cadre_a"}
    assert _names(users.find("admin"), role=Role.CADRE) == {"cadre_a", "cadre_b"}
    assert _names(users.find("admin"), unit=_unit(people.commune_b)) == {"cadre_b"}
    assert _names(users.find("admin"), q="OFFICIAL") == {"official_a"}
    with pytest.raises(Problem):
        users.visible_user(users.find("coord_a"), users.find("cadre_b").id)


def test_an_agency_lead_sees_the_members_of_their_agency(ctx, people):
    agency = Agency(code="HPN", name="Hội Phụ nữ tỉnh", home_unit=_unit(people.province))
    db.session.add(agency)
    db.session.commit()
    users.update_user(users.find("lead"), actor=None, agency="HPN")
    data = _csv([HEADER, ["hpn.mot", "Hội viên Một", "cán bộ", "11/03316/02", "HPN", ""]])
    report = users.import_users(data, "hoi-vien.csv", None)
    assert report.ok and report.created[0].agency_id == agency.id
    assert _names(users.find("lead")) == {"lead", "hpn.mot"}
