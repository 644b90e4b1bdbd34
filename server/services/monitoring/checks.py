"""The checks of token-visit monitoring: evidence in, findings out (no session, no commits).

Each check reads `VisitEvidence` rows (or pairs and agency stays) and the thresholds of the
settings (`MONITORING_*`, passed as `Thresholds`), and returns `Finding`s: what
`server.services.monitoring.runs` writes as `MonitoringFlag` rows, one per check and subject
(`subject_key`). Every finding carries exactly the params its reason needs
(`catalogue.CHECKS`), numbers as JSON numbers and days as ISO dates.

What each looks at, and what honest visits do that a check must let pass:
- short: time on questions (audit.csv) or start to end; a quick honest revisit still takes
  minutes.
- far: distance to the household's known location beyond the threshold plus the fix's own
  accuracy (a poor fix under trees is not a lie).
- no_location: neither the form's GPS nor the audit log's.
- fast_run: one cadre, several households started within minutes of each other, all within a
  few metres of the first: neighbours visited one after another take longer than that.
- copied: the same compared answers as the household's previous visit (`evidence.TRIVIAL`
  says which answers are not compared, and why).
- backdated: started long before it was received, on the server's clock (the tablet's offset
  taken out, so a drifting clock does not count).
- clock_jump: the tablet's offset far from its usual offset (the median of its other visits):
  a tablet set to a wrong time for good is its usual, not a jump.
- neglected: a paired household with no visit for months.
- token_agency: an agency's stays in a commune fewer or shorter than its plan, pro rata.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from server.dedup.keys import distance_m
from server.services.monitoring.catalogue import CHECKS


@dataclass(frozen=True)
class Thresholds:
    """The settings the checks read, by their meaning (`server.settings`, MONITORING_*)."""

    min_visit_minutes: float = 5.0
    max_distance_m: float = 300.0
    run_visits: int = 4
    run_minutes: float = 30.0
    run_metres: float = 50.0
    copied_share: float = 0.99
    copied_min_answers: int = 10
    max_backdated_days: float = 30.0
    clock_jump_minutes: float = 120.0
    neglected_months: int = 3
    agency_share: float = 0.5
    lookback_days: int = 62
    timezone: str = "Asia/Ho_Chi_Minh"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Thresholds:
        names = {f: f"MONITORING_{f.upper()}" for f in cls.__dataclass_fields__}
        names["timezone"] = "TIMEZONE"
        return cls(**{f: config[key] for f, key in names.items() if key in config})


@dataclass(frozen=True)
class Visit:
    """What the checks read of one visit's evidence."""

    submission_id: int
    household_id: str | None
    user_id: int | None
    device_id: int | None
    commune_id: int | None
    village_id: int | None
    started_at: dt.datetime | None
    received_at: dt.datetime
    duration_seconds: float | None = None
    form_seconds: float | None = None
    clock_offset_seconds: float | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    distance_m: float | None = None
    answers: Mapping[str, str] = field(default_factory=dict)
    evidence_id: int | None = None

    @property
    def point(self) -> tuple[float, float] | None:
        if self.latitude is None or self.longitude is None:
            return None
        return self.latitude, self.longitude

    @property
    def moment(self) -> dt.datetime:
        """When the visit happened, on the tablet's clock (received, if it sent no start)."""
        return self.started_at or self.received_at


@dataclass(frozen=True)
class Finding:
    check: str
    subject_key: str
    observed_on: dt.date
    params: dict[str, Any]
    evidence: dict[str, Any] = field(default_factory=dict)
    submission_id: int | None = None
    household_id: str | None = None
    agency_id: int | None = None
    user_id: int | None = None
    commune_id: int | None = None
    village_id: int | None = None

    def __post_init__(self) -> None:
        expected = set(CHECKS[self.check].params)
        if set(self.params) != expected:  # the monitoring view renders exactly these
            raise ValueError(f"{self.check}: params {sorted(self.params)} != {sorted(expected)}")


def number(value: float) -> int | float:
    """A plain number for a reason: whole numbers as integers, others to one decimal."""
    rounded = round(float(value), 1)
    return int(rounded) if rounded == int(rounded) else rounded


