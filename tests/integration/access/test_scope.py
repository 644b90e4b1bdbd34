"""Scope: every user reads and writes only inside their admin units (admin: everywhere)."""

from __future__ import annotations

import hashlib
import uuid

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Form, FormState, FormVersion, Role, Submission, SubmissionPayload
from server.problems import Problem
from server.services.access import scope, users
from server.services.programme import units as admin_units
from tests.integration.helpers import basic


@pytest.fixture
def people(places, make_user):
    """One user of each role, each in a different place of the test province."""
    make_user("quantri", Role.ADMIN)
    make_user("dieuphoi", Role.COORDINATOR, places.province)
    make_user("xa.a", Role.COMMUNE_OFFICIAL, places.commune_a)
    make_user("xa.b", Role.COMMUNE_OFFICIAL, places.commune_b)
    make_user("canbo.a1", Role.CADRE, places.village_a1)
    return places


def _paths(username: str) -> list[str]:
    found = db.session.scalars(scope.units(users.find(username)))
    return sorted(unit.path for unit in found)


def test_each_role_sees_its_units_and_the_units_above(ctx, people):
    p = people
    admin_units.import_province("12", ["03390"])  # another province
    assert _paths("xa.a") == [p.province, p.commune_a, p.village_a1, p.village_a2]
    assert _paths("canbo.a1") == [p.province, p.commune_a, p.village_a1]
    assert "12" not in _paths("dieuphoi") and p.village_b2 in _paths("dieuphoi")
    assert "12/03390" in _paths("quantri")


def test_commune_official_cannot_see_another_communes_units(client, people):
    response = client.get("/api/v1/units", headers=basic("xa.a"))
    assert response.status_code == 200
    paths = {unit["path"] for unit in response.json["units"]}
    assert people.commune_a in paths
    assert not paths & {people.commune_b, people.village_b1, people.village_b2}


def test_in_scope_is_what_a_user_may_write(ctx, people):
    official = users.find("xa.a")
    scope.require_unit(official, admin_units.find(people.village_a2))
    with pytest.raises(Problem) as raised:
        scope.require_unit(official, admin_units.find(people.commune_b))
    assert raised.value.code == "403.2" and "Nà Tấu" in raised.value.message("vi")
    with pytest.raises(Problem):  # the province is above, readable but not theirs
        scope.require_unit(official, admin_units.find(people.province))


def _form(form_id: str, unit_path: str | None, state: FormState) -> None:
    """A form version stored directly: scope does not care how a form got in."""
    xform = f"<h:html><!-- {form_id} --></h:html>".encode()
    unit = admin_units.find(unit_path) if unit_path else None
    form = Form(form_id=form_id, title=form_id, unit=unit)
    db.session.add(
        FormVersion(
            form=form,
            version="1",
            title=form_id,
            state=state,
            md5=hashlib.md5(xform).hexdigest(),
            xform=xform,
            source=xform,
            source_filename=f"{form_id}.xml",
        )
    )
    db.session.commit()


def _form_ids(username: str) -> set[str]:
    return set(
        db.session.scalars(scope.forms(users.find(username)).with_only_columns(Form.form_id))
    )


def test_forms_are_seen_where_they_belong_and_drafts_only_by_managers(ctx, people):
    p = people
    _form("national", None, FormState.PUBLISHED)
    _form("province", p.province, FormState.PUBLISHED)
    _form("commune_a", p.commune_a, FormState.PUBLISHED)
    _form("commune_b", p.commune_b, FormState.PUBLISHED)
    _form("draft_a", p.commune_a, FormState.DRAFT)
    admin_units.import_province("12", ["03390"])
    _form("elsewhere", "12", FormState.PUBLISHED)
    assert _form_ids("xa.a") == {"national", "province", "commune_a"}
    assert _form_ids("canbo.a1") == {"national", "province", "commune_a"}
    assert _form_ids("xa.b") == {"national", "province", "commune_b"}
    everything_here = {"national", "province", "commune_a", "commune_b", "draft_a"}
    assert _form_ids("dieuphoi") == everything_here
    assert _form_ids("quantri") == everything_here | {"elsewhere"}


