"""Duplicate households, through real HTTP: D1 exact keys, D2 fuzzy cases, D3 review, D4.

Registrations and visits travel as tablets send them (OpenRosa and the JSON sync API);
reviewers read and decide cases through the JSON API.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import (
    AuditEvent,
    CaseStatus,
    DoubleEntry,
    DuplicateCase,
    DuplicateCaseMember,
    DuplicateKey,
    DuplicateProfile,
    Household,
    HouseholdStatus,
    HouseholdVersion,
    PendingHouseholdUpdate,
    Role,
    Submission,
)
from server.models.base import utcnow
from server.services.access import users
from server.services.duplicates import cases as duplicate_cases
from server.services.duplicates import detection as dedup
from server.services.households import lists as household_lists
from server.services.households import rebuild as household_rebuild
from server.services.households import versions as households
from tests.integration.contract.drivers import DRIVERS, answers_item
from tests.integration.contract.submissions import (
    edit_of,
    household_id,
    instance_id,
    registration,
    visit,
    with_answer,
)
from tests.integration.contract.tablet import settle
from tests.integration.helpers import bearer
from tests.integration.live import World, shipped_world


@pytest.fixture
def world(app) -> World:
    with app.app_context():
        return shipped_world()


@pytest.fixture(params=sorted(DRIVERS))
def driver(request, client, world):
    """cadre_a's tablet, over OpenRosa and over the JSON sync API."""
    return DRIVERS[request.param](client, world.tokens["cadre_a"])


@pytest.fixture
def tablet(client, world):
    """cadre_a's tablet over the JSON sync API (for tests about the review, not the protocol)."""
    return DRIVERS["json"](client, world.tokens["cadre_a"])


def _register(driver, **answers):
    root = registration(**answers)
    outcome = driver.submit(root)
    assert outcome.status == 201, outcome
    return household_id(root)


def _cases(app, status: str | None = None) -> list[DuplicateCase]:
    with app.app_context():
        stmt = sa.select(DuplicateCase).order_by(DuplicateCase.id)
        if status is not None:
            stmt = stmt.where(DuplicateCase.status == CaseStatus(status))
        found = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return found


def _household(app, hid: str) -> Household | None:
    with app.app_context():
        found = db.session.get(Household, hid)
        if found is not None:
            db.session.expunge(found)
        return found


COMMUNE_A = "11/03325"


def _official(world) -> dict:
    return bearer(world.tokens["official_a"])


# -- D1 --------------------------------------------------------------------------------------


def test_d1_same_household_code_links_the_registration_to_the_existing_household(
    app, client, world, driver
):
    first = _register(driver, head_name="Lò Văn Minh", place__household_code="HGD-0042")
    second = _register(driver, head_name="Lo Van Minh", place__household_code="hgd 0042")
    assert _household(app, second) is None or _household(app, second).status != "active"
    kept = _household(app, first)
    assert kept.status == HouseholdStatus.ACTIVE and kept.version == 2
    (case,) = _cases(app)
    assert (case.kind, case.status, case.new_id) == ("exact", CaseStatus.AUTO_LINKED, second)
    listed = client.get(
        "/api/v1/duplicates?status=auto_linked", headers=_official(world)
    ).get_json()
    assert [c["new_household"] for c in listed["cases"]] == [second]
    assert listed["cases"][0]["breakdown"] == {"code": 1.0}
    with app.app_context():
        assert dedup.linked_to(second) == first  # where the tablet's updates of it belong
        (event,) = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "duplicate.auto_link")
        ).all()
        assert (event.target_id, event.details["registration"]) == (first, second)


def test_d1_same_head_cccd_links_and_other_communes_are_out_of_scope(app, client, world, driver):
    cccd = "011080123456"  # Điện Biên, man born 1980
    first = _register(driver, head_name="Quàng Văn Thắng", head__head_cccd=cccd)
    cadre_b = DRIVERS[driver.name](client, world.tokens["cadre_b"])
    elsewhere = _register(
        cadre_b, head_name="Quàng Văn Thắng", head__head_cccd=cccd, village="03316_01"
    )
    again = _register(driver, head_name="Quang Van Thang", head__head_cccd=cccd)
    assert _household(app, elsewhere).status == HouseholdStatus.ACTIVE  # another commune
    assert _household(app, first).version == 2
    linked = _cases(app, "auto_linked")
    assert [(c.new_id, c.breakdown) for c in linked] == [(again, {"cccd": 1.0})]