def local_day(moment: dt.datetime, t: Thresholds) -> dt.date:
    return moment.astimezone(ZoneInfo(t.timezone)).date()


def _visit_finding(check: str, v: Visit, t: Thresholds, params: dict, **evidence) -> Finding:
    return Finding(
        check,
        f"visit:{v.submission_id}",
        local_day(v.moment, t),
        params,
        {"evidence_id": v.evidence_id, **evidence} if v.evidence_id else evidence,
        submission_id=v.submission_id,
        household_id=v.household_id,
        user_id=v.user_id,
        commune_id=v.commune_id,
        village_id=v.village_id,
    )


# ------------------------------------------------------------ a visit on its own


def own_findings(v: Visit, t: Thresholds) -> list[Finding]:
    """The checks a visit's evidence answers by itself: short, far, no_location, backdated."""
    found = []
    seconds = v.form_seconds if v.form_seconds is not None else v.duration_seconds
    if seconds is not None and seconds < t.min_visit_minutes * 60:
        measured = "form_seconds" if v.form_seconds is not None else "duration_seconds"
        params = {"minutes": number(seconds / 60), "min_minutes": number(t.min_visit_minutes)}
        found.append(_visit_finding("short", v, t, params, measured=measured))
    if v.point is None:
        found.append(_visit_finding("no_location", v, t, {}))
    elif v.distance_m is not None and v.distance_m > t.max_distance_m + (v.accuracy_m or 0):
        params = {"metres": round(v.distance_m), "max_metres": number(t.max_distance_m)}
        found.append(_visit_finding("far", v, t, params, accuracy_m=v.accuracy_m))
    if v.started_at is not None:
        started = v.started_at - dt.timedelta(seconds=v.clock_offset_seconds or 0)
        days = (v.received_at - started).total_seconds() / 86400
        if days > t.max_backdated_days:
            params = {"days": number(days), "max_days": number(t.max_backdated_days)}
            found.append(_visit_finding("backdated", v, t, params))
    return found


# ------------------------------------------------------------ a visit among others


def fast_runs(visits: Iterable[Visit], t: Thresholds) -> list[Finding]:
    """Runs of one cadre's visits to distinct households started within `run_minutes` of the
    run's first, all within `run_metres` of it; every visit of a run is flagged."""
    by_user: dict[int | None, list[Visit]] = defaultdict(list)
    for v in visits:
        if v.user_id is not None and v.point is not None and v.started_at is not None:
            by_user[v.user_id].append(v)
    found: dict[int, Finding] = {}
    span = dt.timedelta(minutes=t.run_minutes)
    for own in by_user.values():
        own.sort(key=lambda v: v.started_at)
        for i, first in enumerate(own):
            run = [first]
            for other in own[i + 1 :]:
                if other.started_at - first.started_at > span:
                    break
                if distance_m(first.point, other.point) <= t.run_metres:
                    run.append(other)
            households = {v.household_id or f"?{v.submission_id}" for v in run}
            if len(households) < t.run_visits:
                continue
            minutes = (run[-1].started_at - first.started_at).total_seconds() / 60
            params = {
                "count": len(households),
                "minutes": number(max(minutes, 1)),
                "metres": number(t.run_metres),
            }
            others = [v.submission_id for v in run]
            for v in run:
                if v.submission_id not in found:
                    found[v.submission_id] = _visit_finding("fast_run", v, t, params, run=others)
    return list(found.values())


def copied(visit: Visit, previous: Visit | None, t: Thresholds) -> Finding | None:
    """The visit's compared answers against the same household's previous visit."""
    if previous is None:
        return None
    shared = [k for k in visit.answers if k in previous.answers]
    if len(shared) < t.copied_min_answers:
        return None
    same = [k for k in shared if visit.answers[k] == previous.answers[k]]
    if len(same) / len(shared) < t.copied_share:
        return None
    params = {
        "same": len(same),
        "compared": len(shared),
        "previous_date": local_day(previous.moment, t).isoformat(),
    }
    differ = sorted(set(shared) - set(same))
    return _visit_finding(
        "copied", visit, t, params, previous_submission_id=previous.submission_id, differ=differ
    )


