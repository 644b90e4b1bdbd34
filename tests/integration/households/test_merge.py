"""Households through ingest: the three-way merge, held chains, derived fields, history,
closed and merged households, decisions, and the rebuild (sync contract H3-H9)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
import sqlalchemy as sa

from forms.poverty import standard_for
from server.cli import main
from server.db import db
from server.models import (
    Device,
    Household,
    HouseholdConflict,
    HouseholdStatus,
    HouseholdVersion,
    PendingHouseholdUpdate,
)
from server.services.access import users
from server.services.demo import households as demo_households
from server.services.households import merge as merging
from server.services.households import rebuild as household_rebuild
from server.services.households import versions as households
from server.services.receiving import ingest
from tests.integration.openrosa.world import (
    household,
    new_id,
    registration_xml,
    visit_form,
    world,  # noqa: F401 - fixture
)
from tests.integration.receiving.test_ingest import json_item

pytestmark = pytest.mark.usefixtures("world")
VN = dt.timezone(dt.timedelta(hours=7))
# The deprivation indicators the shipped forms ask (the 2022-2026 standard).
INDICATORS = [i.id for i in standard_for(dt.date(2026, 3, 1)).indicators]


@pytest.fixture
def send(ctx):
    def call(xml: bytes, username: str = "cadre_a") -> ingest.Receipt:
        user = users.find(username)
        device = db.session.scalar(sa.select(Device).where(Device.user_id == user.id))
        return ingest.receive_xml(xml, user=user, device=device)

    return call


def visit(
    household_id: str,
    base: int,
    *,
    income: int = 2_500_000,
    seed: str = "same",
    hour: int = 9,
    trunk: int | None = None,
    branch: str | None = None,
    instance_id: str | None = None,
    deprecated_id: str | None = None,
    **answers,
) -> bytes:
    """A visit from `base` at `hour` on the device; the same `seed`, the same other answers."""
    model = visit_form()
    tree = demo_households.visit_answers(
        model,
        household_id,
        base,
        income=income,
        instance_id=instance_id or new_id(),
        deprecated_id=deprecated_id,
        when=dt.datetime(2026, 11, 22, hour, 0, tzinfo=VN),
        rng=random.Random(seed),
    )
    entity = tree["meta"]["entity"]
    entity["@trunkVersion"] = str(trunk if trunk is not None else base)
    entity["@branchId"] = branch or new_id()[5:]
    for section in tree.values():
        if isinstance(section, dict):
            for key in answers.keys() & section.keys():
                section[key] = answers[key]
    return demo_households.to_submission_xml(model, tree)


def registered(send, **fields):
    home = household(**fields)
    assert send(registration_xml(home)).household_version == 1
    return home


def open_conflicts(household_id: str) -> list[HouseholdConflict]:
    return db.session.scalars(
        sa.select(HouseholdConflict).where(
            HouseholdConflict.household_id == household_id,
            HouseholdConflict.resolved_at.is_(None),
        )
    ).all()


def no_rebuild_difference():
    assert household_rebuild.rebuild() == []


def test_h3_what_only_one_side_changed_is_kept_from_each_side(send):
    home = registered(send)
    base = send(visit(home.id, 1, income=2_000_000, q_latrine="simple_pit")).household_version
    theirs = send(visit(home.id, base, income=2_200_000, q_latrine="simple_pit", hour=9))
    ours = send(visit(home.id, base, income=2_000_000, q_latrine="septic", hour=8))

    saved = households.get(home.id)
    assert (theirs.household_version, ours.household_version, saved.version) == (3, 4, 4)
    assert saved.properties["income_per_person"] == "2200000"  # only they changed it
    assert saved.properties["latrine"] == "0"  # only we changed it (septic: no deprivation)
    assert not open_conflicts(home.id) and not saved.flagged
    no_rebuild_difference()


def test_h3_a_conflict_keeps_base_both_values_both_submissions_and_flags_the_household(send):
    home = registered(send, income=1_200_000)
    later = send(visit(home.id, 1, income=2_000_000, hour=10))
    earlier = send(visit(home.id, 1, income=3_000_000, hour=8))  # arrives last, visited first

    (conflict,) = open_conflicts(home.id)
    assert (conflict.property, conflict.base_value) == ("income_per_person", "1200000")
    assert {(w["submission_id"], w["value"]) for w in conflict.writes} == {
        (later.submission_id, "2000000"),
        (earlier.submission_id, "3000000"),
    }
    assert conflict.provisional == "2000000"  # the later visit by device time (H4)
    saved = households.get(home.id)
    assert saved.properties["income_per_person"] == "2000000"
    assert (saved.flagged, saved.flag_reason, saved.open_conflicts) == (True, "conflict", 1)
    version = db.session.scalars(
        sa.select(HouseholdVersion).where(
            HouseholdVersion.household_id == home.id, HouseholdVersion.version == 3
        )
    ).one()
    assert (version.submission_id, version.base_version) == (earlier.submission_id, 1)
    assert version.conflicts[0]["property"] == "income_per_person"  # H7
    no_rebuild_difference()


def test_h3_a_reviewers_resolution_is_a_new_version_that_settles_the_conflict(send):
    home = registered(send, income=1_200_000)
    send(visit(home.id, 1, income=2_000_000, hour=10))
    send(visit(home.id, 1, income=3_000_000, hour=8))
    official = users.find("official_a")

    version = households.record_decision(
        home.id, {"income_per_person": "2000000"}, kind="resolve", actor_id=official.id
    )
    db.session.commit()

    saved = households.get(home.id)
    assert (version, saved.version, saved.open_conflicts, saved.flagged) == (4, 4, 0, False)
    settled = db.session.scalars(sa.select(HouseholdConflict)).one()
    assert (settled.resolved_by_id, settled.resolution_version) == (official.id, 4)
    decision = db.session.scalars(
        sa.select(HouseholdVersion).where(HouseholdVersion.version == 4)
    ).one()
    assert (decision.submission_id, decision.kind, decision.actor_id) == (
        None,
        "resolve",
        official.id,
    )
    no_rebuild_difference()


def test_h4_a_causal_successor_wins_whatever_its_clock_says(send):
    home = registered(send)
    first = send(visit(home.id, 1, income=2_000_000, hour=12))
    send(visit(home.id, first.household_version, income=900_000, hour=6))

    saved = households.get(home.id)
    assert saved.properties["income_per_person"] == "900000" and not open_conflicts(home.id)


def test_h5_a_later_chain_member_waits_for_its_predecessor_then_both_apply_in_order(send):
    home = registered(send)
    branch = "b0f1c2d3-0000-4000-8000-000000000001"
    second = send(visit(home.id, 2, trunk=1, branch=branch, income=900_000, hour=10))
    assert second.result == "accepted" and second.household_version is None
    assert households.get(home.id).held_updates == 1

    first = send(visit(home.id, 1, trunk=1, branch=branch, income=2_000_000, hour=9))

    saved = households.get(home.id)
    assert (first.household_version, saved.version, saved.held_updates) == (2, 3, 0)
    assert saved.properties["income_per_person"] == "900000" and not open_conflicts(home.id)
    pending = db.session.scalars(sa.select(PendingHouseholdUpdate)).one()
    assert (pending.reason, pending.resolved_at is not None) == ("chain_gap", True)
    no_rebuild_difference()


def test_h5_after_the_timeout_a_held_update_applies_anyway_and_flags_the_household(send, app):
    home = registered(send)
    lonely = send(visit(home.id, 3, trunk=1, branch=new_id()[5:], income=900_000))
    assert lonely.household_version is None
    app.config["HOLD_TIMEOUT_HOURS"] = 0

    assert households.release_timed_out() == 1

    saved = households.get(home.id)
    assert (saved.version, saved.flagged, saved.flag_reason) == (2, True, "hold_timeout")
    assert saved.properties["income_per_person"] == "900000"
    no_rebuild_difference()


def test_h5_a_visit_that_arrives_before_its_registration_applies_when_it_comes(send):
    home = household()
    early = send(visit(home.id, 1, income=2_000_000))
    assert early.household_version is None

    send(registration_xml(home))

    saved = households.get(home.id)
    assert (saved.version, saved.held_updates) == (2, 0)
    assert saved.properties["income_per_person"] == "2000000"
    no_rebuild_difference()


def test_h6_derived_fields_are_recomputed_from_the_merged_values(send):
    home = registered(send)
    base = send(visit(home.id, 1, seed="base"))
    v = base.household_version
    send(visit(home.id, v, seed="base", q_water_source="unprotected_spring", hour=9))
    send(visit(home.id, v, seed="base", q_latrine="simple_pit", q_telecom="no", hour=10))

    props = households.get(home.id).properties
    assert props["water"] == "1" and props["latrine"] == "1" and props["telecom"] == "1"
    assert int(props["deprivation_count"]) == sum(int(props[i]) for i in INDICATORS)
    no_rebuild_difference()


def test_h9_an_update_of_a_closed_household_is_kept_and_flagged_not_applied(send):
    home = registered(send)
    households.record_decision(
        home.id, {}, kind="close", actor_id=None, status=HouseholdStatus.CLOSED
    )

    late = send(visit(home.id, 2, income=900_000))

    saved = households.get(home.id)
    assert (late.result, late.household_version, saved.version) == ("accepted", None, 2)
    assert (saved.flagged, saved.flag_reason, saved.held_updates) == (True, "closed_update", 1)
    assert db.session.scalars(sa.select(PendingHouseholdUpdate.reason)).one() == "not_active"
    no_rebuild_difference()


def test_h9_an_update_of_an_absorbed_household_applies_to_the_survivor(send):
    survivor, absorbed = registered(send), registered(send, head_name="Lò Văn Mình")
    households.record_decision(
        absorbed.id,
        {},
        kind="duplicate_merge",
        actor_id=None,
        status=HouseholdStatus.MERGED,
        merged_into=survivor.id,
    )

    late = send(visit(absorbed.id, 1, income=3_300_000))

    assert late.household_id == survivor.id and late.household_version == 2
    assert households.get(survivor.id).properties["income_per_person"] == "3300000"
    assert households.get(absorbed.id).version == 2  # only the merge decision
    no_rebuild_difference()


def test_r4_an_edit_replaces_its_update_even_when_others_built_on_it(send):
    home = household()
    original = send(registration_xml(home))
    send(visit(home.id, 1, income=2_000_000))

    edit = send(registration_xml(home, deprecated_id=original.instance_id, head_name="Lò Văn Mạnh"))

    saved = households.get(home.id)
    assert (edit.household_version, saved.version) == (3, 3)
    assert saved.properties["head_name"] == "Lò Văn Mạnh"
    assert saved.label == "Lò Văn Mạnh (1980)"  # recomputed with the form's expression (H6)
    assert saved.properties["income_per_person"] == "2000000"  # the visit built on it stays
    assert not open_conflicts(home.id)
    no_rebuild_difference()


def test_h8_rebuild_command_reports_zero_differences_and_finds_a_tampered_household(send, runner):
    home = registered(send)
    send(visit(home.id, 1, income=2_000_000))
    send(visit(home.id, 1, income=900_000, hour=7))
    db.session.commit()

    clean = runner.invoke(main, ["households", "rebuild"])
    assert clean.exit_code == 0 and "0 differences" in clean.output

    db.session.execute(
        sa.text("UPDATE households SET label = 'sửa tay' WHERE id = :id"), {"id": home.id}
    )
    db.session.commit()
    found = runner.invoke(main, ["households", "rebuild"])
    assert found.exit_code == 1 and "label" in found.output
    fixed = runner.invoke(main, ["households", "rebuild", "--fix"])
    assert fixed.exit_code == 0
    db.session.expire_all()
    assert households.get(home.id).label == "Lò Văn Minh (1980)"


def test_h8_the_rebuild_tells_a_fast_path_history_from_a_merged_one(send):
    """H6 runs after a merge only; the rebuild replays a history ingest applied on the fast
    path alone without it, and must still tell every merged history from such a one."""
    home = registered(send)
    send(visit(home.id, 1, income=2_000_000))
    send(visit(home.id, 2, income=900_000, hour=10))
    assert merging.fast_forward(merging.history(home.id))

    send(visit(home.id, 2, income=1_100_000, hour=11))  # stale: merged
    assert not merging.fast_forward(merging.history(home.id))

    ahead = registered(send, head_name="Quàng Thị Sim")
    applied = send(visit(ahead.id, 7, income=2_000_000))  # a base the server never reached
    rows = merging.history(ahead.id)
    assert applied.household_version == 2 and rows[-1].base_version == 1
    assert rows[-1].extra["note"] == "base_ahead" and not merging.fast_forward(rows)
    no_rebuild_difference()

    # The rebuild of a fast-path history still reads every value from the payloads.
    other = registered(send, head_name="Lường Văn Ún")
    send(visit(other.id, 1, income=700_000))
    assert merging.fast_forward(merging.history(other.id))
    live = db.session.get(Household, other.id)
    live.properties = {**live.properties, "poverty_status": "above"}
    db.session.flush()
    found = household_rebuild.rebuild()
    assert [(d.household_id, d.field) for d in found] == [(other.id, "properties")]
    assert found[0].rebuilt["poverty_status"] != "above"


def test_h5_updates_whose_registration_never_came_make_the_household_after_the_timeout(send, app):
    home = household(income=1_200_000)
    send(visit(home.id, 1, income=2_000_000))
    app.config["HOLD_TIMEOUT_HOURS"] = 0

    assert households.release_timed_out() == 1
    made = households.get(home.id)
    assert (made.version, made.flagged, made.flag_reason) == (1, True, "hold_timeout")

    send(registration_xml(home))  # it came after all: concurrent with the visit

    db.session.expire_all()
    saved = households.get(home.id)
    assert saved.version == 2 and saved.properties["head_name"] == "Lò Văn Minh"
    assert {c.property for c in open_conflicts(home.id)} >= {"income_per_person"}
    no_rebuild_difference()


def test_h5_the_next_update_applies_what_waited_too_long(send, app):
    home = registered(send)
    send(visit(home.id, 3, trunk=1, branch=new_id()[5:], income=900_000, hour=8))
    app.config["HOLD_TIMEOUT_HOURS"] = 0

    send(visit(home.id, 1, income=2_000_000, hour=12))

    saved = households.get(home.id)
    assert (saved.version, saved.held_updates) == (3, 0)
    no_rebuild_difference()


def test_d1_a_registration_with_a_known_citizen_id_updates_that_household(send):
    first = household(income=1_200_000)
    xml = registration_xml(first)
    send(xml)
    cccd = xml.split(b"<head_cccd>")[1].split(b"</head_cccd>")[0].decode()
    again = household(income=1_200_000)  # another tablet registered it under a new id

    receipt = send(registration_xml(again, head_cccd=cccd))

    assert (receipt.household_id, receipt.household_version) == (first.id, 2)
    assert households.get(again.id) is None
    version = db.session.scalars(
        sa.select(HouseholdVersion).where(
            HouseholdVersion.household_id == first.id, HouseholdVersion.version == 2
        )
    ).one()
    assert (version.submission_id, version.note) == (receipt.submission_id, "auto_linked")
    no_rebuild_difference()


def test_h4_the_provisional_winner_is_the_later_visit_on_the_corrected_clock(ctx):
    user = users.find("cadre_a")
    home = household(income=1_200_000)
    ingest.receive_xml(registration_xml(home), user=user)

    def pushed(xml: bytes, offset_hours: float):
        item = json_item(xml, clock_offset_ms=int(offset_hours * 3_600_000))
        return ingest.receive_answers(item, user=user)

    # Its clock says 11:00 but runs 3 hours fast: the visit was at 08:00.
    fast_clock = pushed(visit(home.id, 1, income=2_000_000, hour=11), 3)
    honest = pushed(visit(home.id, 1, income=3_000_000, hour=9), 0)

    (conflict,) = open_conflicts(home.id)
    assert conflict.provisional == "3000000"
    assert {w["submission_id"] for w in conflict.writes} == {
        fast_clock.submission_id,
        honest.submission_id,
    }


def test_h5_the_release_command_applies_what_waited_too_long(send, app, runner):
    home = registered(send)
    send(visit(home.id, 3, trunk=1, branch=new_id()[5:], income=900_000))
    db.session.commit()
    app.config["HOLD_TIMEOUT_HOURS"] = 0

    result = runner.invoke(main, ["households", "release"])

    assert result.exit_code == 0 and "1 held updates applied" in result.output
    db.session.expire_all()
    assert households.get(home.id).version == 2