# -- D2 --------------------------------------------------------------------------------------


def test_d2_similar_registration_opens_a_possible_duplicate_never_merged(
    app, client, world, driver
):
    first = _register(driver, head_name="Hoàng Văn Thủy", head__phone="0912000111")
    second = _register(driver, head_name="Huynh Van Thuy", head__phone="0912000111")
    (case,) = _cases(app)
    assert case.status == CaseStatus.OPEN and case.kind == "fuzzy"
    assert {case.first_id, case.second_id} == {first, second} and case.new_id == second
    for hid in (first, second):  # a person decides: nothing was merged
        assert _household(app, hid).status == HouseholdStatus.ACTIVE
    shown = client.get(f"/api/v1/duplicates/{case.id}", headers=_official(world)).get_json()
    assert shown["score"] >= shown["threshold"]
    assert shown["breakdown"]["phone"] == 3.0 and shown["breakdown"]["name"] > 3
    names = {row["property"]: row for row in shown["comparison"]}["head_name"]
    assert (names["same"], {names["first"], names["second"]}) == (
        False,
        {"Hoàng Văn Thủy", "Huynh Van Thuy"},
    )
    assert [s["id"] for s in shown["sides"]] == sorted([first, second])


def test_d2_true_namesake_in_the_commune_is_not_suggested(app, driver):
    _register(driver, head_name="Lò Văn Minh", head__head_birth_year="1962",
              head__phone="0912000222")  # fmt: skip
    namesake = registration(head_name="Lò Văn Minh", head__head_birth_year="1991",
                            head__phone="0988000333", village="03325_02")  # fmt: skip
    namesake = with_answer(namesake, "member/member_name", "Cà Thị Sim")
    assert driver.submit(namesake).status == 201
    assert _cases(app) == []


def test_d2_candidates_come_only_from_the_blocking_key_table(app, driver):
    first = _register(driver, head_name="Hoàng Văn Thủy", head__phone="0912000111")
    with app.app_context():  # without its keys, the first household is invisible to D2
        db.session.execute(sa.delete(DuplicateKey).where(DuplicateKey.household_id == first))
        db.session.commit()
    _register(driver, head_name="Huynh Van Thuy", head__phone="0912000111")
    assert _cases(app) == []


# -- D3 --------------------------------------------------------------------------------------


@pytest.fixture
def open_case(app, tablet):
    first = _register(tablet, head_name="Hoàng Văn Thủy", head__phone="0912000111")
    second = _register(tablet, head_name="Huynh Van Thuy", head__phone="0912000111",
                       head__head_birth_year="1980", place__address="Nhà số 9")  # fmt: skip
    (case,) = _cases(app)
    return case.id, first, second


def _decide(client, world, case_id, user="official_a", **body):
    return client.post(
        f"/api/v1/duplicates/{case_id}/decision", json=body, headers=bearer(world.tokens[user])
    )


def test_d3_merge_keeps_chosen_values_and_redirects_the_absorbed_id(app, client, world, open_case):
    case_id, first, second = open_case
    answer = _decide(client, world, case_id, decision="merge", survivor=first,
                     values={"address": second})  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "merged" and answer.get_json()["survivor"] == first
    survivor, absorbed = _household(app, first), _household(app, second)
    assert survivor.properties["address"] == "Nhà số 9"
    assert survivor.properties["head_name"] == "Hoàng Văn Thủy"
    assert (absorbed.status, absorbed.merged_into_id) == (HouseholdStatus.MERGED, first)
    with app.app_context():
        listed = household_lists.entity_list(users.find("cadre_a")).decode()
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert first in listed and second not in listed  # Collect's list shows the survivor only
    assert "duplicate.merge" in actions


def test_d3_visit_of_the_absorbed_household_reaches_the_survivor(
    app, client, world, tablet, open_case
):
    case_id, first, second = open_case
    assert _decide(client, world, case_id, decision="merge", survivor=first).status_code == 200
    outcome = tablet.submit(visit(second, base_version=1, visited__hh_size="5"))
    assert outcome.status == 201 and not outcome.issues, outcome
    assert _household(app, first).properties["hh_size"] == "5"
    assert _household(app, second).status == HouseholdStatus.MERGED