def test_commune_official_cannot_list_another_communes_forms(client, app, people):
    with app.app_context():
        _form("commune_b", people.commune_b, FormState.PUBLISHED)
        _form("commune_a", people.commune_a, FormState.PUBLISHED)
    response = client.get("/api/v1/forms", headers=basic("xa.a"))
    assert [form["form_id"] for form in response.json["forms"]] == ["commune_a"]


def _submission(village_path: str, submitter: str) -> str:
    village = admin_units.find(village_path)
    instance_id = f"uuid:{uuid.uuid4()}"
    version = db.session.scalar(sa.select(FormVersion))
    db.session.add(
        Submission(
            instance_id=instance_id,
            root_id=instance_id,
            form_version=version,
            answers={},
            canonical_hash="0" * 64,
            submitter_id=users.find(submitter).id,
            commune_id=village.parent_id,
            village_id=village.id,
            payload=SubmissionPayload(content_type="text/xml", body=b"<data/>"),
        )
    )
    db.session.commit()
    return instance_id


def _readable(username: str) -> set[str]:
    stmt = scope.submissions(users.find(username)).with_only_columns(Submission.instance_id)
    return set(db.session.scalars(stmt))


def test_submissions_are_read_only_inside_scope(ctx, people, make_user):
    p = people
    make_user("canbo.b1", Role.CADRE, p.village_b1)
    _form("national", None, FormState.PUBLISHED)
    in_a1 = _submission(p.village_a1, "canbo.a1")
    in_a2 = _submission(p.village_a2, "xa.a")
    in_b1 = _submission(p.village_b1, "canbo.b1")
    # A cadre helping out in another commune still sees what they sent from there.
    a1_cadre_in_b1 = _submission(p.village_b1, "canbo.a1")
    assert _readable("xa.a") == {in_a1, in_a2}
    assert _readable("xa.b") == {in_b1, a1_cadre_in_b1}
    assert _readable("canbo.a1") == {in_a1, a1_cadre_in_b1}
    assert _readable("canbo.b1") == {in_b1, a1_cadre_in_b1}
    assert _readable("dieuphoi") == _readable("quantri") == {in_a1, in_a2, in_b1, a1_cadre_in_b1}


def _agency_with_lead(places, make_user, unit_path: str, **period) -> str:
    """An agency assigned to `unit_path`, led by a new agency lead; the lead's username."""
    import datetime as dt

    from server.models import Agency, AgencyAssignment

    lead = make_user("truong.doan", Role.AGENCY_LEAD)
    agency = Agency(code="SLDTBXH", name="Sở Lao động", lead_id=users.find(lead).id)
    db.session.add(agency)
    db.session.flush()
    users.find(lead).agency_id = agency.id
    starts = period.get("starts_on", dt.date(2021, 1, 1))
    db.session.add(
        AgencyAssignment(
            agency=agency,
            unit=admin_units.find(unit_path),
            starts_on=starts,
            ends_on=period.get("ends_on"),
        )
    )
    db.session.commit()
    return lead


def test_an_agency_lead_works_in_the_units_their_agency_is_assigned_to(ctx, people, make_user):
    lead = users.find(_agency_with_lead(people, make_user, people.commune_b))
    assert _paths(lead.username) == [
        people.province,
        people.commune_b,
        people.village_b1,
        people.village_b2,
    ]
    scope.require_unit(lead, admin_units.find(people.village_b2))
    with pytest.raises(Problem):
        scope.require_unit(lead, admin_units.find(people.village_a1))


def test_an_ended_assignment_no_longer_gives_an_agency_lead_its_units(ctx, people, make_user):
    import datetime as dt

    ended = dt.date.today()  # half-open: ended today no longer counts today
    lead = _agency_with_lead(people, make_user, people.commune_b, ends_on=ended)
    assert _paths(lead) == []
