"""The JSON sync API v1: batches pushed through ingest, pages pulled from the caller's scope,
digests compared (sync contract R1-R6 per item, P1-P4, C2, C5)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import sqlite3
import threading
from collections import Counter

import pytest
import sqlalchemy as sa

from forms.instance import to_xml
from server.db import db
from server.models import (
    Device,
    Household,
    HouseholdStatus,
    QuarantineItem,
    ReviewState,
    Submission,
)
from server.services import audit
from server.services.access import users
from server.services.forms import publishing as form_service
from server.services.programme import units as admin_units
from server.services.sync import changes
from server.services.sync import exchange as sync_service
from sync import protocol
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import (
    household_id,
    instance_id,
    registration,
    registration_form,
    visit,
)
from tests.integration.contract.tablet import Tablet, settle
from tests.integration.database import build_app, dispose_app
from tests.integration.helpers import bearer
from tests.integration.live import FormPlaces, World, shipped_world

PUSH, PULL, DIGEST = "/api/v1/sync/push", "/api/v1/sync/pull", "/api/v1/sync/digest"


@pytest.fixture
def world(app) -> World:
    with app.app_context():
        return shipped_world()


@pytest.fixture
def push(client, world):
    """POST a batch as `username`'s tablet; `body` replaces the JSON, `gzipped` compresses it."""

    def push(*items, username="cadre_a", body=None, gzipped=False, headers=None):
        data = json.dumps({"items": list(items)} if body is None else body).encode()
        sent = {"Content-Type": "application/json", **bearer(world.tokens[username])}
        if gzipped:
            data, sent["Content-Encoding"] = gzip.compress(data), "gzip"
        return client.post(PUSH, data=data, headers=sent | (headers or {}))

    return push


@pytest.fixture
def tablet_of(client, world, app):
    def tablet_of(username: str = "cadre_a", cursor: str | None = None) -> Tablet:
        return Tablet(client, world.tokens[username], cursor=cursor, settle=lambda: settle(app))

    return tablet_of


@pytest.fixture
def token(places, make_user, make_device) -> str:
    """A cadre's device token, for tests that need a caller but no forms or households."""
    make_user("cadre", "cadre", places.village_a1)
    return make_device("cadre")


def results(response) -> list[dict]:
    """The per-item results, after checking the body is a valid PushResponse."""
    assert response.status_code == 200, response.get_json()
    protocol.PushResponseSchema().load(response.get_json())
    return response.get_json()["results"]


def register_item(village: str = FormPlaces.village_a1, **answers) -> dict:
    return answers_item(registration(village=FormPlaces.answer(village), **answers))


def stored(app, model=Submission) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


# -- push ------------------------------------------------------------------------------------


def test_push_answers_every_result_kind_one_per_item_in_order(push, app):
    first = register_item()
    changed = register_item(head_name="Hoàng Văn Páo", instance_id=first["instance_id"])
    invalid = register_item(head__phone="123")
    unknown_version = register_item() | {"version": "1999010101"}
    app.config["MAX_SUBMISSION_BYTES"] = 1500  # the XML item below is larger
    too_large = {"xml": to_xml(registration()).decode()}

    got = results(push(first, first, changed, invalid, unknown_version, "garbage", too_large))

    assert [(r["result"], r["status"], r["code"]) for r in got] == [
        ("accepted", 201, None),
        ("duplicate", 202, None),
        ("conflict", 409, "409.3"),
        ("invalid", 201, None),
        ("quarantined", 404, "404.5"),
        ("quarantined", 400, "400.7"),
        ("refused", 413, "413.1"),
    ]
    assert got[1]["submission_id"] == got[0]["submission_id"] == got[2]["submission_id"]
    assert got[2]["quarantine_id"] and got[4]["quarantine_id"] and got[5]["quarantine_id"]
    assert got[3]["review_state"] == "has_issues"
    assert any(issue["path"].endswith("/phone") for issue in got[3]["issues"])
    assert "1999010101" in got[4]["message"]  # the officer learns which version is missing
    assert stored(app) == 2 and stored(app, QuarantineItem) == 3


def test_resending_a_whole_batch_gives_duplicates_with_the_original_receipts(push, app):
    batch = [register_item(), register_item(FormPlaces.village_a2, head_name="Vàng Thị Dế")]
    first = results(push(*batch))

    again = results(push(*batch))

    assert [r["result"] for r in first] == ["accepted", "accepted"]
    assert [r["result"] for r in again] == ["duplicate", "duplicate"]
    assert [(r["submission_id"], r["received_at"]) for r in again] == [
        (r["submission_id"], r["received_at"]) for r in first
    ]
    assert stored(app) == 2