def test_d3_undo_merge_restores_both_households(app, client, world, open_case):
    case_id, first, second = open_case
    before = _household(app, first).properties
    assert _decide(client, world, case_id, decision="merge", survivor=first,
                   values={"address": second}).status_code == 200  # fmt: skip
    answer = _decide(client, world, case_id, decision="undo")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "open"
    survivor, absorbed = _household(app, first), _household(app, second)
    assert survivor.properties["address"] == before["address"]
    assert (absorbed.status, absorbed.merged_into_id) == (HouseholdStatus.ACTIVE, None)
    with app.app_context():
        assert dedup.candidate_ids("probe", dedup.profile_of(first), survivor.commune_id)


def test_d3_distinct_pair_is_never_suggested_again(app, client, world, tablet, open_case):
    case_id, first, second = open_case
    answer = _decide(client, world, case_id, decision="distinct")
    assert answer.status_code == 200 and answer.get_json()["status"] == "distinct"
    third = _register(tablet, head_name="Hoàng Văn Thủy", head__phone="0912000111")
    pairs = {frozenset((c.first_id, c.second_id)): c.status for c in _cases(app)}
    assert pairs[frozenset((first, second))] == CaseStatus.DISTINCT
    assert pairs[frozenset((first, third))] == CaseStatus.OPEN
    with app.app_context():
        profile = dedup.profile_of(second)
        scored = dedup.candidates(second, profile, _household(app, second).commune_id)
    assert first not in [hid for hid, _score in scored]


def test_d3_decided_case_refuses_a_second_decision_with_a_message(app, client, world, open_case):
    case_id, first, _second = open_case
    assert _decide(client, world, case_id, decision="distinct").status_code == 200
    again = _decide(client, world, case_id, decision="merge", survivor=first)
    assert again.status_code == 409 and again.get_json()["code"] == "409.10"
    assert "hai hộ khác nhau" in again.get_json()["message"]


def test_d3_only_reviewers_of_the_commune_decide(app, client, world, open_case):
    case_id, first, _second = open_case
    refused = _decide(client, world, case_id, user="cadre_a", decision="merge", survivor=first)
    assert refused.status_code == 403
    hidden = _decide(client, world, case_id, user="coordinator_other", decision="distinct")
    assert hidden.status_code == 404
    assert _cases(app)[0].status == CaseStatus.OPEN


def test_d3_merge_names_a_survivor_of_the_pair(client, world, open_case):
    case_id, _first, _second = open_case
    answer = _decide(client, world, case_id, decision="merge", survivor=str(uuid.uuid4()))
    assert answer.status_code == 400 and answer.get_json()["code"] == "400.3"


# -- D4 --------------------------------------------------------------------------------------


def test_d4_same_visit_twice_by_the_same_user_is_flagged(app, client, world, driver):
    hid = _register(driver, head_name="Lò Văn Minh")
    assert driver.submit(visit(hid, base_version=1)).status == 201
    assert driver.submit(visit(hid, base_version=2)).status == 201
    with app.app_context():
        (entry,) = db.session.scalars(sa.select(DoubleEntry)).all()
        flagged = entry.id
    listed = client.get("/api/v1/double-entries", headers=_official(world)).get_json()
    assert [e["id"] for e in listed["double_entries"]] == [flagged]
    assert listed["double_entries"][0]["submitter"] == "cadre_a"
    decided = client.post(f"/api/v1/double-entries/{flagged}/decision",
                          json={"status": "dismissed"}, headers=_official(world))  # fmt: skip
    assert decided.status_code == 200 and decided.get_json()["status"] == "dismissed"
    with app.app_context():
        left_out = db.session.scalars(dedup.left_out_of_reports()).all()
    assert left_out == []


def test_d4_different_answers_are_not_a_double_entry(app, driver):
    hid = _register(driver, head_name="Lò Văn Minh")
    assert driver.submit(visit(hid, base_version=1)).status == 201
    assert driver.submit(visit(hid, base_version=2, visited__hh_size="4")).status == 201
    with app.app_context():
        assert db.session.scalars(sa.select(DoubleEntry)).all() == []


