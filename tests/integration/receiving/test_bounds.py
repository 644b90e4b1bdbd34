"""Bounds before work: what the database cannot hold is kept in quarantine with a final
answer, never a 500 that leaves the visit on the tablet (issue 13, findings 1, 2 and 4).

Every test runs on SQLite and PostgreSQL (the `app` fixture), through the HTTP API.
"""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from forms.instance import to_xml
from server.db import db
from server.models import QuarantineItem, Submission
from server.services.receiving import ingest
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import registration
from tests.integration.helpers import bearer
from tests.integration.live import shipped_world

LONG_ID = "uuid:" + "7" * 120


@pytest.fixture
def world(app):
    with app.app_context():
        return shipped_world()


def _push(client, token: str, items: list) -> list[dict]:
    response = client.post("/api/v1/sync/push", json={"items": items}, headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["results"]


def _bad_items() -> list[tuple[str, dict]]:
    """The three items of finding 1, each otherwise a valid registration."""
    long_id = answers_item(registration())
    long_id["instance_id"] = long_id["answers"]["meta"]["instanceID"] = LONG_ID
    nul = answers_item(registration())
    nul["form_id"] = "giupho_household_registration\x00"
    early = answers_item(registration(), device_time="0001-01-01T00:00:00+14:00")
    return [("400.10", long_id), ("400.11", nul), ("400.12", early)]


def _quarantined(app, quarantine_id: int) -> QuarantineItem:
    with app.app_context():
        item = db.session.get(QuarantineItem, quarantine_id)
        db.session.expunge(item)
        return item


def _payload(app, quarantine_id: int) -> bytes:
    with app.app_context():
        return db.session.scalar(
            sa.select(QuarantineItem.payload).where(QuarantineItem.id == quarantine_id)
        )


def _stored(app, instance_id: str) -> bool:
    with app.app_context():
        stmt = sa.select(Submission.id).where(Submission.instance_id == instance_id)
        return db.session.scalar(stmt) is not None


def test_push_items_out_of_bounds_are_quarantined_with_a_final_answer(app, client, world):
    """issue 13, finding 1: an instanceID over 100 characters, a NUL in form_id and a
    device_time that overflows in UTC are quarantined with their payload as received and
    answered 400 (final); the valid items of the same batch are stored (R1), and the server
    takes the next push."""
    token = world.tokens["cadre_a"]
    bad = _bad_items()
    valid = answers_item(registration(head_name="Lò Văn Hợp Lệ"))
    results = _push(client, token, [valid] + [item for _code, item in bad])
    assert (results[0]["result"], results[0]["status"]) == ("accepted", 201)
    assert _stored(app, valid["instance_id"])
    for (code, item), result in zip(bad, results[1:], strict=True):
        assert (result["result"], result["status"], result["code"]) == ("quarantined", 400, code)
        assert "do not send it again" in result["message"] or "đừng gửi lại" in result["message"]
        kept = _quarantined(app, result["quarantine_id"])
        assert kept.reason_code == code
        assert json.loads(_payload(app, result["quarantine_id"])) == item  # as received
    assert LONG_ID.encode() in _payload(app, results[1]["quarantine_id"])
    assert b"\\u0000" in _payload(app, results[2]["quarantine_id"])  # NUL kept, as sent
    again = answers_item(registration(head_name="Lò Văn Sau"))
    assert _push(client, token, [again])[0]["status"] == 201


def test_each_bad_item_alone_is_final_too(app, client, world):
    """issue 13, finding 1: alone in its batch (the item-by-item path), each is kept and
    answered 400 with the field to fix, in the cadre's language."""
    token = world.tokens["cadre_a"]
    for code, item in _bad_items():
        (result,) = _push(client, token, [item])
        assert (result["status"], result["code"]) == (400, code), result
    assert "instance_id" in _push(client, token, [_bad_items()[0][1]])[0]["message"]


def test_an_item_that_fails_unexpectedly_is_kept_not_retried(app, client, world, monkeypatch):
    """issue 13, finding 1 (last resort): an item that fails for a reason nothing checked is
    kept in quarantine as received and answered with a final 400.14; a transient database
    error stays retryable (500.1)."""
    token = world.tokens["cadre_a"]
    real = ingest.prepare

    def fails(parsed, d, *args, **kwargs):
        if parsed.instance_id == doomed["instance_id"]:
            raise ValueError("a fault nothing checked")
        if parsed.instance_id == locked["instance_id"]:
            raise sa.exc.OperationalError("INSERT", {}, Exception("database is locked"))
        return real(parsed, d, *args, **kwargs)

    monkeypatch.setattr(ingest, "prepare", fails)
    monkeypatch.setattr("server.services.receiving.batch.ingest.prepare", fails, raising=False)
    doomed = answers_item(registration(head_name="Lò Văn Lỗi"))
    locked = answers_item(registration(head_name="Lò Văn Khóa"))
    fine = answers_item(registration(head_name="Lò Văn Tốt"))
    results = _push(client, token, [doomed, locked, fine])
    assert (results[0]["result"], results[0]["status"], results[0]["code"]) == (
        "quarantined",
        400,
        "400.14",
    )
    assert json.loads(_payload(app, results[0]["quarantine_id"])) == doomed
    assert (results[1]["result"], results[1]["code"]) == ("error", "500.1")
    assert results[2]["status"] == 201 and _stored(app, fine["instance_id"])


def test_push_answers_too_deep_or_too_many_are_refused(app, client, world):
    """issue 13, finding 4: the JSON answers of a push item are bounded by the same settings
    as XML elements (413.4, 413.5), before any work."""
    token = world.tokens["cadre_a"]
    app.config["MAX_SUBMISSION_ELEMENTS"] = 2_000
    deep: dict = {}
    node = deep
    for _ in range(200):
        node["g"] = {}
        node = node["g"]
    item = answers_item(registration())
    item["answers"]["deep"] = deep
    (result,) = _push(client, token, [item])
    assert (result["result"], result["status"], result["code"]) == ("refused", 413, "413.5")
    wide = answers_item(registration())
    wide["answers"]["many"] = [""] * 5_000
    (result,) = _push(client, token, [wide])
    assert (result["status"], result["code"]) == (413, "413.4")
    assert "2000" in result["message"]


def _openrosa(client, token: str, xml: bytes):
    return client.post(
        f"/key/{token}/submission",
        data={"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")},
        headers={"X-OpenRosa-Version": "1.0"},
        content_type="multipart/form-data",
    )