def test_gzip_batches_are_read_and_english_is_answered_when_asked(push):
    got = results(push(register_item(), "garbage", gzipped=True, headers={"Accept-Language": "en"}))

    assert [r["result"] for r in got] == ["accepted", "quarantined"]
    assert got[1]["message"].startswith("The submission could not be read")


def test_a_gzip_bomb_is_refused_before_it_fills_memory(client, token, app):
    app.config["SYNC_MAX_BYTES"] = 1024 * 1024
    bomb = gzip.compress(b'{"items": [' + b" " * (50 * 1024 * 1024) + b"]}")
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/json"}

    response = client.post(PUSH, data=bomb, headers=headers | bearer(token))

    assert len(bomb) < 100_000
    assert response.status_code == 413 and response.json["code"] == "413.1"


@pytest.mark.parametrize(
    ("headers", "data", "status", "code"),
    [
        ({"Content-Encoding": "gzip"}, b"not gzip at all", 400, "400.1"),
        ({"Content-Encoding": "br"}, b"{}", 415, "415.1"),
        ({"Content-Type": "text/plain"}, b'{"items": []}', 415, "415.1"),
        ({}, b'{"items": [', 400, "400.1"),
        ({}, b'{"items": "all of them"}', 400, "400.3"),
        ({}, b'{"things": []}', 400, "400.2"),
        ({}, b"[]", 400, "400.3"),
    ],
)
def test_unreadable_batches_are_refused_with_a_problem(client, token, headers, data, status, code):
    sent = {"Content-Type": "application/json", **bearer(token)} | headers

    response = client.post(PUSH, data=data, headers=sent)

    assert (response.status_code, response.json["code"]) == (status, code)
    assert set(response.json) == {"code", "message", "details"}


def test_batches_over_the_item_or_byte_cap_are_refused_whole(push, app):
    app.config["SYNC_MAX_ITEMS"] = 2
    too_many = push(register_item(), register_item(), register_item())
    app.config["SYNC_MAX_ITEMS"], app.config["SYNC_MAX_BYTES"] = 100, 2000
    too_big = push(register_item(), gzipped=True)

    assert (too_many.status_code, too_many.json["code"]) == (413, "413.3")
    assert "3" in too_many.json["message"] and "2" in too_many.json["message"]
    assert (too_big.status_code, too_big.json["code"]) == (413, "413.1")
    assert stored(app) == 0


def test_a_bad_item_among_good_ones_does_not_spoil_the_batch(push, app):
    good = [register_item(), register_item(FormPlaces.village_a2, head_name="Vàng Thị Dế")]

    got = results(push(good[0], 42, {"form_id": "giupho_household_registration"}, good[1]))

    assert [r["result"] for r in got] == ["accepted", "quarantined", "quarantined", "accepted"]
    assert stored(app) == 2 and stored(app, QuarantineItem) == 2


def test_a_server_fault_on_one_item_rolls_back_that_item_only(push, app, monkeypatch):
    """A fault that is not transient on one item rolls back that item only; the item is
    kept in quarantine as received with a final 400.14 (issue 13, finding 1), never left
    to be retried forever."""
    items = [register_item(), register_item(), register_item()]
    real = sync_service.ingest.accepted

    def fails_on_the_second(p, *args, **kwargs):
        receipt = real(p, *args, **kwargs)  # the item's rows are written, then the fault
        if p.instance_id == items[1]["instance_id"]:
            raise RuntimeError("disk full")
        return receipt

    # `accepted` ends both the grouped path and the one-by-one path of an item.
    monkeypatch.setattr(sync_service.ingest, "accepted", fails_on_the_second)
    got = results(push(*items))

    assert [(r["result"], r["status"]) for r in got] == [
        ("accepted", 201),
        ("quarantined", 400),
        ("accepted", 201),
    ]
    with app.app_context():
        kept = set(db.session.scalars(sa.select(Submission.instance_id)))
        quarantined = db.session.scalars(sa.select(QuarantineItem)).one()
        assert (quarantined.reason_code, quarantined.instance_id) == (
            "400.14",
            items[1]["instance_id"],
        )
        assert json.loads(quarantined.payload) == items[1]  # as received
    assert kept == {items[0]["instance_id"], items[2]["instance_id"]}