def test_d4_another_user_or_more_than_a_day_apart_is_not_a_double_entry(
    app, client, world, tablet, make_user, make_device
):
    hid = _register(tablet, head_name="Lò Văn Minh")
    first = visit(hid, base_version=1)
    assert tablet.push(answers_item(first, device_time="2026-03-01T08:40:00+07:00")).status == 201
    later = visit(hid, base_version=2)  # the same answers, two days later
    assert tablet.push(answers_item(later, device_time="2026-03-03T09:00:00+07:00")).status == 201
    make_user("cadre_c", Role.CADRE, "11/03325/01")
    colleague = DRIVERS["json"](client, make_device("cadre_c"))
    assert colleague.submit(visit(hid, base_version=3)).status == 201  # another user
    with app.app_context():
        assert db.session.scalars(sa.select(DoubleEntry)).all() == []


def test_d4_an_edit_of_a_visit_is_not_a_double_entry(app, driver):
    hid = _register(driver, head_name="Lò Văn Minh")
    original = visit(hid, base_version=1)
    assert driver.submit(original).status == 201
    assert driver.submit(edit_of(original)).status == 201  # R4: replaces it, same answers
    with app.app_context():
        assert db.session.scalars(sa.select(DoubleEntry)).all() == []


def test_d4_flagged_entry_is_left_out_of_reports_until_dismissed(app, client, world, tablet):
    hid = _register(tablet, head_name="Lò Văn Minh")
    assert tablet.submit(visit(hid, base_version=1)).status == 201
    repeated = visit(hid, base_version=2)
    assert tablet.submit(repeated).status == 201
    with app.app_context():
        left_out = db.session.scalars(dedup.left_out_of_reports()).all()
        (entry,) = db.session.scalars(sa.select(DoubleEntry)).all()
        later = db.session.scalar(
            sa.select(Submission.id).where(Submission.instance_id == instance_id(repeated))
        )
    assert left_out == [later] == [entry.submission_id]
    cadre = bearer(world.tokens["cadre_a"])
    url = f"/api/v1/double-entries/{entry.id}/decision"
    refused = client.post(url, json={"status": "dismissed"}, headers=cadre)
    assert refused.status_code == 403


def _keys(app, hid: str) -> set[str]:
    with app.app_context():
        stmt = sa.select(DuplicateKey.key).where(DuplicateKey.household_id == hid)
        return {k.split(":", 2)[0] + ":" + k.rsplit(":", 1)[-1] for k in db.session.scalars(stmt)}


def test_d2_keys_follow_the_household_when_its_head_is_corrected(app, driver):
    original = registration(head_name="Lò Văn Minh")
    assert driver.submit(original).status == 201
    hid = household_id(original)
    assert "name:lo|minh" in _keys(app, hid)
    assert driver.submit(edit_of(original, head__head_name="Quàng Văn Thắng")).status == 201
    assert _household(app, hid).properties["head_name"] == "Quàng Văn Thắng"
    keys = _keys(app, hid)
    assert "name:quang|thang" in keys and "name:lo|minh" not in keys


def test_d2_households_from_before_duplicate_detection_are_indexed_once(app, tablet):
    hid = _register(tablet, head_name="Lò Văn Minh")
    with app.app_context():
        db.session.execute(sa.delete(DuplicateKey))
        db.session.execute(sa.delete(DuplicateProfile))
        assert dedup.index_missing() == 1
        assert dedup.index_missing() == 0
        assert dedup.profile_of(hid).members[0].name == "Lò Thị Hoa"
        db.session.commit()
    assert "name:lo|minh" in _keys(app, hid)


def test_d1_reviewer_undoes_an_automatic_link(app, client, world, tablet):
    first = _register(tablet, head_name="Lò Văn Minh", place__household_code="HGD-0042",
                      place__address="Nhà số 3")  # fmt: skip
    before = _household(app, first).properties
    second = _register(tablet, head_name="Lò Văn Mình", place__household_code="HGD-0042",
                       place__address="Nhà số 12")  # fmt: skip
    assert _household(app, first).version == 2 and _household(app, second) is None
    (case,) = _cases(app, "auto_linked")
    answer = _decide(client, world, case.id, decision="undo")
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["status"] == "unlinked"
    kept, own = _household(app, first), _household(app, second)
    for name in ("head_name", "address"):
        assert kept.properties[name] == before[name]
    assert own.status == HouseholdStatus.ACTIVE and own.properties["head_name"] == "Lò Văn Mình"
    assert own.properties["address"] == "Nhà số 12"
    assert tablet.submit(visit(second, base_version=1, visited__hh_size="6")).status == 201
    assert _household(app, second).properties["hh_size"] == "6"
    assert _household(app, first).properties["hh_size"] != "6"
    again = _register(tablet, head_name="Lò Văn Mình", place__household_code="HGD-0042")
    pairs = {frozenset((c.first_id, c.second_id)): c.status for c in _cases(app)}
    assert pairs[frozenset((first, second))] == CaseStatus.UNLINKED  # never linked again
    assert _household(app, again) is None  # a third registration still links (to one of them)


