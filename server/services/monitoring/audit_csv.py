"""Collect's audit log (`audit.csv`), read into the evidence of a visit. Pure: bytes in, a small
summary out; no Flask, no database.

The columns are ODK's (docs.getodk.org, "Form audit log"): `event, node, start, end`, then
`latitude, longitude, accuracy` when the form tracks locations, `old-value, new-value` with
`track-changes`, `user` with `identify-user`, `change-reason` with `track-changes-reasons`.
`start` and `end` are milliseconds since the epoch on the tablet's clock; `end` is empty for
events without a duration. Every location column holds the tablet's latest fix when the event
happened.

A log comes from a tablet and may be cut short, re-encoded or edited: unknown or missing
columns are ignored, a row that cannot be read is counted and skipped, and the parser never
raises on any bytes (ingest must never fail because of an audit log).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field

#: The name Collect gives the attachment (the form's `meta/audit` answer).
FILENAME = "audit.csv"
#: Events whose duration is time spent answering (a question, or a field-list page).
QUESTION_EVENTS = frozenset({"question", "group questions"})
#: Rows read at most: a day-long form has a few thousand; more is not a real log.
MAX_ROWS = 50_000
#: A question shown longer than this (the tablet left open) counts this much at most.
MAX_QUESTION_SECONDS = 30 * 60


@dataclass(frozen=True)
class Location:
    latitude: float
    longitude: float
    accuracy_m: float | None
    at_ms: int | None


@dataclass
class AuditLog:
    """What a log shows: time on questions, the span of the events, the locations seen."""

    rows: int = 0
    bad_rows: int = 0
    questions: int = 0
    question_seconds: float = 0.0
    first_ms: int | None = None
    last_ms: int | None = None
    locations: list[Location] = field(default_factory=list)
    last_raw: tuple = field(default=(None, None, None), repr=False)  # while reading

    def best_location(self) -> Location | None:
        """The most accurate fix (an unknown accuracy counts as the worst)."""
        if not self.locations:
            return None
        return min(
            self.locations, key=lambda loc: math.inf if loc.accuracy_m is None else loc.accuracy_m
        )

    def summary(self) -> dict:
        """The JSON kept in `VisitEvidence.details`."""
        return {
            "rows": self.rows,
            "bad_rows": self.bad_rows,
            "questions": self.questions,
            "question_seconds": round(self.question_seconds, 1),
            "locations": len(self.locations),
        }


def parse(data: bytes) -> AuditLog:
    """Read an audit.csv; whatever cannot be read is counted in `bad_rows`, never raised."""
    log = AuditLog()
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff").replace("\x00", "")
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""))
        for row in reader:
            if log.rows >= MAX_ROWS:
                break
            log.rows += 1
            if not _read_row(log, row):
                log.bad_rows += 1
    except csv.Error:  # a broken quote or line: what was read so far stands
        log.bad_rows += 1
    return log


def _read_row(log: AuditLog, row: dict) -> bool:
    event = _text(row.get("event")).lower()
    start = _millis(row.get("start"))
    if not event or start is None:
        return False
    end = _millis(row.get("end"))
    for moment in (start, end):
        if moment is not None:
            log.first_ms = moment if log.first_ms is None else min(log.first_ms, moment)
            log.last_ms = moment if log.last_ms is None else max(log.last_ms, moment)
    if event in QUESTION_EVENTS:
        log.questions += 1
        if end is not None and end >= start:
            log.question_seconds += min((end - start) / 1000, MAX_QUESTION_SECONDS)
    raw = (row.get("latitude"), row.get("longitude"), row.get("accuracy"))
    if raw != log.last_raw:  # a fix repeated on the next events is read and kept once
        log.last_raw = raw
        location = _location(row, start)
        if location is not None and (
            not log.locations or _where(log.locations[-1]) != _where(location)
        ):
            log.locations.append(location)
    return True


def _location(row: dict, at_ms: int) -> Location | None:
    lat, lon = _number(row.get("latitude")), _number(row.get("longitude"))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # no fix yet, as some tablets write it
        return None
    accuracy = _number(row.get("accuracy"))
    return Location(lat, lon, accuracy if accuracy is not None and accuracy >= 0 else None, at_ms)


def _where(location: Location) -> tuple:
    return location.latitude, location.longitude, location.accuracy_m


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value) -> float | None:
    try:
        number = float(_text(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _millis(value) -> int | None:
    try:  # what Collect writes, an integer: the cheap way first (a log has many rows)
        number = int(value)
    except (TypeError, ValueError):
        number = _number(value)
    # Between 2001 and 2286 in milliseconds: anything else is not a time Collect writes.
    if number is None or not 1e12 <= number < 1e13:
        return None
    return int(number)
