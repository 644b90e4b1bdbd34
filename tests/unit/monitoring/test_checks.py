"""The checks on their own: the clock-jump check against a tablet's usual offset, and the
params every finding carries (the catalogue's, exactly)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.services.monitoring import checks
from server.services.monitoring.checks import Finding, Thresholds, Visit

T = Thresholds()
DAY = dt.datetime(2026, 11, 2, 2, 0, tzinfo=dt.UTC)


def _visit(sid, offset, day=0):
    at = DAY + dt.timedelta(days=day)
    return Visit(sid, f"h{sid}", 1, 7, 1, 2, at, at + dt.timedelta(hours=5),
                 clock_offset_seconds=offset, latitude=21.4, longitude=103.0)  # fmt: skip


def test_a_clock_that_jumps_is_flagged_and_a_drifting_or_wrong_one_is_not():
    drifting = [_visit(i, 60 * i, i) for i in range(1, 8)]  # a minute a day
    wrong_for_good = [_visit(10 + i, -7 * 3600 + 30, i) for i in range(5)]  # no time zone
    for v in wrong_for_good:
        object.__setattr__(v, "device_id", 8)
    jumped = _visit(99, -40 * 86400, 8)  # set back 40 days to date a visit
    visits = [*drifting, *wrong_for_good, jumped]
    [found] = checks.clock_jumps(visits, visits, T)
    assert found.submission_id == 99
    assert found.params == {"offset": -57600, "usual": 4}


def test_a_finding_must_carry_exactly_its_reason_params():
    with pytest.raises(ValueError):
        Finding("short", "visit:1", DAY.date(), {"minutes": 2})


def test_months_between_counts_whole_months():
    assert checks.months_between(dt.date(2026, 1, 31), dt.date(2026, 2, 28)) == 0
    assert checks.months_between(dt.date(2026, 1, 15), dt.date(2026, 4, 15)) == 3
