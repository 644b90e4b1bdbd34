"""Bounds checked before any work on a submission, the same for both protocols (issue 13).

A value the database cannot hold must not reach it: an instanceID longer than
its column, a NUL (PostgreSQL refuses it in text and `\\u0000` in jsonb), a
device time that overflows when converted to UTC, a number beyond its column.
Each such value is a `Problem` (400.10-400.13) that says which field and what
to fix; ingest keeps the delivery in quarantine with its payload as received
and answers with that final status (the client stops retrying).

Column sizes are read from the models, not copied here. Element count and
depth of XML are bounded while streaming in `forms.instance.parse_submission`;
the JSON answers of a push item are bounded here by the same settings
(`MAX_SUBMISSION_ELEMENTS`, `MAX_SUBMISSION_DEPTH`: 413.4, 413.5).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app

from forms.instance import Submission as ParsedSubmission
from server.models import FormVersion, Household, Submission
from server.models.forms import Form
from server.models.households import HouseholdVersion
from server.problems import Problem

#: Device times the server stores: any offset converts to UTC inside these, and both
#: SQLite and PostgreSQL keep them.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2999, 12, 31, 23, 59, 59, tzinfo=dt.UTC)
#: A device clock more than about 30 years off is not a clock offset.
MAX_CLOCK_OFFSET_MS = 1e12
#: Control characters (category Cc) and lone surrogates: not in an identifier.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
#: NUL (PostgreSQL refuses it in text and jsonb) and lone surrogates (not UTF-8): not in text.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: An INTEGER column (household versions) on both databases.
INT_RANGE = (-(2**31), 2**31 - 1)

__all__ = ["EARLIEST", "LATEST", "column_length", "item_problem", "parsed_problem", "storable"]


def column_length(column: sa.orm.InstrumentedAttribute) -> int:
    return column.property.columns[0].type.length


@functools.cache
def _identifiers() -> dict[str, int]:
    """The identifier fields of a push item and their column lengths (read once: the
    models do not change)."""
    return {
        "instance_id": column_length(Submission.instance_id),
        "deprecated_id": column_length(Submission.deprecated_id),
        "form_id": column_length(Form.form_id),
        "version": column_length(FormVersion.version),
    }


def item_problem(item: Mapping[str, Any], payload: bytes | None = None) -> Problem | None:
    """What is out of bounds in a JSON push item's own fields and answers, or None.

    `payload`: the item as this server wrote it (`json_codec.dumps`), when the caller has
    it: answers plainly within bounds are then seen from it without the walk
    (`_plainly_within`)."""
    for key, limit in _identifiers().items():
        value = item.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            problem = _identifier(key, value, limit)
            if problem is not None:
                return problem
    problem = _device_time("device_time", item.get("device_time"))
    if problem is not None:
        return problem
    offset = item.get("clock_offset_ms")
    number = isinstance(offset, int | float) and not isinstance(offset, bool)
    if number and (not _finite(offset) or abs(offset) > MAX_CLOCK_OFFSET_MS):
        low, high = -MAX_CLOCK_OFFSET_MS, MAX_CLOCK_OFFSET_MS
        return Problem("400.13", field="clock_offset_ms", low=f"{low:g}", high=f"{high:g}")
    answers = item.get("answers")
    if not isinstance(answers, Mapping | list):
        return None
    if payload is not None and _plainly_within(answers, payload):
        return None
    return _tree("answers", answers)


def parsed_problem(parsed: ParsedSubmission) -> Problem | None:
    """What is out of bounds in a parsed submission's identity (XML or answers), or None."""
    ids = _identifiers()
    checks = [
        ("meta/instanceID", parsed.instance_id, ids["instance_id"], True),
        ("meta/deprecatedID", parsed.deprecated_id, ids["deprecated_id"], True),
        ("form id", parsed.form_id, ids["form_id"], True),
        ("form version", parsed.version, ids["version"], True),
        ("meta/instanceName", parsed.instance_name, column_length(Submission.instance_name), False),
    ]
    branch = column_length(HouseholdVersion.branch_id)
    for entity in parsed.entities or ([parsed.entity] if parsed.entity else []):
        checks += [
            ("meta/entity/@id", entity.id, column_length(Household.id) + len("uuid:"), True),
            ("meta/entity/@dataset", entity.dataset, column_length(Household.dataset), True),
            ("meta/entity/@branchId", entity.branch_id, branch, True),
            ("meta/entity/label", entity.label, column_length(Household.label), False),
        ]
        for name, number in (
            ("meta/entity/@baseVersion", entity.base_version),
            ("meta/entity/@trunkVersion", entity.trunk_version),
        ):
            if isinstance(number, int) and not INT_RANGE[0] <= number <= INT_RANGE[1]:
                low, high = INT_RANGE
                return Problem("400.13", field=name, low=str(low), high=str(high))
    for name, value, limit, identifier in checks:
        if value is None:
            continue
        problem = _identifier(name, value, limit) if identifier else _text(name, value, limit)
        if problem is not None:
            return problem
    return None