def test_d3_merge_and_undo_are_replayed_by_the_rebuild(app, client, world, open_case):
    """H8: merges, undos and unlinks are decision versions, so a rebuild gives the live state."""
    case_id, first, second = open_case
    assert _decide(client, world, case_id, decision="merge", survivor=second,
                   values={"head_name": first}).status_code == 200  # fmt: skip
    with app.app_context():
        assert household_rebuild.rebuild() == []
    assert _decide(client, world, case_id, decision="undo").status_code == 200
    with app.app_context():
        assert household_rebuild.rebuild() == []


def test_d1_unlink_is_replayed_by_the_rebuild(app, client, world, tablet):
    _register(tablet, head_name="Lò Văn Minh", place__household_code="HGD-0042")
    _register(tablet, head_name="Lò Văn Mình", place__household_code="HGD-0042")
    (case,) = _cases(app, "auto_linked")
    assert _decide(client, world, case.id, decision="undo").status_code == 200
    with app.app_context():
        assert household_rebuild.rebuild() == []


def test_d3_cases_are_listed_by_commune_and_state(client, world, open_case):
    case_id, _first, _second = open_case
    official = _official(world)
    listed = client.get(f"/api/v1/duplicates?commune={COMMUNE_A}", headers=official).get_json()
    assert [c["id"] for c in listed["cases"]] == [case_id]
    other = client.get("/api/v1/duplicates?commune=11/03316", headers=official).get_json()
    assert other["cases"] == []
    assert client.get("/api/v1/duplicates?status=merged", headers=official).json["cases"] == []
    unknown = client.get("/api/v1/duplicates?commune=99/99999", headers=official)
    assert unknown.status_code == 404 and unknown.json["code"] == "404.6"
    cadre = client.get("/api/v1/duplicates", headers=bearer(world.tokens["cadre_b"])).get_json()
    assert cadre["cases"] == []  # another commune's cadre sees none of them


def _pull_all(client, token: str, cursor: str | None = None) -> tuple[list[dict], str]:
    changes = []
    while True:
        query = {"cursor": cursor} if cursor else {}
        page = client.get("/api/v1/sync/pull", query_string=query, headers=bearer(token)).json
        changes += page["changes"]
        cursor = page["cursor"]
        if not page["has_more"]:
            return changes, cursor


def test_d3_tablets_learn_the_redirect_at_their_next_pull(app, client, world, open_case):
    case_id, first, second = open_case
    token = world.tokens["cadre_a"]
    _before, cursor = _pull_all(client, token)
    assert _decide(client, world, case_id, decision="merge", survivor=first).status_code == 200
    # P2: on PostgreSQL a change is served once every older transaction on the server has
    # finished (other sessions' may still be open): wait for that, then pull.
    settle(app)
    changes, cursor = _pull_all(client, token, cursor)
    redirects = [c for c in changes if c["kind"] == "redirect"]
    assert [(c["id"], c["data"]["to"]) for c in redirects] == [(second, first)]


def test_d2_recheck_finds_a_pair_registered_at_the_same_moment(app, tablet):
    """Two workers committing twin registrations together cannot see each other's keys:
    the recheck (a periodic job) finds the pair; cases are never opened twice."""
    first = _register(tablet, head_name="Hoàng Văn Thủy", head__phone="0912000111")
    second = _register(tablet, head_name="Huynh Van Thuy", head__phone="0912000111")
    with app.app_context():
        db.session.execute(sa.delete(DuplicateCase))  # as if neither had seen the other
        db.session.commit()
        since = db.session.get(Household, first).created_at
        assert dedup.recheck(since) == 1
        db.session.commit()
        assert dedup.recheck(since) == 0
    (case,) = _cases(app)
    assert {case.first_id, case.second_id} == {first, second}