def test_a_batch_is_stored_with_grouped_writes_not_item_by_item(push, app):
    """Throughput (issue 3): a push of N new submissions inserts them with one statement
    (and their payloads and audit rows with one each), not N of each in N savepoints."""
    items = [register_item(head_name=f"Lò Văn {n}", head__phone=f"09{n:08d}") for n in range(6)]
    statements = []

    def seen(_conn, _cursor, statement, _parameters, _context, _executemany):
        statements.append(" ".join(statement.split()).upper())

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        got = results(push(*items))
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)

    assert [r["result"] for r in got] == ["accepted"] * len(items)
    into = Counter(s.split()[2] for s in statements if s.startswith("INSERT INTO"))
    # On PostgreSQL the submissions' INSERT is one statement with their claims' (R7).
    into["SUBMISSIONS"] += len([s for s in statements if s.startswith("WITH GIVEN AS")])
    assert into["SUBMISSIONS"] == into["SUBMISSION_PAYLOADS"] == into["AUDIT_EVENTS"] == 1
    # The batch's savepoint and its grouped insert's, not one per item.
    assert len([s for s in statements if s.startswith("SAVEPOINT")]) <= 2


@pytest.mark.sqlite_only
def test_r7_a_push_waits_for_a_busy_sqlite_writer_instead_of_failing(database, world, tmp_path):
    """Another worker holds SQLite's write lock longer than the busy timeout: the push waits
    (a slower answer), it is not refused with 503 ("every delivery gets a success answer")."""
    url = sa.engine.make_url(database)
    app = build_app(database, str(tmp_path / "busy"), SQLITE_BUSY_TIMEOUT_MS=50)
    other_worker = sqlite3.connect(url.database, isolation_level=None, check_same_thread=False)
    other_worker.execute("BEGIN IMMEDIATE")
    releases = threading.Timer(0.6, other_worker.rollback)  # 12 busy timeouts later
    item = register_item()
    try:
        releases.start()
        response = app.test_client().post(
            PUSH, json={"items": [item]}, headers=bearer(world.tokens["cadre_a"])
        )
    finally:
        releases.join()
        other_worker.close()
        dispose_app(app)

    assert [r["result"] for r in results(response)] == ["accepted"]


def test_a_revoked_or_missing_token_is_refused(client, world):
    revoked = client.post(PUSH, json={"items": []}, headers=bearer(world.revoked_token))
    anonymous = client.post(PUSH, json={"items": []})

    assert (revoked.status_code, revoked.json["code"]) == (401, "401.2")
    assert (anonymous.status_code, anonymous.json["code"]) == (401, "401.1")


def test_the_device_clock_offset_and_time_are_recorded_with_each_visit(push, app, world):
    item = register_item() | {"device_time": "2026-03-01T08:40:00+07:00", "clock_offset_ms": -90500}

    results(push(item))

    with app.app_context():
        kept = db.session.scalar(sa.select(Submission))
        assert kept.clock_offset_seconds == pytest.approx(-90.5)
        assert kept.device_time == dt.datetime(2026, 3, 1, 1, 40, tzinfo=dt.UTC)
        device = db.session.get(Device, kept.device_id)
        assert (device.name, device.user.username) == ("Tablet", "cadre_a")


# -- pull ------------------------------------------------------------------------------------


def test_a_first_pull_is_a_paged_snapshot_and_a_page_can_be_fetched_again(push, tablet_of):
    items = [register_item(head_name=f"Lò Văn {n}") for n in "ABCDE"]
    results(push(*items))
    tablet = tablet_of()

    first = tablet.fetch(limit=3)
    tablet.apply(first)
    second, again = tablet.fetch(limit=3), tablet.fetch(limit=3)  # the link dropped: ask again
    assert (again["changes"], again["cursor"]) == (second["changes"], second["cursor"])
    tablet.sync(limit=3)

    delivered = [(c["kind"], c["id"]) for page in tablet.pages for c in page]
    assert first["has_more"] and len(delivered) == len(set(delivered))
    assert {household_id_of(i) for i in items} == set(tablet.households)
    assert {("giupho_household_registration", registration_form().version)} <= (
        tablet.form_versions()
    )


def household_id_of(item: dict) -> str:
    return item["answers"]["meta"]["entity"]["@id"]


