"""The local store: durable outbox (C1), results applied to it (C2), pulled pages (P1-P4)."""

from __future__ import annotations

import sqlite3

import pytest

from sync import protocol
from sync.client.store import Attachment, LocalStore, store_path


def _item(number: int, household: str | None = None) -> dict:
    return {
        "instance_id": f"uuid:00000000-0000-4000-8000-{number:012d}",
        "form_id": "giupho_household_visit",
        "version": "1",
        "answers": {"meta": {"instanceID": f"uuid:{number}"}},
    }


def _result(item: dict, result: str, **extra) -> protocol.PushResult:
    status = {"accepted": 201, "duplicate": 202, "conflict": 409, "invalid": 201,
              "error": 500, "refused": 413, "quarantined": 404}[result]  # fmt: skip
    return protocol.PushResult(item["instance_id"], result, status, **extra)


@pytest.fixture
def store(tmp_path):
    opened = LocalStore(tmp_path / "tablet.sqlite3")
    yield opened
    opened.close()


def test_c1_store_is_wal_with_full_sync(store):
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_c1_a_saved_visit_and_its_photo_are_committed_when_save_returns(store, tmp_path):
    item = _item(1)
    store.save(item, [Attachment("anh.jpg", b"\xff\xd8photo", "image/jpeg")])
    # Another connection (another process after a crash) sees it: it is committed.
    other = sqlite3.connect(tmp_path / "tablet.sqlite3")
    assert other.execute("SELECT instance_id, state FROM outbox").fetchall() == [
        (item["instance_id"], "pending")
    ]
    assert other.execute("SELECT data FROM outbox_files").fetchone()[0] == b"\xff\xd8photo"
    other.close()


def test_c1_saving_the_same_instance_again_keeps_the_first_copy(store):
    item = _item(1)
    first = store.save(item, [Attachment("anh.jpg", b"one")])
    again = store.save(item | {"version": "2"}, [Attachment("anh.jpg", b"two")])
    assert first == again
    assert [i.version for i in store.pending()] == ["1"]
    assert store.file_data(item["instance_id"], "anh.jpg") == b"one"


def test_c1_a_failed_save_leaves_nothing_half_written(store):
    item = _item(1)
    with pytest.raises(sqlite3.IntegrityError):  # the same file name twice: the save fails
        store.save(item, [Attachment("a.jpg", b"1"), Attachment("a.jpg", b"2")])
    assert store.pending() == []
    assert store.db.execute("SELECT count(*) FROM outbox_files").fetchone()[0] == 0


def test_c2_results_accepted_and_duplicate_leave_conflicts_and_invalid_stay(store):
    items = [_item(n) for n in range(6)]
    for item in items:
        store.save(item)
    results = [
        _result(items[0], "accepted"),
        _result(items[1], "duplicate"),
        _result(items[2], "conflict", code="409.3", message="Máy chủ đã nhận một bản gửi khác"),
        _result(items[3], "invalid", code=None, message=None),
        _result(items[4], "error", code="500.1"),
        _result(items[5], "refused", code="413.2"),
    ]
    store.apply_results(store.pending(), results)
    left = {i.instance_id: (i.state, i.code) for i in store.outbox()}
    assert left == {
        items[2]["instance_id"]: ("conflict", "409.3"),
        items[3]["instance_id"]: ("invalid", None),
        items[4]["instance_id"]: ("pending", "500.1"),  # a server fault: sent again
        items[5]["instance_id"]: ("refused", "413.2"),
    }
    assert [i.instance_id for i in store.pending()] == [items[4]["instance_id"]]
    assert store.outbox()[0].message == "Máy chủ đã nhận một bản gửi khác"
    assert store.get_meta("sent_total") == "2"