# -- D1 with H9: the tablet's own id of a linked registration --------------------------------


def _linked_pair(driver) -> tuple[str, str]:
    first = _register(driver, head_name="Lò Văn Minh", place__household_code="HGD-0042",
                      place__address="Nhà số 3")  # fmt: skip
    second = _register(driver, head_name="Lò Văn Mình", place__household_code="HGD-0042",
                       place__address="Nhà số 12")  # fmt: skip
    return first, second


def _routed_versions(app, hid: str) -> list:
    with app.app_context():
        stmt = (
            sa.select(HouseholdVersion)
            .where(HouseholdVersion.household_id == hid, HouseholdVersion.note == "redirected")
            .order_by(HouseholdVersion.version)
        )
        found = list(db.session.scalars(stmt))
        db.session.expunge_all()
        return found


def _waiting(app) -> list:
    with app.app_context():
        stmt = sa.select(PendingHouseholdUpdate).where(PendingHouseholdUpdate.resolved_at.is_(None))
        return list(db.session.scalars(stmt))


def test_d1_visits_of_the_linked_id_reach_the_existing_household(app, driver):
    """After an automatic link, the tablet still knows the household by the id it created:
    its visits of that id apply to the existing household at once (like a redirect, H9),
    instead of waiting for a household that never comes and then making a second one."""
    first, second = _linked_pair(driver)
    version = _household(app, first).version
    outcome = driver.submit(visit(second, base_version=1, visited__hh_size="6"))
    assert outcome.status == 201 and not outcome.issues, outcome
    kept = _household(app, first)
    assert kept.version == version + 1 and kept.properties["hh_size"] == "6"
    assert _household(app, second) is None and _waiting(app) == []
    (routed,) = _routed_versions(app, first)
    # Only what the tablet changed of its own registration: values it merely re-sends
    # (the address it registered) do not overwrite what the other cadre recorded.
    assert routed.sent["hh_size"] == "6" and "address" not in routed.sent
    assert driver.submit(visit(second, base_version=2, visited__hh_size="7")).status == 201
    assert _household(app, first).properties["hh_size"] == "7"
    with app.app_context():
        assert households.release_timed_out(now=utcnow() + dt.timedelta(days=30)) == 0
        assert household_rebuild.rebuild() == []
    assert _household(app, second) is None


def test_d1_the_tablet_learns_at_its_next_pull_that_its_id_redirects(app, client, world, tablet):
    """The tablet that registered the second copy holds it under its own id: its next pull
    tells it the id now redirects to the household the registration was linked to."""
    token = world.tokens["cadre_a"]
    _before, cursor = _pull_all(client, token)
    first, second = _linked_pair(tablet)
    settle(app)  # P2: see the D3 test above
    changes, cursor = _pull_all(client, token, cursor)
    redirects = [c for c in changes if c["kind"] == "redirect"]
    assert [(c["id"], c["data"]["to"]) for c in redirects] == [(second, first)]


def test_d1_visit_that_arrived_before_the_linked_registration_follows_it(app, tablet):
    first = _register(tablet, head_name="Lò Văn Minh", place__household_code="HGD-0042")
    early = registration(head_name="Lò Văn Mình", place__household_code="HGD-0042")
    second = household_id(early)
    assert tablet.submit(visit(second, base_version=1, visited__hh_size="6")).status == 201
    assert [p.reason for p in _waiting(app)] == ["unknown_household"]  # H5: held
    assert tablet.submit(early).status == 201  # linked to `first` (D1)
    assert _waiting(app) == [] and _household(app, second) is None
    assert _household(app, first).properties["hh_size"] == "6"
    with app.app_context():
        assert household_rebuild.rebuild() == []


def test_d1_held_visit_of_a_linked_id_never_makes_a_second_household_on_timeout(app, tablet):
    """A visit held for the linked id (by a race with the registration) is routed, not made
    into a second household, when the hold times out (H5 release)."""
    first, second = _linked_pair(tablet)
    stray = visit(str(uuid.uuid4()), base_version=1, visited__hh_size="9")
    assert tablet.submit(stray).status == 201
    with app.app_context():  # as if it had been held for the linked id
        db.session.execute(sa.update(PendingHouseholdUpdate).values(household_id=second))
        db.session.commit()
        assert households.release_timed_out(now=utcnow() + dt.timedelta(days=30)) == 1
        db.session.commit()
    assert _household(app, second) is None and _waiting(app) == []
    assert _household(app, first).properties["hh_size"] == "9"