def test_a_cadre_never_sees_another_villages_households_even_as_they_change(push, tablet_of, world):
    theirs = register_item(FormPlaces.village_b1)
    results(push(theirs, username="cadre_b"))
    tablet = tablet_of("cadre_a").sync()
    hid = household_id_of(theirs)
    results(push(answers_item(visit(hid, base_version=1)), username="cadre_b"))

    seen = [c["id"] for page in tablet.sync().pages for c in page]

    assert hid not in seen and tablet.households == {}
    assert hid in tablet_of("cadre_b").sync().households


def test_a_moved_official_drops_the_old_commune_and_receives_the_new(push, tablet_of, app, world):
    old = register_item(FormPlaces.village_a1)
    new = register_item(FormPlaces.village_b1, head_name="Hoàng Văn Páo")
    results(push(old))
    results(push(new, username="cadre_b"))
    tablet = tablet_of("official_a").sync()
    assert set(tablet.households) == {household_id_of(old)}

    with app.app_context():
        users.set_scope(users.find("official_a"), [admin_units.find(world.places.commune_b)])
    tablet.sync(limit=1)

    assert set(tablet.households) == {household_id_of(new)}
    removals = [c for page in tablet.pages for c in page if c["kind"] == "removal"]
    assert [(c["id"], c["data"]["kind"]) for c in removals] == [(household_id_of(old), "household")]


def test_a_cadre_given_another_village_receives_it_and_drops_nothing(push, tablet_of, app, world):
    theirs, more = register_item(FormPlaces.village_b1), register_item(FormPlaces.village_a1)
    results(push(theirs, username="cadre_b"))
    results(push(more))
    tablet = tablet_of("cadre_b").sync()
    paths = (world.places.village_b1, world.places.village_a1)

    with app.app_context():
        users.set_scope(users.find("cadre_b"), [admin_units.find(p) for p in paths])
    tablet.sync()

    assert set(tablet.households) == {household_id_of(theirs), household_id_of(more)}
    assert all(c["kind"] != "removal" for page in tablet.pages for c in page)


def test_closing_a_form_version_reaches_tablets_and_forms_download_by_their_url(
    tablet_of, client, world, app
):
    tablet = tablet_of().sync()
    form = registration_form()
    key = f"{form.form_id}@{form.version}"
    url = tablet.forms[key]["download_url"]
    xform = client.get(url, headers=bearer(world.tokens["cadre_a"]))
    assert xform.status_code == 200 and xform.mimetype == "text/xml"
    assert f"md5:{hashlib.md5(xform.data).hexdigest()}" == tablet.forms[key]["hash"]
    with app.app_context():  # a draft is for form managers only, even by its address
        draft = form.xform.replace(f'version="{form.version}"'.encode(), b'version="2099"')
        form_service.upload(draft, "draft.xml", None)
    draft_url = url.replace(form.version, "2099")
    assert client.get(draft_url, headers=bearer(world.tokens["cadre_a"])).status_code == 404

    with app.app_context():
        form_service.close(None, form.form_id, form.version)
    tablet.sync()

    assert key not in tablet.forms
    assert tablet.pages[-1] == [{"kind": "form", "id": key, "op": "delete", "data": None}]


def test_a_returned_submission_reaches_its_cadre_with_the_reviewers_comment(push, tablet_of, app):
    item = register_item()
    (receipt,) = results(push(item))
    tablet = tablet_of().sync()
    with app.app_context():  # what the review site will do when an official returns it
        submission = db.session.get(Submission, receipt["submission_id"])
        submission.review_state = ReviewState.RETURNED
        audit.record(None, "submission.return", submission, comment="Thiếu ảnh nhà ở")
        changes.record("review_return", str(submission.id), "upsert", submission.village_id)
        db.session.commit()

    (page,) = tablet.sync().pages[-1:]
    other = tablet_of("cadre_b").sync()

    assert [(c["kind"], c["id"], c["data"]["comment"]) for c in page] == [
        ("review_return", item["instance_id"], "Thiếu ảnh nhà ở")
    ]
    assert page[0]["data"]["returned_at"] and page[0]["data"]["review_state"] == "returned"
    assert all(c["kind"] != "review_return" for p in other.pages for c in p)


