"""Pairs reach the helper's tablet: a household paired with a cadre (or with their team) is
theirs wherever it is, and leaves their tablet when the pair ends (sync contract P1, P4).

Pairs are inserted here directly through `changes.pair_changed`, the call the pairs service
makes in the transaction that starts, ends or reassigns a pair.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import Agency, AgencyKind, Household, Pair
from server.services.access import scope, users
from server.services.sync import changes
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import registration, visit
from tests.integration.contract.tablet import Tablet, settle
from tests.integration.helpers import bearer
from tests.integration.live import FormPlaces, World, shipped_world

PUSH = "/api/v1/sync/push"


@pytest.fixture
def world(app) -> World:
    with app.app_context():
        return shipped_world()


@pytest.fixture
def push(client, world):
    def push(*items, username="admin"):
        data = json.dumps({"items": list(items)}).encode()
        headers = {"Content-Type": "application/json", **bearer(world.tokens[username])}
        response = client.post(PUSH, data=data, headers=headers)
        assert response.status_code == 200, response.get_json()
        assert all(r["status"] < 300 for r in response.json["results"]), response.json
        return response

    return push


@pytest.fixture
def tablet_of(client, world, app):
    def tablet_of(username: str = "cadre_a") -> Tablet:
        return Tablet(client, world.tokens[username], settle=lambda: settle(app))

    return tablet_of


def register(push, village: str, **answers) -> str:
    """A household registered by the admin in `village`; its id."""
    root = registration(village=FormPlaces.answer(village), **answers)
    item = answers_item(root)
    push(item)
    return item["answers"]["meta"]["entity"]["@id"]


def pair(
    app,
    household_id: str,
    *,
    user: str | None = None,
    agency: int | None = None,
    starts_on: dt.date | None = None,
) -> int:
    with app.app_context():
        helper = users.find(user).id if user else None
        made = Pair(
            household_id=household_id,
            helper_user_id=helper,
            helper_agency_id=agency,
            starts_on=starts_on or scope.today(),
        )
        db.session.add(made)
        changes.pair_changed(made)
        db.session.commit()
        return made.id


def end(app, pair_id: int, on: dt.date | None = None) -> None:
    with app.app_context():
        ended = db.session.get(Pair, pair_id)
        ended.ends_on, ended.end_reason = on or scope.today(), "test"
        changes.pair_changed(ended)
        db.session.commit()


def team(app, *members: str, kind: AgencyKind = AgencyKind.TEAM) -> int:
    with app.app_context():
        made = Agency(code=f"T-{kind}", name="Tổ công tác bản Hai", kind=kind)
        db.session.add(made)
        db.session.flush()
        for username in members:
            users.find(username).agency_id = made.id
        db.session.commit()
        return made.id


def removals(tablet: Tablet) -> list[str]:
    return [c["id"] for page in tablet.pages for c in page if c["kind"] == "removal"]


def test_p1_a_household_paired_with_a_cadre_reaches_their_tablet_wherever_it_is(
    app, push, tablet_of, world
):
    tablet = tablet_of("cadre_a").sync()
    far = register(push, world.places.village_b2)
    assert far not in tablet.sync().households  # another commune: not theirs yet

    pair(app, far, user="cadre_a")
    assert far in tablet.sync().households

    push(answers_item(visit(far, base_version=1)))  # changed by someone else, elsewhere
    assert tablet.sync().households[far]["version"] == 2
    assert far not in tablet_of("cadre_b").sync().households  # nobody else's


def test_p1_a_first_sync_holds_the_paired_households_and_the_villages(app, push, tablet_of, world):
    own = register(push, world.places.village_a1)
    far = register(push, world.places.village_b2, head_name="Hoàng Văn Páo")
    register(push, world.places.village_b1, head_name="Lò Thị Ơn")
    pair(app, far, user="cadre_a")

    assert set(tablet_of("cadre_a").sync().households) == {own, far}


def test_p1_an_ended_pair_removes_the_household_unless_it_is_theirs_another_way(
    app, push, tablet_of, world
):
    far = register(push, world.places.village_b2)
    own = register(push, world.places.village_a1, head_name="Hoàng Văn Páo")
    far_pair, own_pair = pair(app, far, user="cadre_a"), pair(app, own, user="cadre_a")
    tablet = tablet_of("cadre_a").sync()
    assert {far, own} <= set(tablet.households)

    end(app, far_pair)
    end(app, own_pair)
    tablet.sync()

    assert far not in tablet.households and removals(tablet) == [far]
    assert own in tablet.households  # still in their village
    assert tablet.digest(tablet.held_versions())["resync"] is False  # P4 agrees


def test_p1_a_pair_that_starts_later_or_ended_does_not_count(app, push, world):
    far = register(push, world.places.village_b2)
    later = pair(app, far, user="cadre_a", starts_on=dt.date.today() + dt.timedelta(days=30))
    with app.app_context():
        cadre = users.find("cadre_a")
        assert list(db.session.scalars(scope.paired_household_ids(cadre))) == []
    end(app, later, on=dt.date.today() + dt.timedelta(days=31))
    past = pair(app, far, user="cadre_a", starts_on=dt.date(2025, 1, 1))
    with app.app_context():
        assert list(db.session.scalars(scope.paired_household_ids(cadre))) == [far]
        on = dt.date(2026, 1, 1)  # half-open: the end day no longer counts
        db.session.get(Pair, past).ends_on = on
        assert list(db.session.scalars(scope.paired_household_ids(cadre, on))) == []
        assert list(db.session.scalars(scope.paired_household_ids(cadre, on - dt.timedelta(1))))


def test_p1_a_household_paired_with_a_team_reaches_its_members_only(app, push, tablet_of, world):
    far = register(push, world.places.village_b2)
    members = team(app, "cadre_a")
    tablet = tablet_of("cadre_a").sync()
    team_pair = pair(app, far, agency=members)

    assert far in tablet.sync().households
    assert far not in tablet_of("cadre_b").sync().households
    end(app, team_pair)
    assert far not in tablet.sync().households and removals(tablet) == [far]


def test_p1_only_teams_and_organisations_pair_their_members(app, push, world):
    far = register(push, world.places.village_b2)
    body = team(app, "cadre_a", kind=AgencyKind.AGENCY)
    pair(app, far, agency=body)
    with app.app_context():
        assert list(db.session.scalars(scope.paired_household_ids(users.find("cadre_a")))) == []


def test_a_pair_change_names_the_helper_and_the_households_unit(app, push, world):
    far = register(push, world.places.village_b2)
    pair(app, far, user="cadre_b")
    with app.app_context():
        row = db.session.scalars(
            sa.select(changes.Change).where(changes.Change.kind == changes.PAIR_CHANGE)
        ).one()
        household = db.session.get(Household, far)
        assert row.entity_id == f"u{users.find('cadre_b').id}:{far}"
        assert row.unit_id == household.village_id


def test_p1_a_cadre_who_joins_a_team_receives_its_households_and_loses_them_on_leaving(
    app, push, tablet_of, world
):
    """A team's pairs are logged under the team, before a new member's cursor: without the
    member's own log rows their tablet never received the team's households, and one who
    left kept them (found after the merge of issue 14)."""
    far = register(push, world.places.village_b2)
    members = team(app, "cadre_b")  # cadre_a is not in it yet
    pair(app, far, agency=members)
    tablet = tablet_of("cadre_a").sync()
    assert far not in tablet.households

    with app.app_context():
        users.update_user(users.find("cadre_a"), actor=None, agency=db.session.get(Agency, members))
    assert far in tablet.sync().households

    with app.app_context():
        users.update_user(users.find("cadre_a"), actor=None, agency=None)
    assert far not in tablet.sync().households and removals(tablet) == [far]