def storable(value: str | None, limit: int) -> str | None:
    """`value` as a column of `limit` characters can keep it: control characters and lone
    surrogates dropped, cut to length (for quarantine, which keeps the payload whole)."""
    if value is None:
        return None
    return _CONTROL.sub("", value)[:limit] or None


def _identifier(name: str, value: str, limit: int) -> Problem | None:
    if _CONTROL.search(value):
        return Problem("400.11", field=name)
    if len(value) > limit:
        return Problem("400.10", field=name, length=len(value), limit=limit)
    return None


def _text(name: str, value: str, limit: int) -> Problem | None:
    if _UNSTORABLE.search(value):
        return Problem("400.11", field=name)
    if len(value) > limit:
        return Problem("400.10", field=name, length=len(value), limit=limit)
    return None


def _device_time(name: str, value: Any) -> Problem | None:
    """400.12 for a readable device time outside what the server stores (unreadable ones
    are left out, as before)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    try:
        utc = parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        return Problem("400.12", field=name, low=EARLIEST.isoformat(), high=LATEST.isoformat())
    return None


def _finite(number: int | float) -> bool:
    try:
        return math.isfinite(float(number))
    except OverflowError:
        return False


def _tree(name: str, value: Any) -> Problem | None:
    """Count, depth and NULs of a JSON answers tree, walked iteratively (no recursion)."""
    max_count = current_app.config["MAX_SUBMISSION_ELEMENTS"]
    max_depth = current_app.config["MAX_SUBMISSION_DEPTH"]
    count = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if count > max_count:
            return Problem("413.4", limit=max_count)
        if depth > max_depth:
            return Problem("413.5", limit=max_depth)
        if isinstance(node, Mapping):
            for key, child in node.items():
                if isinstance(key, str) and _bad_text(key):
                    return Problem("400.11", field=f"{name} ({key[:40]!r})")
                stack.append((child, depth + 1))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, str):
            if _bad_text(node):
                return Problem("400.11", field=name)
        elif isinstance(node, float) and not _finite(node):
            return Problem("400.13", field=name, low="-1e308", high="1e308")
    return None


def _plainly_within(answers: Any, payload: bytes) -> bool:
    """True when `_tree` would find nothing wrong with `answers`, seen quickly: `payload`
    is JSON written by this server of an item holding them (orjson escapes a NUL as
    \\u0000 and refuses a lone surrogate; `json` writes no \\ud escape either, as it
    writes non-ASCII as it is), so it bounds how many values and how deep they can be
    from the count of a few bytes, and only floats (which orjson writes as null when not
    finite) are left to look at. False means: do the walk (it is not a finding)."""
    if b"\\u0000" in payload or b"\\ud" in payload or b"\\uD" in payload:
        return False
    config = current_app.config
    # Each value below the answers is a member (a ':') or an item of a list (at most its
    # commas plus one per '['); each level of nesting opens a '{' or a '['. Characters
    # inside strings only raise these counts.
    brackets = payload.count(b"[")
    if 1 + payload.count(b":") + payload.count(b",") + brackets > config["MAX_SUBMISSION_ELEMENTS"]:
        return False
    if payload.count(b"{") + brackets > config["MAX_SUBMISSION_DEPTH"]:
        return False
    stack = [answers]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is dict:
            stack.extend(node.values())
        elif kind is list:
            stack.extend(node)
        elif kind is float:
            if node - node != 0.0:  # NaN or an infinity
                return False
        elif kind is not str and kind is not int and kind is not bool and node is not None:
            return False  # anything else: the walk decides
    return True


def _bad_text(text: str) -> bool:
    """NUL (PostgreSQL refuses it in jsonb) or a lone surrogate (not UTF-8)."""
    return _UNSTORABLE.search(text) is not None