def test_a_merged_household_reaches_tablets_as_a_redirect_to_its_survivor(push, tablet_of, app):
    kept, absorbed = (household_id_of(i) for i in results_items(push, 2))
    tablet = tablet_of().sync()
    with app.app_context():  # what a reviewer's merge does (sync contract D3)
        household = db.session.get(Household, absorbed)
        household.status, household.merged_into_id = HouseholdStatus.MERGED, kept
        changes.record("household", absorbed, "upsert", household.village_id)
        db.session.commit()

    tablet.sync()
    newcomer = tablet_of().sync()  # a tablet starting today learns it from the snapshot

    redirect = {"kind": "redirect", "id": absorbed, "op": "upsert", "data": {"to": kept}}
    assert tablet.pages[-1] == [redirect] and set(tablet.households) == {kept}
    assert [c for p in newcomer.pages for c in p if c["kind"] == "redirect"] == [redirect]
    assert set(newcomer.households) == {kept}


def results_items(push, count: int) -> list[dict]:
    """Register `count` households in village a1 as cadre_a; returns the accepted items."""
    items = [register_item(head_name=f"Lò Văn {n}") for n in range(count)]
    assert [r["result"] for r in results(push(*items))] == ["accepted"] * count
    return items


def test_cursors_cannot_be_forged_or_used_by_another_user(tablet_of):
    cursor = tablet_of().sync().cursor
    forged = cursor[:-3] + ("AAA" if not cursor.endswith("AAA") else "BBB")

    for username, text in (("cadre_a", forged), ("cadre_b", cursor), ("cadre_a", "1.2")):
        response = tablet_of(username).client.get(
            PULL,
            query_string={"cursor": text},
            headers=bearer(tablet_of(username).token),
        )
        assert (response.status_code, response.json["code"]) == (400, "400.3"), username


@pytest.mark.parametrize(("limit", "status"), [("0", 400), ("many", 400), ("5000", 200)])
def test_page_size_is_checked_and_capped(client, token, limit, status):
    response = client.get(PULL, query_string={"limit": limit}, headers=bearer(token))
    assert response.status_code == status


# -- digest and time ---------------------------------------------------------------------------


def test_a_digest_of_ids_or_of_their_hash_agrees_with_the_server(push, tablet_of, client, world):
    results(push(register_item(), register_item(FormPlaces.village_a2, head_name="Vàng Thị Dế")))
    held = tablet_of().sync().held_versions()
    headers = bearer(world.tokens["cadre_a"])

    by_hash = client.post(
        DIGEST, json={"digest": protocol.households_digest(held)}, headers=headers
    )
    wrong = client.post(DIGEST, json={"digest": "0" * 64}, headers=headers)

    assert by_hash.json["resync"] is False and by_hash.json["cursor"] is None
    assert wrong.json["resync"] is True
    fresh = tablet_of(cursor=wrong.json["cursor"]).sync()
    assert fresh.held_versions() == held


def test_a_digest_with_a_cursor_ignores_what_the_tablet_has_not_pulled_yet(
    push, tablet_of, client, world, app
):
    item = register_item()
    results(push(item))
    tablet = tablet_of().sync()
    results(push(answers_item(visit(household_id_of(item), base_version=1))))  # now version 2
    settle(app)
    held, headers = tablet.held_versions(), bearer(world.tokens["cadre_a"])

    with_cursor = client.post(
        DIGEST, json={"households": held, "cursor": tablet.cursor}, headers=headers
    )
    without = client.post(DIGEST, json={"households": held}, headers=headers)

    assert (with_cursor.json["resync"], without.json["resync"]) == (False, True)


@pytest.mark.parametrize("body", [{}, {"households": {"x": "one"}}, {"digest": "short"}, [1, 2]])
def test_a_malformed_digest_is_a_400_3(client, token, body):
    response = client.post(DIGEST, json=body, headers=bearer(token))
    assert (response.status_code, response.json["code"]) == (400, "400.3")


def test_server_time_needs_no_login_and_is_aware_utc(client, app):
    before = dt.datetime.now(dt.UTC)
    response = client.get("/api/v1/sync/time")
    after = dt.datetime.now(dt.UTC)

    told = dt.datetime.fromisoformat(response.json["server_time"])
    assert response.status_code == 200 and before <= told <= after


def test_registration_instance_ids_survive_the_round_trip(push):
    root = registration()
    (got,) = results(push({"xml": to_xml(root).decode()}))
    assert (got["result"], got["instance_id"]) == ("accepted", instance_id(root))
    assert household_id(root)