def test_d1_after_the_link_is_undone_visits_go_to_the_tablets_own_household(
    app, client, world, tablet
):
    first, second = _linked_pair(tablet)
    assert tablet.submit(visit(second, base_version=1, visited__hh_size="6")).status == 201
    assert _household(app, first).properties["hh_size"] == "6"  # routed while linked
    (case,) = _cases(app, "auto_linked")
    assert _decide(client, world, case.id, decision="undo").status_code == 200
    own, kept = _household(app, second), _household(app, first)
    # The visit moved with its registration: the tablet's household has it, the existing
    # household is back to its own values.
    assert (own.version, own.properties["hh_size"]) == (2, "6")
    assert own.properties["address"] == "Nhà số 12"
    assert kept.properties["hh_size"] != "6" and kept.properties["address"] == "Nhà số 3"
    assert tablet.submit(visit(second, base_version=2, visited__hh_size="7")).status == 201
    assert _household(app, second).properties["hh_size"] == "7"
    assert len(_routed_versions(app, first)) == 1  # history kept, nothing routed since
    with app.app_context():
        assert household_rebuild.rebuild() == []


def _groups_by_name(app) -> list[tuple[frozenset[str], str]]:
    """The cases as (the heads' names of the group's households, state)."""
    with app.app_context():
        heads = {h.id: h.properties.get("head_name") for h in db.session.scalars(
            sa.select(Household))}  # fmt: skip
        return [
            (frozenset(heads.get(hid) for hid in duplicate_cases.group_of(case)),
             case.status.value)
            for case in db.session.scalars(sa.select(DuplicateCase).order_by(DuplicateCase.id))
        ]  # fmt: skip


@pytest.mark.parametrize("batched", [False, True], ids=["one_by_one", "one_push"])
def test_d2_a_push_of_registrations_finds_the_same_cases_as_one_by_one(
    app, client, world, tablet, batched
):
    """The batch path (one push of several registrations) opens exactly the cases the same
    registrations open one by one: each compared with those registered before it. The three
    registrations of one household make one group, not three pairs (issue 17)."""
    _register(tablet, head_name="Hoàng Văn Thủy", head__phone="0912000111")
    roots = [
        registration(head_name="Huynh Van Thuy", head__phone="0912000111"),
        registration(head_name="Giàng A Páo", head__phone="0977000555"),
        registration(head_name="Hoàng Văn Thuỷ", head__phone="0912000111"),
    ]
    if batched:
        answer = client.post("/api/v1/sync/push", json={"items": [answers_item(r) for r in roots]},
                             headers=bearer(world.tokens["cadre_a"]))  # fmt: skip
        assert [r["status"] for r in answer.get_json()["results"]] == [201, 201, 201]
    else:
        for root in roots:
            assert tablet.submit(root).status == 201
    assert _groups_by_name(app) == [
        (frozenset({"Hoàng Văn Thủy", "Huynh Van Thuy", "Hoàng Văn Thuỷ"}), "open")
    ]


def test_d1_h5_visits_of_the_linked_id_out_of_order_keep_the_tablets_order(app, tablet):
    """The tablet's second visit arrives before its first: the first does not undo what the
    second (its successor on the tablet) recorded."""
    first, second = _linked_pair(tablet)
    one = visit(second, base_version=1, visited__hh_size="6")
    two = visit(second, base_version=2, visited__hh_size="7")
    assert tablet.submit(two).status == 201
    assert tablet.submit(one).status == 201
    assert _household(app, first).properties["hh_size"] == "7"
    with app.app_context():
        assert household_rebuild.rebuild() == []


# -- issue 17: household against household, groups -------------------------------------------


