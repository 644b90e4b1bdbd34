"""Receiving a submission (sync contract R1-R6), over OpenRosa and the JSON sync API alike.

Every test runs once per protocol (the `driver` fixture) and per database.
A submission is built with the shipped forms, sent as cadre_a's tablet would
send it, and the test then reads what the server stored.
"""

from __future__ import annotations

import io

import pytest

from server.models import ReviewState
from tests.integration.contract.drivers import JsonDriver, OpenRosaDriver
from tests.integration.contract.submissions import (
    edit_of,
    household_id,
    instance_id,
    issues,
    registration,
    registration_form,
    with_answer,
)
from tests.integration.helpers import basic

# -- R1 new ---------------------------------------------------------------------------------


def test_r1_new_submission_is_stored_and_answers_201(driver, records):
    household = registration()

    outcome = driver.submit(household)

    assert outcome.status == 201 and outcome.means("accepted")
    stored = records.submission(instance_id(household))
    assert stored.review_state == ReviewState.RECEIVED
    assert not stored.superseded and stored.root_id == instance_id(household)
    assert records.quarantine() == []
    assert records.household(household_id(household)).version == 1  # processed: H1
    assert records.sender(instance_id(household)) == ("cadre_a", "Tablet")


# -- R2 resend ------------------------------------------------------------------------------


def test_r2_resend_of_the_same_submission_is_a_duplicate(driver, records):
    household = registration()
    driver.submit(household)
    first = records.submission(instance_id(household))

    again = driver.submit(household)

    assert again.status == 202 and again.means("duplicate")
    if driver.name == "json":  # the original receipt (OpenRosa has no body to carry it)
        assert (again.submission_id, again.review_state) == (first.id, "received")
    (still,) = records.submissions()
    assert (still.id, still.canonical_hash, still.received_at) == (
        first.id,
        first.canonical_hash,
        first.received_at,
    )
    assert records.quarantine() == []


def test_r2_resend_in_other_whitespace_and_attribute_order_is_a_duplicate(driver, records):
    household = registration()
    driver.submit(household)

    again = driver.resend_reformatted(household)

    assert again.means("duplicate")
    assert len(records.submissions()) == 1 and records.quarantine() == []


# JSON attachments arrive with the resumable upload of contract C3 (the sync client issue).
@pytest.mark.protocols("openrosa")
def test_r2_resend_adds_the_attachment_the_first_delivery_lacked(driver, records):
    household = registration(house__house_photo="nha.jpg")
    driver.submit(household)
    assert records.attachments(instance_id(household)) == {}

    again = driver.submit(household, attachments={"nha.jpg": b"\xff\xd8photo-bytes"})

    assert again.status in (201, 202)
    assert records.attachments(instance_id(household)) == {"nha.jpg": 13}
    assert len(records.submissions()) == 1 and records.quarantine() == []


def test_r2_collect_split_submission_keeps_every_part(client, world, records):
    """Collect sends a large submission as several POSTs repeating the XML (odk-interop.md)."""
    collect = OpenRosaDriver(client, world.tokens["cadre_a"])
    household = registration(house__house_photo="nha.jpg")

    first = collect.submit(household, attachments={"nha.jpg": b"1" * 10}, incomplete=True)
    last = collect.submit(household, attachments={"so-ho-khau.jpg": b"2" * 20})

    assert first.status in (201, 202) and last.status in (201, 202)
    assert records.attachments(instance_id(household)) == {"nha.jpg": 10, "so-ho-khau.jpg": 20}
    assert len(records.submissions()) == 1


def test_r2_same_visit_over_openrosa_then_json_is_a_duplicate(client, world, records):
    household = registration()
    OpenRosaDriver(client, world.tokens["cadre_a"]).submit(household)

    again = JsonDriver(client, world.tokens["cadre_a"]).submit(household)

    assert again.status == 202 and again.result == "duplicate"
    assert len(records.submissions()) == 1


# -- R3 conflicting resend ------------------------------------------------------------------


def test_r3_conflicting_resend_is_quarantined(driver, records):
    household = registration()
    driver.submit(household)
    stored = records.submission(instance_id(household))
    conflicting = with_answer(household, "head/head_name", "Lò Văn Mình")

    outcome = driver.submit(conflicting)

    assert outcome.status == 409 and outcome.means("conflict")
    assert instance_id(household) in outcome.message  # the officer can tell which record
    (kept,) = records.quarantine(instance_id(household))
    assert kept.submission_id == stored.id  # linked to what the server already has
    assert "Lò Văn Mình".encode() in kept.payload
    assert kept.reason_code == "409.3" and kept.resolved_at is None
    (still,) = records.submissions()
    assert still.canonical_hash == stored.canonical_hash  # never applied silently
    assert driver.submit(household).means("duplicate")  # the original stays what it was
    assert len(records.submissions()) == 1 and len(records.quarantine()) == 1


# -- R4 edit --------------------------------------------------------------------------------


def test_r4_edit_of_the_current_version_supersedes_it(driver, records):
    original = registration()
    driver.submit(original)
    edited = edit_of(original, head__phone="0987654321")

    outcome = driver.submit(edited)

    assert outcome.status == 201 and outcome.means("accepted")
    old, new = records.submission(instance_id(original)), records.submission(instance_id(edited))
    assert old.superseded and not new.superseded
    assert new.deprecated_id == instance_id(original)
    assert new.root_id == instance_id(original)  # one logical record