def test_openrosa_instance_id_over_the_column_is_quarantined_with_400(app, client, world):
    """issue 13, finding 2: an OpenRosa submission whose instanceID is over 100 characters
    gets a 400 OpenRosa envelope that says what is wrong, is kept in quarantine, and the
    next submission is stored."""
    token = world.tokens["cadre_a"]
    household = registration()
    household.child("meta").child("instanceID").text = LONG_ID
    xml = to_xml(household)
    response = _openrosa(client, token, xml)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "OpenRosaResponse" in body and "meta/instanceID" in body
    with app.app_context():
        kept = db.session.scalars(
            sa.select(QuarantineItem).where(QuarantineItem.reason_code == "400.10")
        ).one()
        assert kept.payload == xml and kept.instance_id == LONG_ID[:100]
    assert _openrosa(client, token, to_xml(registration())).status_code == 201


def test_openrosa_element_bomb_and_deep_nesting_are_refused_cheaply(app, client, world):
    """issue 13, finding 4: 2 million empty elements (8 MB) and a deeply nested document are
    refused with 413 problems that say the limit, counted while streaming (nothing kept);
    the server takes the next submission."""
    token = world.tokens["cadre_a"]
    bomb = b'<data id="giupho_household_registration">' + b"<a/>" * 2_000_000 + b"</data>"
    response = _openrosa(client, token, bomb)
    assert response.status_code == 413
    limit = str(app.config["MAX_SUBMISSION_ELEMENTS"])
    assert limit in response.get_data(as_text=True)
    deep = b'<data id="giupho_household_registration">' + b"<g>" * 5000 + b"</g>" * 5000
    response = _openrosa(client, token, deep + b"</data>")
    assert response.status_code == 413
    assert str(app.config["MAX_SUBMISSION_DEPTH"]) in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(QuarantineItem.id))) == 0
    assert _openrosa(client, token, to_xml(registration())).status_code == 201


# -- the quick pass: the payload's bytes say when the walk would find nothing ------------


def _quick_and_walked(answers, elements: int, depth: int):
    """`bounds.item_problem` of an item holding `answers`, with and without its payload."""
    from flask import Flask

    from server.services.receiving import bounds

    item = {"instance_id": "uuid:1", "form_id": "f", "answers": answers}
    app = Flask(__name__)
    app.config.update(MAX_SUBMISSION_ELEMENTS=elements, MAX_SUBMISSION_DEPTH=depth)
    with app.app_context():
        payload = ingest._json_bytes(item)
        quick, walked = bounds.item_problem(item, payload), bounds.item_problem(item)
    return (quick and quick.code), (walked and walked.code)


@pytest.mark.parametrize(
    "answers",
    [
        {"a": "Lò Văn Minh", "b": {"c": ["1", 2, 3.5, None, True]}},
        {"a": "x\x00y"},  # NUL in a value
        {"k\x00": "v"},  # and in a key
        {"a": float("nan")},  # written as null by orjson: the walk must see it
        {"a": [1, float("inf")]},
        {"a": {"b": {"c": {"d": {"e": "deep"}}}}},
        {"a": [[[[["deep"]]]]]},
        {"a": [str(i) for i in range(30)]},
        {"a": {f"k{i}": "" for i in range(30)}},
        {"a": [[] for _ in range(30)]},
        {"a": "text with \\u0000 written out, [ { : , ] }"},
    ],
)
def test_the_quick_pass_answers_as_the_walk_does(answers):
    for elements, depth in ((1000, 64), (30, 4), (31, 5), (32, 6)):
        quick, walked = _quick_and_walked(answers, elements, depth)
        assert quick == walked, (elements, depth)


def test_the_quick_pass_agrees_with_the_walk_on_generated_answers():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    leaves = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5))
    trees = st.recursive(
        leaves,
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4)
        ),
        max_leaves=25,
    )

    @settings(max_examples=300, deadline=None)
    @given(
        st.dictionaries(st.text(max_size=3), trees, max_size=4),
        st.integers(1, 40),
        st.integers(1, 8),
    )
    def agree(answers, elements, depth):
        quick, walked = _quick_and_walked(answers, elements, depth)
        assert quick == walked

    agree()