def test_issue17_registration_by_the_spouse_of_an_existing_head_opens_a_case(
    app, client, world, driver
):
    """Lò Văn Minh registered his household; later his wife Lò Thị Hoa answered the door
    and another cadre registered it with her as the head and him as her husband, no CCCD,
    another phone (the tablet of the cadre, over OpenRosa and the JSON API)."""
    first = _register(driver, head_name="Lò Văn Minh", head__phone="0912000111")
    root = registration(head_name="Lo Thi Hoa", head__head_sex="female",
                        head__head_birth_year="1982", head__phone="")  # fmt: skip
    for path, value in (("member/member_name", "Lo Van Minh"), ("member/member_sex", "male"),
                        ("member/member_birth_year", "1980")):  # fmt: skip
        root = with_answer(root, path, value)
    assert driver.submit(root).status == 201
    second = household_id(root)
    (case,) = _cases(app)
    assert {case.first_id, case.second_id} == {first, second} and case.status == CaseStatus.OPEN
    shown = client.get(f"/api/v1/duplicates/{case.id}", headers=_official(world)).get_json()
    assert "head_is_member" in shown["breakdown"]


def test_issue17_n_identical_registrations_open_one_case(app, client, world, tablet):
    """Five registrations of one household (a tablet that sent it again and again, cadres
    who each registered it): one case with the five households, not ten pairs."""
    ids = [_register(tablet, head_name="Giàng A Páo", head__phone="0977000555") for _ in range(5)]
    (case,) = _cases(app)
    listed = client.get("/api/v1/duplicates", headers=_official(world)).get_json()
    assert [sorted(c["households"]) for c in listed["cases"]] == [sorted(ids)]
    shown = client.get(f"/api/v1/duplicates/{case.id}", headers=_official(world)).get_json()
    assert len(shown["sides"]) == 5 and all(len(r["values"]) == 5 for r in shown["comparison"])
    _register(tablet, head_name="Vàng Thị Dở", head__phone="0966000444")  # someone else
    assert len(_cases(app)) == 1


@pytest.fixture
def group(app, tablet):
    ids = [
        _register(tablet, head_name="Hoàng Văn Thủy", head__phone="0912000111"),
        _register(
            tablet, head_name="Huynh Van Thuy", head__phone="0912000111", place__address="Nhà số 9"
        ),
        _register(tablet, head_name="Hoang Van Thuy", head__phone="0912000111"),
    ]
    (case,) = _cases(app)
    return case.id, ids


def test_issue17_reviewer_merges_a_group_into_one_household_and_undoes_it(
    app, client, world, group
):
    case_id, (first, second, third) = group
    answer = _decide(client, world, case_id, decision="merge", survivor=third,
                     values={"address": second})  # fmt: skip
    assert answer.status_code == 200, answer.get_json()
    kept = _household(app, third)
    assert kept.status == HouseholdStatus.ACTIVE and kept.properties["address"] == "Nhà số 9"
    for gone in (first, second):
        found = _household(app, gone)
        assert (found.status, found.merged_into_id) == (HouseholdStatus.MERGED, third)
    assert _decide(client, world, case_id, decision="undo").status_code == 200
    for hid in (first, second, third):
        assert _household(app, hid).status == HouseholdStatus.ACTIVE
    assert _household(app, third).properties["address"] == "Nhà số 3"


def test_issue17_reviewer_separates_one_household_from_a_group(app, client, world, tablet, group):
    case_id, (first, second, third) = group
    answer = _decide(client, world, case_id, decision="separate", household=second)
    assert answer.status_code == 200, answer.get_json()
    shown = answer.get_json()
    assert (shown["households"], shown["separated"]) == ([first, third], [second])
    again = _decide(client, world, case_id, decision="separate", household=first)
    assert again.status_code == 409 and again.get_json()["code"] == "409.70"
    stranger = _decide(client, world, case_id, decision="separate", household=str(uuid.uuid4()))
    assert stranger.status_code == 400 and stranger.get_json()["code"] == "400.70"
    with app.app_context():  # the separated household is never suggested with them again
        assert dedup.recheck(utcnow() - dt.timedelta(days=1)) == 0
    assert len(_cases(app)) == 1


def test_issue17_a_case_from_before_groups_is_read_as_its_pair(app, client, world, open_case):
    """A case opened before the member table (no member rows, as the migration's backfill
    would have written them) still shows, merges and lists as its pair."""
    case_id, first, second = open_case
    with app.app_context():
        db.session.execute(sa.delete(DuplicateCaseMember))
        db.session.commit()
    shown = client.get(f"/api/v1/duplicates/{case_id}", headers=_official(world)).get_json()
    assert shown["households"] == sorted([first, second])
    assert _decide(client, world, case_id, decision="merge", survivor=first).status_code == 200