def clock_jumps(visits: Sequence[Visit], history: Sequence[Visit], t: Thresholds) -> list[Finding]:
    """Visits whose tablet offset is far from the tablet's usual one (the median of its other
    visits in `history`, three at least)."""
    offsets: dict[Any, list[tuple[int, float]]] = defaultdict(list)
    for v in history:
        if v.clock_offset_seconds is not None:
            offsets[_tablet(v)].append((v.submission_id, v.clock_offset_seconds))
    found = []
    for v in visits:
        if v.clock_offset_seconds is None:
            continue
        others = [o for sid, o in offsets.get(_tablet(v), ()) if sid != v.submission_id]
        if len(others) < 3:
            continue
        usual = statistics.median(others)
        if abs(v.clock_offset_seconds - usual) > t.clock_jump_minutes * 60:
            params = {
                "offset": number(v.clock_offset_seconds / 60),
                "usual": number(usual / 60),
            }
            found.append(_visit_finding("clock_jump", v, t, params, unit="minutes"))
    return found


def _tablet(v: Visit) -> tuple[str, int | None]:
    return ("device", v.device_id) if v.device_id is not None else ("user", v.user_id)


# ------------------------------------------------------------ households and agencies


@dataclass(frozen=True)
class PairedHousehold:
    household_id: str
    commune_id: int | None
    village_id: int | None
    user_id: int | None
    agency_id: int | None
    paired_on: dt.date
    last_visit: dt.date | None


def months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole months from `earlier` to `later` (31 January to 28 February is 0)."""
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def neglected(households: Iterable[PairedHousehold], on: dt.date, t: Thresholds) -> list[Finding]:
    """Paired households with no visit for `neglected_months` (counted from the pairing when
    never visited)."""
    found = []
    for h in households:
        since = h.last_visit or h.paired_on
        months = months_between(since, on)
        if months < t.neglected_months:
            continue
        found.append(
            Finding(
                "neglected",
                f"household:{h.household_id}:{on:%Y-%m}",
                on,
                {"months": months, "last_visit": since.isoformat()},
                {"never_visited": h.last_visit is None, "paired_on": h.paired_on.isoformat()},
                household_id=h.household_id,
                agency_id=h.agency_id,
                user_id=h.user_id,
                commune_id=h.commune_id,
                village_id=h.village_id,
            )
        )
    return found


@dataclass(frozen=True)
class AgencyYear:
    agency_id: int
    commune_id: int
    year: int
    visits_planned: int
    days_planned: float
    visits: int
    days: float


def year_share(on: dt.date, year: int) -> float:
    """How much of `year` has passed on `on` (0 before it, 1 after it)."""
    start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    if on < start:
        return 0.0
    return min(1.0, ((on - start).days + 1) / (end - start).days)


def token_agencies(years: Iterable[AgencyYear], on: dt.date, t: Thresholds) -> list[Finding]:
    """Agencies whose stays so far are fewer or shorter than `agency_share` of the plan's
    share of the year gone by (no flag before a whole planned visit is due)."""
    found = []
    for a in years:
        share = year_share(on, a.year)
        due_visits, due_days = a.visits_planned * share, a.days_planned * share
        if due_visits < 1:
            continue
        few = a.visits < t.agency_share * due_visits
        short = a.days < t.agency_share * due_days
        if not (few or short):
            continue
        params = {
            "year": a.year,
            "visits": a.visits,
            "days": number(a.days),
            "visits_planned": a.visits_planned,
            "days_planned": number(a.days_planned),
        }
        evidence = {"few": few, "short": short, "share_of_year": round(share, 3)}
        found.append(
            Finding(
                "token_agency",
                f"agency:{a.agency_id}:{a.commune_id}:{a.year}",
                min(on, dt.date(a.year, 12, 31)),
                params,
                evidence,
                agency_id=a.agency_id,
                commune_id=a.commune_id,
            )
        )
    return found
