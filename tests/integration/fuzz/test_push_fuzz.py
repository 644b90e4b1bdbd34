"""Hypothesis-generated push batches over HTTP: every item gets a final answer, never a 5xx.

Issue 13 (finding 1 and "a fuzz test in CI"): a batch mixes valid items (registrations
and visits of the demo cadre's households) with items mutated at one field: long, NUL,
control and non-BMP text, huge and negative numbers, odd datetimes
(`0001-01-01T00:00:00+14:00`), wrong types, missing fields, deep nesting, inside the
answers too. The push must answer 200 with one result per item, in order; no item may
be left `error` (the client would send it again forever): each is stored
(accepted, duplicate, conflict, invalid), quarantined, or refused, the results the
client keeps (`sync.client.store.KEPT_STATES`) or drops from its outbox.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from sync import protocol
from sync.client.store import KEPT_STATES
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import registration, visit
from tests.integration.fuzz.conftest import PUSH_EXAMPLES, FuzzServer

#: Results after which the client stops sending an item: held by the server, or kept
#: on the tablet for the officer (refused). "error" is the one that loops.
SETTLED = protocol.FINAL_RESULTS | set(KEPT_STATES)
STORED = {"accepted", "duplicate", "conflict", "invalid"}

VILLAGE = "03325_01"  # the demo cadre's first village (Bản Phăng 1)
FIELDS = (
    "instance_id",
    "form_id",
    "version",
    "deprecated_id",
    "answers",
    "xml",
    "device_time",
    "clock_offset_ms",
)

# -- hostile values ----------------------------------------------------------------------

_TEXTS = st.one_of(
    st.text(max_size=40),  # any code point but surrogates: controls, NUL, non-BMP
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "uuid:\x00",
            "a\x00b",
            "\u202e\ufeff",
            "𝔤𝔦𝔲𝔭𝔥𝔬",
            "\ud7ff\ue000\uffff",
            "x" * 101,
            "uuid:" + "a" * 200,
            "é" * 5000,
            "<data/>",
            "<?xml version='1.0'?><!DOCTYPE d [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><d>&e;</d>",
            "0",
            "-1",
            "1e309",
            "NaN",
            "²",
            "٣",
        ]
    ),
)
_NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
)
_DATETIMES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+14:00",
            "0001-01-01T00:00:00-14:00",
            "9999-12-31T23:59:59-14:00",
            "9999-12-31T23:59:59+00:00",
            "2026-03-01T08:40:00",  # no offset
            "2026-02-30T08:40:00+07:00",
            "2026-03-01T24:00:00+07:00",
            "2026-03-01T08:40:00+25:00",
            "2026-03-01",
            "20260301T084000Z",
            "+12026-03-01T08:40:00+07:00",
            "",
        ]
    ),
    st.datetimes().map(lambda d: d.isoformat()),
)


def _nested(depth: int) -> Any:
    value: Any = "deep"
    for level in range(depth):
        value = [value] if level % 2 else {"n": value}
    return value


_WRONG_TYPES = st.one_of(
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.integers(min_value=1, max_value=300).map(_nested),
)
HOSTILE = st.one_of(_TEXTS, _NUMBERS, _DATETIMES, _WRONG_TYPES)

# -- items -------------------------------------------------------------------------------


def _registration_item() -> dict:
    return answers_item(registration(village=VILLAGE))


def _visit_item(household: str) -> dict:
    return answers_item(visit(household))


def _known(**fields: Any) -> list[tuple[dict, bool]]:
    """A batch of a valid registration and one broken as issue 13's finding 1 reported."""
    broken = _registration_item() | fields
    if "instance_id" in fields:
        broken["answers"]["meta"]["instanceID"] = fields["instance_id"]
    return [(_registration_item(), True), (broken, False)]


@st.composite
def _answer_paths(draw, answers: dict) -> list[str | int]:
    """A path to one value inside `answers` (objects and lists), possibly the whole."""
    path: list[str | int] = []
    node: Any = answers
    while isinstance(node, dict | list) and node and draw(st.booleans()):
        key = draw(st.sampled_from(list(node) if isinstance(node, dict) else range(len(node))))
        path.append(key)
        node = node[key]
    return path