def test_r4_edit_replaces_the_household_effects_of_the_old_version(driver, records):
    original = registration()
    driver.submit(original)
    assert records.household(household_id(original)).properties["phone"] == "0912345678"

    driver.submit(edit_of(original, head__phone="0987654321"))

    assert records.household(household_id(original)).properties["phone"] == "0987654321"


def test_r4_edit_chain_keeps_its_root(driver, records):
    original = registration()
    first_edit = edit_of(original, head__phone="0987654321")
    second_edit = edit_of(first_edit, head__phone="0911111111")
    for submission in (original, first_edit, second_edit):
        assert driver.submit(submission).status == 201

    rows = records.submissions()
    assert [r.superseded for r in rows] == [True, True, False]
    assert {r.root_id for r in rows} == {instance_id(original)}


def test_r4_edit_of_a_superseded_version_is_409_and_quarantined(driver, records):
    original = registration()
    driver.submit(original)
    driver.submit(edit_of(original, head__phone="0987654321"))
    late_edit = edit_of(original, head__phone="0911111111")  # another tablet edited the old one

    outcome = driver.submit(late_edit)

    assert outcome.status == 409 and outcome.means("conflict")
    (kept,) = records.quarantine(instance_id(late_edit))
    assert kept.reason_code == "409.4"
    assert b"0911111111" in kept.payload
    assert records.submissions(instance_id(late_edit)) == []
    assert len(records.submissions()) == 2


def test_r4_edit_of_an_unknown_record_is_404_and_quarantined(driver, records):
    orphan = edit_of(registration(), head__phone="0987654321")  # its original never arrived
    missing = orphan.child("meta").child("deprecatedID").text

    outcome = driver.submit(orphan)

    assert outcome.status == 404 and outcome.means("quarantined")
    assert missing in outcome.message
    (kept,) = records.quarantine(instance_id(orphan))
    assert kept.reason_code == "404.4"
    assert records.submissions() == []


# -- R5 unknown form or version ---------------------------------------------------------------


@pytest.mark.parametrize("form_id, version", [("giupho_unknown_form", "1"), (None, "2099010101")])
def test_r5_unknown_form_or_version_is_quarantined(driver, records, form_id, version):
    household = registration()
    household.attrs["version"] = version
    if form_id is not None:
        household.attrs["id"] = form_id
    shown_id = household.attrs["id"]

    outcome = driver.submit(household)

    assert outcome.status == 404 and outcome.means("quarantined")
    assert shown_id in outcome.message and version in outcome.message
    (kept,) = records.quarantine(instance_id(household))
    assert (kept.reason_code, kept.form_id, kept.form_version) == ("404.5", shown_id, version)
    assert records.submissions() == []


# -- R6 invalid against its form ----------------------------------------------------------------

BROKEN = {
    "head/head_birth_year": "nineteen eighty",  # wrong type
    "head/head_name": "",  # required
    "head/ethnicity": "martian",  # unknown choice
    "head/phone": "12345",  # constraint
}


def test_r6_invalid_submission_is_stored_with_issues(driver, records):
    household = registration()
    for path, value in BROKEN.items():
        household = with_answer(household, path, value)
    expected = {f"/data/{p}" for p in BROKEN}
    assert expected <= {i.path for i in issues(registration_form(), household)}

    outcome = driver.submit(household)

    assert outcome.status == 201 and outcome.means("invalid")
    stored = records.submission(instance_id(household))
    assert stored.review_state == ReviewState.HAS_ISSUES
    assert records.household(household_id(household)) is None  # not applied until reviewed
    if driver.name == "json":  # OpenRosa can only say 201: Collect must not resend
        assert expected <= {issue["path"] for issue in outcome.issues}
        assert all(issue["message"] and issue["message_vi"] for issue in outcome.issues)


def test_r6_unreadable_body_is_400_and_kept_in_quarantine(driver, records):
    body = b"<data id='giupho_household_registration'><head><head_name>L\xc3\xb2</head>"

    outcome = driver.submit(body)

    assert outcome.status == 400 and outcome.means("quarantined")
    assert outcome.message
    (kept,) = records.quarantine()
    assert kept.payload == body
    assert records.submissions() == []


def test_r6_oversize_submission_is_413(driver, records, app):
    app.config["MAX_SUBMISSION_BYTES"] = 4096
    app.config["SYNC_MAX_BYTES"] = 4096
    household = registration(place__address="x" * 5000)

    outcome = driver.submit(household)

    assert outcome.status == 413
    assert records.submissions() == []


def test_r5_quarantined_submission_is_processed_once_its_version_is_loaded(driver, records, client):
    new_version = "2099010101"
    household = registration()
    household.attrs["version"] = new_version
    assert driver.submit(household).status == 404

    xform = registration_form().xform.replace(
        f'version="{registration_form().version}"'.encode(), f'version="{new_version}"'.encode()
    )
    admin = basic("admin")
    upload = client.post(
        "/api/v1/forms",
        data={"file": (io.BytesIO(xform), "registration.xml")},
        headers=admin,
        content_type="multipart/form-data",
    )
    assert upload.status_code == 201, upload.get_json()
    published = client.post(
        f"/api/v1/forms/{registration_form().form_id}/versions/{new_version}/publish",
        headers=admin,
    )
    assert published.status_code == 200, published.get_json()

    stored = records.submission(instance_id(household))
    assert stored.review_state == ReviewState.RECEIVED
    (kept,) = records.quarantine(instance_id(household))
    assert kept.resolved_at is not None  # kept for the record, marked as processed
