"""The ingest service, called as both protocols call it: what is stored, applied, quarantined.

The cross-protocol rule tests (R1-R8 over OpenRosa and JSON) live in
`tests/integration/contract/`; these pin the service's own behaviour: the
receipt, the rows it writes, the household effects and the quarantine.
"""

from __future__ import annotations

import hashlib
import json

import pytest
import sqlalchemy as sa

from forms.canonical import answers_hash
from forms.instance import parse_submission, to_answers, to_xml
from forms.library import REGISTRATION_VERSION
from forms.load import load_form
from forms.validation import compute
from server.db import db
from server.models import (
    AdminUnit,
    Attachment,
    AuditEvent,
    Change,
    Device,
    Household,
    HouseholdConflict,
    HouseholdVersion,
    PendingHouseholdUpdate,
    QuarantineItem,
    ReviewState,
    Role,
    Submission,
    UnitLevel,
)
from server.services import transactional
from server.services.access import scope, users
from server.services.forms import places as submission_places
from server.services.forms import publishing as forms
from server.services.households import lists as household_lists
from server.services.households import rebuild as household_rebuild
from server.services.households import versions as households
from server.services.receiving import attachments, ingest, quarantine
from server.services.receiving import batch as ingest_batch
from server.services.receiving.ingest import IncomingAttachment
from tests.integration.database import build_app, dispose_app
from tests.integration.openrosa.world import (
    household,
    new_id,
    registration_form,
    registration_xml,
    visit_form,
    visit_xml,
    world,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
def send(ctx):
    """Receive XML as `username` from their tablet; returns the receipt."""

    def call(xml: bytes, username: str = "cadre_a", **kwargs) -> ingest.Receipt:
        user = users.find(username)
        device = db.session.scalar(sa.select(Device).where(Device.user_id == user.id))
        return ingest.receive_xml(xml, user=user, device=device, **kwargs)

    return call


def load_version(version: str) -> None:
    """Upload and publish the shipped registration form again as `version`."""
    newer = registration_form().xform.replace(
        f'version="{REGISTRATION_VERSION}"'.encode(), f'version="{version}"'.encode()
    )
    forms.upload(newer, f"registration-{version}.xml", None)
    forms.publish(None, "giupho_household_registration", version)


def count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_r1_registration_is_stored_with_who_where_when(send):
    home = household(village="03325_02", head_name="Lò Văn Hùng")
    xml = registration_xml(home, instance_id="uuid:1b0f6c1e-3c52-4c1e-9a55-2f7f1d6b8e21")

    receipt = send(xml, device_time="2026-11-21T08:00:00+07:00", clock_offset_ms=-1500)

    assert (receipt.result, receipt.status, receipt.review_state) == ("accepted", 201, "received")
    stored = db.session.get(Submission, receipt.submission_id)
    assert stored.instance_id == stored.root_id == "uuid:1b0f6c1e-3c52-4c1e-9a55-2f7f1d6b8e21"
    assert stored.payload.body == xml and stored.payload.content_type == "text/xml"
    assert stored.submitter_id == users.find("cadre_a").id and stored.device_id is not None
    assert stored.clock_offset_seconds == -1.5
    assert stored.device_time.isoformat() == "2026-11-21T01:00:00+00:00"
    village_path = db.session.execute(
        sa.text("SELECT path FROM admin_units WHERE id = :id"), {"id": stored.village_id}
    ).scalar()
    assert village_path == "11/03325/02"
    assert stored.canonical_hash == answers_hash(parse_submission(xml).root)
    assert count(AuditEvent, AuditEvent.action == "submission.receive") == 1


def test_h1_registration_creates_the_household_at_version_1(send):
    """Version 1, properties from save_to, calculated ones computed by the server."""
    home = household(village="03325_02", head_name="Lò Văn Hùng")
    xml = registration_xml(home, instance_id="uuid:1b0f6c1e-3c52-4c1e-9a55-2f7f1d6b8e21")

    receipt = send(xml)

    stored = db.session.get(Submission, receipt.submission_id)
    saved = households.get(home.id)
    assert (saved.version, saved.village_id, saved.label) == (
        1,
        stored.village_id,
        "Lò Văn Hùng (1980)",
    )
    assert saved.properties["head_name"] == "Lò Văn Hùng"
    assert saved.properties["hh_size"] == "2"  # head + one member, computed here
    computed = compute(registration_form(), parse_submission(xml).root)
    assert saved.properties["deprivation_count"] == computed.find("result/deprivation_count").text
    assert parse_submission(xml).root.find("result/deprivation_count") is None  # not sent
    assert receipt.household_id == home.id and receipt.household_version == 1
    version = db.session.scalars(sa.select(HouseholdVersion)).one()
    assert (version.submission_id, version.base_version) == (stored.id, None)
    assert version.changes == saved.properties
    assert count(Change, Change.kind == "household", Change.entity_id == home.id) == 1


def test_r2_resend_changes_nothing_and_answers_with_the_original(send):
    xml = registration_xml(household())
    first = send(xml)
    reformatted = xml.replace(b"<head>", b"<head>\n    ").replace(
        b'<?xml version="1.0" encoding="UTF-8"?>', b""
    )

    for body in (xml, reformatted):
        again = send(body)
        assert (again.result, again.status) == ("duplicate", 202)
        assert (again.submission_id, again.received_at) == (first.submission_id, first.received_at)
    assert count(Submission) == 1 and count(HouseholdVersion) == 1 and count(QuarantineItem) == 0


def test_r3_conflicting_resend_is_kept_in_quarantine_linked_to_the_stored_one(send):
    home = household()
    instance_id = new_id()
    first = send(registration_xml(home, instance_id))
    changed = registration_xml(home, instance_id, head_name="Lò Văn Khác")

    receipts = [send(changed), send(changed)]  # Collect may retry: kept once

    assert {(r.result, r.status) for r in receipts} == {("conflict", 409)}
    assert receipts[0].problem.code == "409.3" and instance_id in receipts[0].problem.message("en")
    item = db.session.scalars(sa.select(QuarantineItem)).one()
    assert (item.submission_id, item.instance_id, item.payload) == (
        first.submission_id,
        instance_id,
        changed,
    )
    assert households.get(home.id).properties["head_name"] == "Lò Văn Minh"


def test_r4_edit_supersedes_the_current_version_and_replaces_its_household_effect(send):
    home = household()
    original = send(registration_xml(home))
    edit_xml = registration_xml(home, deprecated_id=original.instance_id, head_name="Lò Văn Mạnh")

    edit = send(edit_xml)
    assert (edit.result, edit.status) == ("accepted", 201)
    assert db.session.get(Submission, original.submission_id).superseded is True
    new = db.session.get(Submission, edit.submission_id)
    assert (new.superseded, new.root_id, new.deprecated_id) == (
        False,
        original.instance_id,
        original.instance_id,
    )
    saved = households.get(home.id)
    assert (saved.version, saved.properties["head_name"]) == (2, "Lò Văn Mạnh")
    assert db.session.scalars(
        sa.select(HouseholdVersion.changes).where(HouseholdVersion.version == 2)
    ).one() == {"head_name": "Lò Văn Mạnh"}
    # Its resend is a resend, not an edit of a superseded version.
    assert send(edit_xml).result == "duplicate"


def test_r4_edit_of_a_superseded_version_or_of_an_unknown_one_is_quarantined(send):
    home = household()
    original = send(registration_xml(home))
    send(registration_xml(home, deprecated_id=original.instance_id, head_name="Lò Văn Một"))

    late = send(registration_xml(home, deprecated_id=original.instance_id, head_name="Lò Văn Hai"))
    unknown = send(registration_xml(household(), deprecated_id=new_id()))

    assert (late.result, late.status, late.problem.code) == ("conflict", 409, "409.4")
    assert (unknown.result, unknown.status, unknown.problem.code) == ("quarantined", 404, "404.4")
    assert count(QuarantineItem) == 2 and households.get(home.id).version == 2


def test_r4_an_edit_that_loses_the_race_to_another_edit_is_quarantined(send):
    original = send(registration_xml(household()))
    loaded = db.session.get(Submission, original.submission_id)
    # Another worker's edit superseded it after this session read it as current.
    db.session.execute(
        sa.update(Submission)
        .where(Submission.id == loaded.id)
        .values(superseded=True)
        .execution_options(synchronize_session=False)
    )

    late = send(registration_xml(household(), deprecated_id=original.instance_id))

    assert (late.result, late.problem.code) == ("conflict", "409.4")
    assert count(Submission) == 1


def test_r5_unknown_form_version_is_kept_and_processed_once_loaded(send, app):
    home = household()
    xml = registration_xml(home).replace(
        f'version="{REGISTRATION_VERSION}"'.encode(), b'version="2027010101"'
    )

    receipt = send(xml)
    assert (receipt.result, receipt.status, receipt.problem.code) == ("quarantined", 404, "404.5")
    message = receipt.problem.message("vi")
    assert "giupho_household_registration" in message and "2027010101" in message

    load_version("2027010101")  # publishing processes what waited for it

    stored = db.session.scalars(sa.select(Submission)).one()
    item = db.session.get(QuarantineItem, receipt.quarantine_id)
    assert item.resolved_at is not None and item.submission_id == stored.id
    assert stored.instance_id == receipt.instance_id and households.get(home.id).version == 1
    assert quarantine.reprocess_form_version("giupho_household_registration", "2027010101") == []
    assert send(xml).result == "duplicate"


def test_r6_invalid_submission_is_stored_with_its_issues_and_not_applied(send):
    home = household()
    receipt = send(registration_xml(home, head_birth_year="1850", q_water_source="lake"))

    assert (receipt.result, receipt.status, receipt.review_state) == ("invalid", 201, "has_issues")
    found = {(i["path"], i["code"]) for i in receipt.issues if i["severity"] == "error"}
    assert found == {
        ("/data/head/head_birth_year", "constraint"),
        ("/data/head/head_cccd", "constraint"),  # its digits no longer match the year
        ("/data/dim_water/q_water_source", "choice"),
    }
    stored = db.session.get(Submission, receipt.submission_id)
    assert stored.review_state == ReviewState.HAS_ISSUES and stored.issues == receipt.issues
    assert all(i["message"] and i["message_vi"] for i in stored.issues)
    assert households.get(home.id) is None


def test_a_submission_without_instance_id_gets_a_stable_one_from_its_content(send):
    xml = registration_xml(household())
    root = parse_submission(xml).root
    meta = root.child("meta")
    meta.remove(meta.child("instanceID"))
    bare = to_xml(root)

    first, again = send(bare), send(bare)

    assert first.instance_id == ingest.derived_instance_id(answers_hash(root))
    assert first.instance_id.startswith("uuid:") and again.result == "duplicate"


def test_h2_visit_on_the_current_version_makes_the_next_version_with_what_changed(send):
    home = household(income=1_200_000)
    send(registration_xml(home))

    receipt = send(visit_xml(home.id, base_version=1, income=2_500_000))

    saved = households.get(home.id)
    assert (receipt.result, saved.version, receipt.household_version) == ("accepted", 2, 2)
    assert saved.properties["income_per_person"] == "2500000"
    assert saved.properties["head_name"] == "Lò Văn Minh"  # untouched by the visit
    version = db.session.scalars(
        sa.select(HouseholdVersion).where(HouseholdVersion.version == 2)
    ).one()
    assert version.base_version == 1 and "income_per_person" in version.changes
    assert "head_name" not in version.changes


def test_h3_h5_a_stale_update_is_merged_and_one_for_an_unknown_household_waits(send):
    """The merge itself is proven in tests/integration/households/test_merge.py."""
    home = household()
    send(registration_xml(home))
    send(visit_xml(home.id, base_version=1, income=2_000_000))

    stale = send(visit_xml(home.id, base_version=1, income=900_000))
    unknown = send(visit_xml("5a7c9a1e-0000-4000-8000-000000000001", base_version=1))

    assert (stale.result, unknown.result) == ("accepted", "accepted")  # stored, never lost
    held = {
        (p.household_id, p.reason, p.base_version)
        for p in db.session.scalars(sa.select(PendingHouseholdUpdate))
    }
    assert held == {("5a7c9a1e-0000-4000-8000-000000000001", "unknown_household", 1)}
    saved = households.get(home.id)
    assert (saved.version, stale.household_version, saved.open_conflicts) == (3, 3, 1)


def test_a_cadre_sending_for_a_place_outside_their_area_is_quarantined(send):
    home = household(village="03316_01")  # commune b: cadre_b's village

    refused = send(registration_xml(home), username="cadre_a")
    accepted = send(registration_xml(household(village="03316_01")), username="cadre_b")
    admin = send(registration_xml(household(village="03316_02")), username="admin")

    assert (refused.result, refused.status, refused.problem.code) == ("quarantined", 403, "403.3")
    assert "Bản Một" in refused.problem.message("vi")
    assert (accepted.result, admin.result) == ("accepted", "accepted")
    assert households.get(home.id) is None and count(QuarantineItem) == 1


def test_a_visit_belongs_where_its_household_is(send):
    home = household(village="03316_01")
    send(registration_xml(home), username="cadre_b")

    refused = send(visit_xml(home.id, base_version=1), username="cadre_a")
    accepted = send(visit_xml(home.id, base_version=1), username="cadre_b")

    assert (refused.problem.code, accepted.result) == ("403.3", "accepted")
    stored = db.session.get(Submission, accepted.submission_id)
    assert stored.village_id == households.get(home.id).village_id


def test_unreadable_xml_is_quarantined_but_hostile_xml_is_refused_unstored(send):
    broken = send(b"<data id='giupho_household_registration'><unclosed></data>")
    bomb = send(
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><data>&b;</data>'
    )
    external = send(
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<data>&x;</data>"
    )

    assert (broken.result, broken.status, broken.problem.code) == ("quarantined", 400, "400.7")
    for hostile in (bomb, external):
        assert (hostile.result, hostile.status, hostile.quarantine_id) == ("refused", 400, None)
    assert count(QuarantineItem) == 1 and count(Submission) == 0


def test_a_body_over_the_limit_is_refused_without_storing(send, app):
    app.config["MAX_SUBMISSION_BYTES"] = 8192
    xml = registration_xml(household())
    photo = IncomingAttachment("house.jpg", "image/jpeg", b"x" * (8192 - len(xml) + 1))

    receipts = [send(xml + b" " * 8192), send(xml, attachments=[photo])]

    for receipt in receipts:
        assert (receipt.result, receipt.status, receipt.problem.code) == ("refused", 413, "413.1")
    assert count(QuarantineItem) == 0 and count(Submission) == 0 and count(Attachment) == 0


def test_json_answers_and_xml_of_the_same_visit_are_one_submission(send, ctx):
    xml = registration_xml(household())
    parsed = parse_submission(xml)
    item = {
        "instance_id": parsed.instance_id,
        "form_id": parsed.form_id,
        "version": parsed.version,
        "answers": to_answers(parsed.root, registration_form()),
        "device_time": "2026-11-21T09:00:00+07:00",
        "clock_offset_ms": 2000,
    }
    user = users.find("cadre_a")

    first = ingest.receive_answers(item, user=user)
    again = send(xml)

    assert (first.result, again.result) == ("accepted", "duplicate")
    stored = db.session.get(Submission, first.submission_id)
    assert stored.payload.content_type == "application/json"
    assert json.loads(stored.payload.body)["instance_id"] == parsed.instance_id
    assert stored.clock_offset_seconds == 2.0


def test_json_items_that_cannot_be_read_are_quarantined(ctx):
    user = users.find("cadre_a")
    answers = to_answers(parse_submission(registration_xml(household())).root)
    differing = {
        "instance_id": new_id(),
        "form_id": "giupho_household_registration",
        "version": REGISTRATION_VERSION,
        "answers": answers,
    }

    receipts = [
        ingest.receive_answers(["not", "an", "object"], user=user),
        ingest.receive_answers({"answers": {}}, user=user),
        ingest.receive_answers(differing, user=user),
    ]

    assert [(r.result, r.status) for r in receipts] == [("quarantined", 400)] * 3
    assert "meta/instanceID" in receipts[2].problem.message("en")
    # Each says why in the cadre's language (the server's catalogue), and that it was kept.
    said = [(r.problem.message("en"), r.problem.message("vi")) for r in receipts]
    assert "a push item must be a JSON object." in said[0][0]
    assert "mỗi mục gửi phải là một đối tượng JSON." in said[0][1]
    assert "a push item needs 'form_id' and 'answers'." in said[1][0]
    assert "mỗi mục gửi cần 'form_id' và 'answers'." in said[1][1]
    assert "'instance_id' differs from meta/instanceID in the answers" in said[2][0]
    assert "'instance_id' khác meta/instanceID trong câu trả lời" in said[2][1]
    assert all("do not send it again" in en and "đừng gửi lại" in vi for en, vi in said)
    assert count(QuarantineItem) == 3


def test_attachments_are_stored_once_by_content_and_accumulate_over_split_posts(send, app):
    xml = registration_xml(household())
    photo, audio = b"\xff\xd8 photo bytes", b"ID3 audio bytes"

    first = send(
        xml, attachments=[IncomingAttachment("house.jpg", "image/jpeg", photo)], incomplete=True
    )
    second = send(
        xml,
        attachments=[
            IncomingAttachment("house.jpg", "image/jpeg", photo),
            IncomingAttachment("../../note.amr", "audio/amr", audio),
        ],
    )

    assert (first.result, first.attachments_added) == ("accepted", 1)
    assert (second.result, second.attachments_added) == ("duplicate", 1)
    rows = db.session.scalars(sa.select(Attachment).order_by(Attachment.filename)).all()
    assert [(a.filename, a.size) for a in rows] == [("house.jpg", len(photo)), ("note.amr", 15)]
    assert rows[0].sha256 == hashlib.sha256(photo).hexdigest()
    assert attachments.read(rows[0].storage_path) == photo
    assert rows[0].storage_path.endswith(rows[0].sha256)


def test_quarantined_attachments_are_kept_and_come_back_on_reprocessing(send):
    xml = registration_xml(household()).replace(
        f'version="{REGISTRATION_VERSION}"'.encode(), b'version="2027"'
    )
    photo = b"photo of a house"
    receipt = send(xml, attachments=[IncomingAttachment("house.jpg", "image/jpeg", photo)])

    item = db.session.get(QuarantineItem, receipt.quarantine_id)
    assert [a["filename"] for a in item.details["attachments"]] == ["house.jpg"]
    load_version("2027")  # publishing processes it, with its attachment

    stored = db.session.scalars(sa.select(Attachment)).one()
    assert attachments.read(stored.storage_path) == photo
    assert quarantine.reprocess_quarantine(item.id).result == "duplicate"  # idempotent


def test_the_entity_list_is_the_scope_s_households_and_its_hash_moves_only_with_it(send):
    a1, b1 = household(village="03325_01"), household(village="03316_01", head_name="Vàng A Páo")
    send(registration_xml(a1))
    send(registration_xml(b1), username="cadre_b")
    cadre_a, cadre_b = users.find("cadre_a"), users.find("cadre_b")

    listed = household_lists.entity_list(cadre_a).decode().splitlines()
    assert listed[0].startswith("name,label,__version,")
    assert [line.split(",")[:3] for line in listed[1:]] == [[a1.id, "Lò Văn Minh (1980)", "1"]]
    before_a, before_b = household_lists.entity_list(cadre_a), household_lists.entity_list(cadre_b)
    send(visit_xml(b1.id, base_version=1), username="cadre_b")
    assert household_lists.entity_list(cadre_a) == before_a  # cadre_a's list did not change
    assert household_lists.entity_list(cadre_b) != before_b


def test_integrity_says_deleted_only_for_closed_or_merged_households_in_scope(send):
    home, other = household(), household(village="03316_01")
    send(registration_xml(home))
    send(registration_xml(other), username="cadre_b")
    for hid in (home.id, other.id):
        db.session.execute(sa.update(Household).where(Household.id == hid).values(status="merged"))

    states = household_lists.deleted_states(
        users.find("cadre_a"), [home.id.upper(), other.id, "not-yet-here"]
    )

    assert states == {home.id.upper(): True, other.id: False, "not-yet-here": False}


def test_the_in_memory_scope_checks_agree_with_the_scope_service(ctx, make_user):
    units = db.session.scalars(sa.select(AdminUnit).order_by(AdminUnit.path)).all()
    people = [users.find(name) for name in ("cadre_a", "cadre_b", "official_a", "admin")]
    people.append(users.find(make_user("coordinator", Role.COORDINATOR, "11")))
    people.append(users.find(make_user("nobody", Role.CADRE)))
    people.append(agency_lead_of(make_user, "11/03316"))
    for unit in units:
        forms.upload(one_question_form(f"form_{unit.id}"), "f.xml", None, unit=unit)
        forms.publish(None, f"form_{unit.id}", "1")
    visible_sql = {
        (person.id, form.form_id)
        for person in people
        for form in db.session.scalars(scope.forms(person))
    }
    for person in people:
        paths = {u.path for u in person.units}
        for unit in units:
            village = unit.level == UnitLevel.VILLAGE
            place = submission_places.Place(
                unit.id if village else None, unit.parent_id if village else unit.id
            )
            expected = db.session.scalar(scope.in_scope(person, unit)) or (
                not village and any(p.startswith(unit.path + "/") for p in paths)
            )
            if unit.level != UnitLevel.PROVINCE:
                assert submission_places.allowed(person, place) == expected, (person, unit)
            assert submission_places.form_visible(person, unit.id) == (
                (person.id, f"form_{unit.id}") in visible_sql
            ), (person, unit)


def agency_lead_of(make_user, unit_path: str):
    """The lead of an agency assigned to the unit at `unit_path` since 2021 (their scope)."""
    import datetime as dt

    from server.models import Agency, AgencyAssignment
    from server.services.programme import units as admin_units

    lead = users.find(make_user("truong.doan", Role.AGENCY_LEAD))
    agency = Agency(code="SNN", name="Sở Nông nghiệp", lead_id=lead.id)
    db.session.add(agency)
    db.session.flush()
    lead.agency_id = agency.id
    unit = admin_units.find(unit_path)
    db.session.add(AgencyAssignment(agency=agency, unit=unit, starts_on=dt.date(2021, 1, 1)))
    db.session.commit()
    return lead


def one_question_form(form_id: str) -> bytes:
    """The XForm of a one-question form called `form_id`, version 1."""
    markdown = f"""
| survey   |         |           |         |
|          | type    | name      | label   |
|          | text    | note_text | Ghi chú |
| settings |         |           |         |
|          | form_id | version   |         |
|          | {form_id} | 1       |         |
"""
    return load_form(markdown, "form.md").xform


def json_item(xml: bytes, **extra) -> dict:
    """The JSON push item of a submission given as XML."""
    parsed = parse_submission(xml)
    model = registration_form() if "registration" in (parsed.form_id or "") else visit_form()
    return {
        "instance_id": parsed.instance_id,
        "form_id": parsed.form_id,
        "version": parsed.version,
        "answers": to_answers(parsed.root, model),
        **extra,
    }


def mixed_batch(send) -> list:
    """A batch with every kind of item, some depending on earlier ones; fresh ids each call."""
    a, b, c = household(), household(head_name="Lò Văn Bình"), household(head_name="Lò Văn Cường")
    send(registration_xml(c))  # registered before the batch
    reg_a, reg_b = registration_xml(a), registration_xml(b)
    unknown = registration_xml(household()).replace(
        f'version="{REGISTRATION_VERSION}"'.encode(), b'version="1"'
    )
    conflicting = registration_xml(b, parse_submission(reg_b).instance_id, head_name="Khác")
    return [
        json_item(reg_a),  # new
        json_item(reg_b),  # new
        json_item(reg_a),  # the same again: a resend within the batch
        json_item(visit_xml(a.id, 1)),  # updates what item 0 created
        json_item(visit_xml(c.id, 1)),  # updates a household registered earlier
        json_item(visit_xml(c.id, 1, income=900_000)),  # the same base again: merged
        json_item(unknown),  # unknown version: quarantined
        json_item(registration_xml(household(), q_latrine="golden")),  # invalid
        json_item(registration_xml(household(village="03316_01"))),  # outside the area
        json_item(conflicting),  # conflicts with item 1
        ["not", "an", "object"],
        {"xml": visit_xml(b.id, 1).decode()},  # XML inside JSON, on item 1's household
    ]


def outcome(receipt: ingest.Receipt) -> tuple:
    code = receipt.problem.code if receipt.problem else None
    return (receipt.result, receipt.status, code, receipt.household_version)


def test_a_batch_answers_exactly_what_its_items_would_answer_one_by_one(send, ctx):
    user = users.find("cadre_a")
    device = db.session.scalar(sa.select(Device).where(Device.user_id == user.id))

    grouped = ingest_batch.receive_batch(mixed_batch(send), user=user, device=device)
    one_by_one = [
        ingest.receive_answers(item, user=user, device=device) for item in mixed_batch(send)
    ]

    assert [outcome(r) for r in grouped] == [outcome(r) for r in one_by_one]
    assert [outcome(r)[:2] for r in grouped] == [
        ("accepted", 201),
        ("accepted", 201),
        ("duplicate", 202),
        ("accepted", 201),
        ("accepted", 201),
        ("accepted", 201),
        ("quarantined", 404),
        ("invalid", 201),
        ("quarantined", 403),
        ("conflict", 409),
        ("quarantined", 400),
        ("accepted", 201),
    ]
    assert [r.household_version for r in grouped[3:6]] == [2, 2, 3]
    assert count(Submission) == 2 * (7 + 1)  # 7 stored items a batch, and its household c
    assert count(PendingHouseholdUpdate) == 0  # the stale visit is merged, not held


def stale_visits(send, conflict: bool) -> tuple[list[str], list[dict]]:
    """Four households at version 2 (a first visit each) and a second visit of each made
    on version 1: a three-way merge apiece (H3), on the same property as the first visit
    when `conflict` (H7), and with a conflict already open on the household when not."""
    homes = [household(head_name=f"Lò Văn {name}") for name in ("An", "Bình", "Cường", "Dũng")]
    for home in homes:
        send(registration_xml(home))
        send(visit_xml(home.id, base_version=1, income=2_000_000))
        if not conflict:  # an earlier conflict, settled or kept by the visit below
            send(visit_xml(home.id, base_version=1, income=900_000))
    income = 3_000_000 if conflict else 2_000_000
    return [home.id for home in homes], [
        json_item(visit_xml(home.id, base_version=1, income=income + i))
        for i, home in enumerate(homes)
    ]


def household_outcome(household_ids: list[str]) -> list[tuple]:
    """What the households became: version, values, status and flags, the values of every
    version, and their conflicts (without submission ids: they differ between runs)."""
    found = []
    for household_id in household_ids:
        h = households.get(household_id)
        versions = db.session.scalars(
            sa.select(HouseholdVersion)
            .where(HouseholdVersion.household_id == household_id)
            .order_by(HouseholdVersion.version)
        ).all()
        conflicts = db.session.scalars(
            sa.select(HouseholdConflict)
            .where(HouseholdConflict.household_id == household_id)
            .order_by(HouseholdConflict.id)
        ).all()
        found.append((
            h.version, h.properties, h.label, h.status, h.open_conflicts, h.flagged,
            h.flag_reason,
            [(v.version, v.base_version, v.changes, v.sent) for v in versions],
            [(c.property, c.base_value, c.provisional, c.resolution_version,
              sorted(w["value"] for w in c.writes)) for c in conflicts],
        ))  # fmt: skip
    return found


class Undone(Exception):
    """Raised to roll a transaction back with what it found."""


@pytest.mark.parametrize("conflict", [True, False])
def test_h3_stale_visits_in_one_batch_merge_as_they_would_one_by_one(send, ctx, conflict):
    """A push batch merges its stale visits together (a few statements for all of them);
    each household ends exactly as when the same visits arrive one at a time, and a
    rebuild from the stored submissions finds no difference (H8)."""
    user = users.find("cadre_a")
    device = db.session.scalar(sa.select(Device).where(Device.user_id == user.id))
    household_ids, items = stale_visits(send, conflict)

    @transactional
    def grouped_then_rolled_back() -> None:
        receipts = ingest_batch.receive_batch(items, user=user, device=device)
        found = [outcome(r) for r in receipts], household_outcome(household_ids)
        raise Undone(found, household_rebuild.rebuild())

    with pytest.raises(Undone) as grouped:
        grouped_then_rolled_back()
    one_by_one = [ingest.receive_answers(item, user=user, device=device) for item in items]

    (receipts, outcomes), differences = grouped.value.args
    assert receipts == [outcome(r) for r in one_by_one]
    assert {version for *_, version in receipts} == {3 if conflict else 4}
    assert outcomes == household_outcome(household_ids)
    assert {households.get(i).open_conflicts for i in household_ids} == {1}  # on income
    assert differences == [] and household_rebuild.rebuild() == []


@pytest.mark.postgres_only
@pytest.mark.parametrize("idle_s, expected", [(0.0, 200), (3600.0, 503)])
def test_a_pooled_connection_the_database_dropped_is_replaced_once_it_sat_idle(
    database, tmp_path, idle_s, expected
):
    """No ping on every request (a round trip each): a pooled connection is checked only
    after `DB_PING_AFTER_IDLE_S`, and one the server dropped is then replaced unseen."""
    app = build_app(database, str(tmp_path), DB_PING_AFTER_IDLE_S=idle_s)
    try:
        with app.app_context():  # one pooled connection, back in the pool
            pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar()
            db.session.remove()
        killer = sa.create_engine(database)
        with killer.begin() as conn:  # a server restart, as the pooled connection sees it
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        killer.dispose()

        assert app.test_client().get("/api/v1/health").status_code == expected
    finally:
        dispose_app(app)
