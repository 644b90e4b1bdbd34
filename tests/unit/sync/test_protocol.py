"""The sync protocol messages: what one side dumps the other loads back unchanged, and
malformed messages are refused with the field that is wrong."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from sync import protocol

ROOT = Path(__file__).resolve().parents[3]

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)
ids = st.uuids().map(lambda u: f"uuid:{u}")
times = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)
json_leaves = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | texts
answers = st.recursive(
    st.dictionaries(texts, json_leaves, max_size=4),
    lambda inner: st.dictionaries(texts, inner | st.lists(inner, max_size=3), max_size=4),
    max_leaves=12,
)


def wire(schema, message) -> dict:
    """Dump `message` and send it through JSON text, as it travels."""
    return json.loads(json.dumps(schema.dump(message), ensure_ascii=False))


answer_items = st.builds(
    protocol.PushItem,
    instance_id=ids,
    form_id=texts.filter(bool),
    version=st.none() | texts,
    deprecated_id=st.none() | ids,
    answers=answers,
    device_time=st.none() | times,
    clock_offset_ms=st.none() | st.integers(-(10**9), 10**9),
)
xml_items = st.builds(protocol.PushItem, xml=texts.map(lambda t: f"<data>{t}</data>"))


@settings(max_examples=40)  # each example is a full message; 40 cover the shapes
@given(answer_items | xml_items)
def test_push_items_round_trip(item):
    schema = protocol.PushItemSchema()
    assert schema.load(wire(schema, item)) == item


@settings(max_examples=40)  # each example is a full message; 40 cover the shapes
@given(answer_items)
def test_dump_item_leaves_out_empty_fields_and_still_loads(item):
    schema = protocol.PushItemSchema()
    compact = schema.dump_item(item)
    assert None not in compact.values()
    assert schema.load(compact) == item


issues = st.builds(protocol.Issue, path=texts, code=texts, message=texts, message_vi=texts)
results = st.builds(
    protocol.PushResult,
    instance_id=st.none() | ids,
    result=st.sampled_from(protocol.RESULTS),
    status=st.sampled_from([201, 202, 400, 404, 409, 413, 500]),
    code=st.none() | texts,
    message=st.none() | texts,
    submission_id=st.none() | st.integers(1, 2**53),
    quarantine_id=st.none() | st.integers(1, 2**53),
    review_state=st.none() | st.sampled_from(["received", "has_issues"]),
    received_at=st.none() | times,
    issues=st.lists(issues, max_size=3),
)


@settings(max_examples=40)  # each example is a full message; 40 cover the shapes
@given(st.lists(results, max_size=5), times)
def test_push_responses_round_trip(items, now):
    schema = protocol.PushResponseSchema()
    response = protocol.PushResponse(items, now)
    assert schema.load(wire(schema, response)) == response


changes = st.builds(
    protocol.Change,
    kind=st.sampled_from(protocol.CHANGE_KINDS),
    id=texts,
    op=st.sampled_from(protocol.OPS),
    data=st.none() | answers,
)


@settings(max_examples=40)  # each example is a full message; 40 cover the shapes
@given(st.lists(changes, max_size=5), texts, st.booleans(), st.none() | times)
def test_pull_pages_round_trip(entries, cursor, has_more, now):
    schema = protocol.PullPageSchema()
    page = protocol.PullPage(entries, cursor, has_more, now)
    assert schema.load(wire(schema, page)) == page


@given(st.dictionaries(st.uuids().map(str), st.integers(1, 10**6), max_size=20))
def test_digest_requests_round_trip_and_name_the_same_digest(held):
    schema = protocol.DigestRequestSchema()
    listed = protocol.DigestRequest(households=held)
    hashed = protocol.DigestRequest(digest=protocol.households_digest(held))
    assert schema.load(wire(schema, listed)) == listed
    assert schema.load(wire(schema, hashed)) == hashed
    assert schema.digest_of(listed) == schema.digest_of(hashed)


@given(st.dictionaries(st.uuids().map(str), st.integers(1, 10**6), min_size=1, max_size=20))
def test_households_digest_ignores_order_but_sees_any_version_change(held):
    reordered = dict(reversed(list(held.items())))
    assert protocol.households_digest(reordered) == protocol.households_digest(held)
    some = next(iter(held))
    assert protocol.households_digest({**held, some: held[some] + 1}) != (
        protocol.households_digest(held)
    )
    assert protocol.households_digest({k: v for k, v in held.items() if k != some}) != (
        protocol.households_digest(held)
    )


@pytest.mark.parametrize(
    ("message", "field"),
    [
        ({"form_id": "visit"}, "_schema"),  # neither answers nor xml
        ({"xml": "<data/>", "form_id": "visit", "answers": {}}, "_schema"),  # both
        ({"answers": {"a": "1"}}, "form_id"),
        ({"xml": "<data/>", "device_time": "2026-03-01T08:00:00"}, "device_time"),  # no zone
        ({"xml": "<data/>", "clock_offset_ms": "soon"}, "clock_offset_ms"),
    ],
)
def test_malformed_push_items_name_the_wrong_field(message, field):
    with pytest.raises(ValidationError) as raised:
        protocol.PushItemSchema().load(message)
    assert field in raised.value.messages


@pytest.mark.parametrize(
    "message",
    [
        {},
        {"households": {"a": 1}, "digest": "0" * 64},
        {"digest": "not-a-sha256"},
        {"households": {"a": "1"}},  # versions are integers, not text
    ],
)
def test_malformed_digest_requests_are_refused(message):
    with pytest.raises(ValidationError):
        protocol.DigestRequestSchema().load(message)


def test_unknown_result_or_change_kind_is_refused():
    with pytest.raises(ValidationError):
        protocol.PushResultSchema().load({"instance_id": None, "result": "maybe", "status": 201})
    with pytest.raises(ValidationError):
        protocol.ChangeSchema().load({"kind": "gossip", "id": "x", "op": "upsert"})


def test_fields_a_newer_peer_adds_are_ignored():
    loaded = protocol.PushResultSchema().load(
        {"instance_id": "uuid:1", "result": "accepted", "status": 201, "later_field": [1, 2]}
    )
    assert loaded == protocol.PushResult("uuid:1", "accepted", 201)


@pytest.mark.parametrize(
    ("result", "final", "retry"),
    [
        ("accepted", True, False),
        ("duplicate", True, False),
        ("conflict", True, False),  # kept in quarantine: sending it again changes nothing
        ("invalid", True, False),
        ("quarantined", True, False),
        ("refused", False, False),  # too large: never accepted as it is, keep and show it
        ("error", False, True),  # a server fault: nothing stored, send it again later
    ],
)
def test_which_results_end_an_items_journey(result, final, retry):
    outcome = protocol.PushResult("uuid:1", result, 201)
    assert (outcome.final, outcome.retry) == (final, retry)


def test_protocol_imports_neither_flask_nor_sqlalchemy():
    code = (
        "import sys, sync.protocol\n"
        "print(','.join(m for m in ('flask', 'sqlalchemy', 'werkzeug') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