def test_c3_an_acknowledged_visit_stays_until_its_photo_is_uploaded(store):
    item = _item(1)
    store.save(item, [Attachment("anh.jpg", b"photo")])
    store.apply_results(store.pending(), [_result(item, "accepted")])
    assert store.pending() == []
    assert [f["filename"] for f in store.files_to_upload()] == ["anh.jpg"]
    store.file_uploaded(item["instance_id"], "anh.jpg")
    assert store.outbox() == [] and store.files_to_upload() == []


def test_c3_a_conflicts_photos_are_kept_not_uploaded(store):
    item = _item(1)
    store.save(item, [Attachment("anh.jpg", b"photo")])
    store.apply_results(store.pending(), [_result(item, "conflict")])
    assert store.files_to_upload() == []
    assert store.file_data(item["instance_id"], "anh.jpg") == b"photo"


def _household(hid: str, version: int = 1, **props) -> protocol.Change:
    data = {"id": hid, "dataset": "households", "version": version, "status": "active",
            "properties": props}  # fmt: skip
    return protocol.Change("household", hid, "upsert", data)


def test_p3_a_page_applies_with_its_cursor_or_not_at_all(store):
    store.apply_page([_household("h1")], "c1", {})
    broken = protocol.Change("no-such-kind", "x", "upsert", {})
    with pytest.raises(KeyError):
        store.apply_page([_household("h2"), broken], "c2", {})
    assert store.cursor == "c1"
    assert [h["id"] for h in store.households()] == ["h1"]


def test_p1_removal_drops_households_without_pending_edits_only(store):
    store.apply_page([_household("h1"), _household("h2")], "c1", {})
    store.save(_item(1), household_id="h2")
    gone = [
        protocol.Change("removal", hid, "delete", {"kind": "household"}) for hid in ("h1", "h2")
    ]
    store.apply_page(gone, "c2", {})
    assert [h["id"] for h in store.households()] == ["h2"]  # an unsent visit still needs it


def test_p1_redirect_rewrites_pending_references_to_the_survivor(store):
    store.apply_page([_household("absorbed"), _household("survivor")], "c1", {})
    store.save(_item(1), household_id="absorbed")
    store.apply_page(
        [protocol.Change("redirect", "absorbed", "upsert", {"to": "survivor"})], "c2", {}
    )
    assert store.pending()[0].household_id == "survivor"
    assert store.resolve("absorbed") == "survivor"
    assert [h["id"] for h in store.households()] == ["survivor"]


def test_p4_resync_drops_pulled_copies_but_keeps_those_with_unsent_edits(store):
    store.apply_page([_household("h1"), _household("h2")], "c1", {})
    store.save(_item(1), household_id="h1")
    store.reset_pulled("fresh")
    assert store.cursor == "fresh"
    assert [h["id"] for h in store.households()] == ["h1"]


def test_one_store_file_per_user_and_server(tmp_path):
    a = store_path(tmp_path, "http://127.0.0.1:5000", "cadre_a")
    b = store_path(tmp_path, "http://127.0.0.1:5000", "cadre_b")
    c = store_path(tmp_path, "https://giupho.example.vn/app", "cadre_a")
    assert len({a, b, c}) == 3 and all(p.parent == tmp_path for p in (a, b, c))


def test_c2_an_error_with_a_final_status_leaves_the_pending_items(store):
    """issue 13, finding 1: an "error" answered with a final 4xx is kept (refused) with the
    server's message, not sent again forever; a server fault (5xx) or a limit (429) stays
    pending for a retry."""
    items = [_item(n) for n in range(3)]
    for item in items:
        store.save(item)
    results = [
        protocol.PushResult(items[0]["instance_id"], "error", 400, "400.14", "Do not send it"),
        protocol.PushResult(items[1]["instance_id"], "error", 500, "500.1", "Try later"),
        protocol.PushResult(items[2]["instance_id"], "error", 429, "429.1", "Slow down"),
    ]
    store.apply_results(store.pending(), results)
    left = {i.instance_id: i.state for i in store.outbox()}
    assert left[items[0]["instance_id"]] == "refused"
    assert [i.instance_id for i in store.pending()] == [i["instance_id"] for i in items[1:]]
