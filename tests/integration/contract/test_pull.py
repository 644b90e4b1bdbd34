"""Down-sync (sync contract P1-P4) through the JSON pull API.

Households reach the server over the protocol under test (the `protocol`
fixture: OpenRosa or JSON); tablets then pull with `Tablet`, which applies
pages the way a client does.
"""

from __future__ import annotations

import threading

import pytest

from server.db import db
from server.services.access import users
from server.services.forms import publishing as form_service
from server.services.programme import units as admin_units
from tests.integration.contract.drivers import DRIVERS
from tests.integration.contract.submissions import (
    household_id,
    registration,
    registration_form,
    visit,
    visit_form,
)
from tests.integration.contract.tablet import Tablet, settle
from tests.integration.live import FormPlaces


def shipped() -> set[tuple[str, str]]:
    return {(form.form_id, form.version) for form in (registration_form(), visit_form())}


@pytest.fixture
def register(client, world, protocol):
    """Register a household in `village` (a unit path) from `username`'s tablet; returns its id."""

    def register(username: str, village: str, **answers: str) -> str:
        household = registration(village=FormPlaces.answer(village), **answers)
        outcome = DRIVERS[protocol](client, world.tokens[username]).submit(household)
        assert outcome.status == 201, outcome
        return household_id(household)

    return register


@pytest.fixture
def tablet_of(client, world, app):
    """The tablet of `username`, which waits for the pull horizon before each sync."""

    def tablet_of(username: str, cursor: str | None = None) -> Tablet:
        return Tablet(client, world.tokens[username], cursor=cursor, settle=lambda: settle(app))

    return tablet_of


# -- P1 scope -------------------------------------------------------------------------------


def test_p1_pull_delivers_the_households_of_the_callers_scope_only(tablet_of, world, register):
    places = world.places
    in_a1 = register("cadre_a", places.village_a1)
    in_a2 = register("cadre_a", places.village_a2, head_name="Vàng Thị Dế")
    in_b1 = register("cadre_b", places.village_b1, head_name="Hoàng Văn Páo")

    tablets = {
        name: tablet_of(name).sync()
        for name in ("cadre_a", "cadre_b", "official_a", "coordinator", "cadre_other")
    }

    assert all(shipped() <= tablet.form_versions() for tablet in tablets.values())
    assert {name: set(tablet.households) for name, tablet in tablets.items()} == {
        "cadre_a": {in_a1, in_a2},
        "cadre_b": {in_b1},
        "official_a": {in_a1, in_a2},
        "coordinator": {in_a1, in_a2, in_b1},
        "cadre_other": set(),  # another province
    }


def test_p1_when_scope_shrinks_the_tablet_learns_what_to_drop(tablet_of, world, register, app):
    places = world.places
    kept = register("cadre_a", places.village_a2)
    dropped = register("cadre_a", places.village_a1, head_name="Vàng Thị Dế")
    tablet = tablet_of("cadre_a").sync()
    assert set(tablet.households) == {kept, dropped}

    with app.app_context():
        users.set_scope(users.find("cadre_a"), [admin_units.find(places.village_a2)])
    tablet.sync()

    assert set(tablet.households) == {kept}


# -- P2 no missed change --------------------------------------------------------------------


@pytest.mark.postgres_only
def test_p2_cursor_never_skips_a_change_committed_after_a_later_one(
    tablet_of, world, register, app
):
    """T1 begins (and logs its change) first but commits last; a pull runs in between."""
    with app.app_context():
        assert db.engine.dialect.name == "postgresql"
    draft = registration_form()
    new_version = "2099010101"
    with app.app_context():
        xform = draft.xform.replace(
            f'version="{draft.version}"'.encode(), f'version="{new_version}"'.encode()
        )
        form_service.upload(xform, "registration.xml", None)
    tablet = tablet_of("cadre_a").sync()
    logged, release, finished = threading.Event(), threading.Event(), threading.Event()

    def slow_publisher() -> None:  # T1: publishes the new version, commits only when told
        with app.app_context():
            form_service.publish.__wrapped__(None, draft.form_id, new_version)  # no commit
            db.session.flush()
            logged.set()
            release.wait(30)
            db.session.commit()
            db.session.remove()
        finished.set()

    writer = threading.Thread(target=slow_publisher)
    writer.start()
    try:
        assert logged.wait(30)
        later = register("cadre_a", world.places.village_a1)  # T2 commits while T1 is open
        tablet.sync(wait=False)  # a pull between the two commits
    finally:
        release.set()
        writer.join(30)
    assert finished.is_set()

    tablet.sync()

    assert later in tablet.households
    assert (draft.form_id, new_version) in tablet.form_versions()  # T1's change arrived too


# -- P3 pages -------------------------------------------------------------------------------


def test_p3_pages_deliver_everything_once_and_an_interrupted_pull_resumes(
    tablet_of, world, register
):
    ids = {register("cadre_a", world.places.village_a1, head_name=f"Lò Văn {n}") for n in "ABCDE"}
    tablet = tablet_of("cadre_a")

    first = tablet.fetch(limit=2)
    tablet.apply(first)
    assert first["has_more"] and len(first["changes"]) == 2
    lost = tablet.fetch(limit=2)  # the link drops before this page is applied
    again = tablet.fetch(limit=2)  # so the tablet asks again from its last applied cursor
    assert again["changes"] == lost["changes"]
    tablet.sync(limit=2)

    delivered = [(c["kind"], c["id"]) for page in tablet.pages for c in page]
    assert len(delivered) == len(set(delivered))  # nothing twice
    assert ids <= set(tablet.households) and shipped() <= tablet.form_versions()
    assert all(len(page) <= 2 for page in tablet.pages)


def test_p3_a_pull_after_the_last_page_waits_for_new_changes(tablet_of, world, register):
    tablet = tablet_of("cadre_a").sync()
    assert tablet.fetch()["changes"] == []

    new = register("cadre_a", world.places.village_a1)

    page = tablet.fetch()
    assert [(c["kind"], c["id"]) for c in page["changes"]] == [("household", new)]


# -- P4 divergence --------------------------------------------------------------------------


def test_p4_digest_that_disagrees_tells_the_tablet_to_resync(tablet_of, world, register):
    first = register("cadre_a", world.places.village_a1)
    register("cadre_a", world.places.village_a2, head_name="Vàng Thị Dế")
    tablet = tablet_of("cadre_a").sync()
    held = tablet.held_versions()
    damaged = {
        "stale version": held | {first: 0},
        "missing household": {k: v for k, v in held.items() if k != first},
        "unknown household": held | {"8d1c4c36-1b8e-4b34-9a57-000000000000": 1},
    }

    answers = {damage: tablet.digest(copy) for damage, copy in damaged.items()}

    assert {damage: a["resync"] for damage, a in answers.items()} == dict.fromkeys(damaged, True)
    for answer in answers.values():  # a full copy from the given cursor is right again
        fresh = tablet_of("cadre_a", cursor=answer["cursor"]).sync()
        assert fresh.held_versions() == held


def test_p4_digest_agrees_again_once_the_tablet_pulled_an_update(
    tablet_of, world, register, driver
):
    household = register("cadre_a", world.places.village_a1)
    tablet = tablet_of("cadre_a").sync()
    assert tablet.digest(tablet.held_versions())["resync"] is False  # the copies agree
    assert driver.submit(visit(household, base_version=1)).status == 201  # now version 2
    assert tablet.digest(tablet.held_versions())["resync"] is True  # it holds version 1

    assert tablet.sync().held_versions()[household] == 2
    assert tablet.digest(tablet.held_versions())["resync"] is False