def _replace(document: Any, path: list, value: Any) -> Any:
    if not path:
        return value
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return document


def _text_or_wrong() -> st.SearchStrategy:
    return st.one_of(_TEXTS, _TEXTS, _WRONG_TYPES, _NUMBERS)


#: What each field is broken with: mostly its own kind of hostile value, sometimes another type.
BREAKERS = {
    "instance_id": _text_or_wrong(),
    "form_id": _text_or_wrong(),
    "version": _text_or_wrong(),
    "deprecated_id": _text_or_wrong(),
    "xml": _text_or_wrong(),
    "answers": _WRONG_TYPES,
    "device_time": st.one_of(_DATETIMES, _DATETIMES, _WRONG_TYPES, _NUMBERS),
    "clock_offset_ms": st.one_of(_NUMBERS, _NUMBERS, _WRONG_TYPES, _TEXTS),
}


@st.composite
def mutated(draw, base: dict) -> dict:
    """`base` with one field, one value inside its answers, or its instanceID broken."""
    item = copy.deepcopy(base)
    how = draw(st.sampled_from(["replace", "replace", "drop", "inside", "identity"]))
    field = draw(st.sampled_from(FIELDS))
    if how == "drop":
        item.pop(field, None)
    elif how == "inside":
        path = draw(_answer_paths(item["answers"]))
        item["answers"] = _replace(item["answers"], path, draw(HOSTILE))
    elif how == "identity":  # the item's id and its answers' meta/instanceID, the same
        item["instance_id"] = item["answers"]["meta"]["instanceID"] = draw(_TEXTS)
    else:
        item[field] = draw(BREAKERS[field])
    return item


@st.composite
def batches(draw, households: list[str]) -> list[tuple[dict, bool]]:
    """1-4 (item, valid): a fresh registration or visit, or one mutated from it."""
    items = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        if households and draw(st.booleans()):
            base = _visit_item(draw(st.sampled_from(households)))
        else:
            base = _registration_item()
        valid = draw(st.booleans())
        items.append((base, True) if valid else (draw(mutated(base)), False))
    return items


# -- the property ------------------------------------------------------------------------


@pytest.fixture(scope="package")
def cadre_households(fuzz_server: FuzzServer) -> list[str]:
    """Some households in the demo cadre's scope, for visits."""
    answer = requests.get(
        f"{fuzz_server.url}/api/v1/households",
        params={"limit": 10},
        headers=fuzz_server.tablet,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    households = [h["id"] for h in answer.json()["households"]]
    assert households, "the demo cadre has households"
    return households


def test_every_pushed_item_settles_without_a_server_error(
    fuzz_server: FuzzServer, cadre_households: list[str]
):
    """Issue 13, finding 1: generated push batches; no 5xx, no item left to retry forever."""
    session = requests.Session()
    session.headers.update(fuzz_server.tablet)

    @settings(
        max_examples=PUSH_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(generated=batches(cadre_households))
    @example(generated=_known(instance_id="uuid:" + "x" * 101))
    @example(generated=_known(form_id="giupho_household_registration\x00"))
    @example(generated=_known(device_time="0001-01-01T00:00:00+14:00"))
    def push(generated: list[tuple[dict, bool]]) -> None:
        batch = [item for item, _valid in generated]
        answer = session.post(
            f"{fuzz_server.url}/api/v1/sync/push", json={"items": batch}, timeout=60
        )
        if answer.status_code >= 500:  # the server's traceback says why
            print(fuzz_server.server.log_tail(80))
        assert answer.status_code == 200, (answer.status_code, batch)
        results = answer.json()["results"]
        assert len(results) == len(batch), results
        for item, result in zip(batch, results, strict=True):
            assert result["result"] in SETTLED, (result, item)
            if result["result"] in STORED:
                assert result["submission_id"] is not None, (result, item)
            if result["result"] == "quarantined":
                assert result["quarantine_id"] is not None, (result, item)
        stored = [r for (_i, valid), r in zip(generated, results, strict=True) if valid]
        assert all(r["result"] in STORED for r in stored), stored

    push()
    health = session.get(f"{fuzz_server.url}/api/v1/health", timeout=30)
    assert health.status_code == 200
