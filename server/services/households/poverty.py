"""The poverty standards this deployment classifies with, and the server's own classification.

The shipped standards (`forms/poverty/standards.json`) plus the province's
lines (`POVERTY_LOCAL_LINES`, checked when the app starts). Every household
a submission writes is classified again here under the standard in force on
the assessment date (the submission's `today`), whatever the tablet
computed, and the standard used is recorded in `poverty_standard`
(`unclassified` with no standard when the date is outside every standard).

`track` keeps a household's assessments summed up in its row as each version
is written (the latest status assessed, and the latest change of it when it
was an exit), so the dashboard counts exits from an index instead of reading
every household's versions (`server.services.review.exits` states the rule).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Flask, current_app

from forms.poverty import UNCLASSIFIED, StandardSet, classify_household, load_standards
from forms.poverty.classify import Reason
from forms.poverty.local import load_local_lines
from forms.poverty.standards import Label, NoStandardError, Standard, StandardsError
from server.models.households import status_column

EXTENSION = "giupho_poverty_standards"
#: The properties the shipped forms save that this service (re)computes.
STATUS, STANDARD, COUNT = "poverty_status", "poverty_standard", "deprivation_count"
#: The income lines a submission's page compares the income with, lowest first.
BANDS = ("poor", "near_poor", "average")


#: The statuses an exit leaves, with the standards' transition ids (domain.md: thoát nghèo,
#: thoát cận nghèo, reported apart).
TRANSITIONS = {"poor": "escaped_poverty", "near_poor": "escaped_near_poverty"}


class PovertySettingError(RuntimeError):
    """The poverty lines setting cannot be used: the server does not start."""


def init_app(app: Flask) -> None:
    path = app.config.get("POVERTY_LOCAL_LINES")
    try:
        found = load_local_lines(load_standards(), path) if path else load_standards()
    except StandardsError as exc:
        raise PovertySettingError(
            f"GIUPHO_POVERTY_LOCAL_LINES={path}: {exc.message}. Fix the file or unset the "
            "setting to use the national lines."
        ) from exc
    app.extensions[EXTENSION] = found


def standards() -> StandardSet:
    """The standards in force in this deployment (national, with the province's lines)."""
    return current_app.extensions.get(EXTENSION) or load_standards()


def assessment_date(text: str | None) -> dt.date | None:
    """The date of an assessment answer (`2027-03-01`, or a dateTime); None if unreadable."""
    try:
        return dt.date.fromisoformat((text or "").strip()[:10])
    except ValueError:
        return None


def reclassify(values: dict[str, str], on: dt.date | None) -> dict[str, str]:
    """`values` (a household's saved properties) with the status, deprivation count and
    standard the server computes for the assessment date `on`. Unchanged when the form saves
    no status or `on` is unknown."""
    if STATUS not in values or on is None:
        return values
    try:
        result = classify_household(values, on, standards=standards())
    except NoStandardError:
        return {**values, STATUS: UNCLASSIFIED, STANDARD: ""}
    except StandardsError:  # answers that make no sense: the same as none
        return {**values, STATUS: UNCLASSIFIED}
    out = {**values, STATUS: result.status, STANDARD: result.standard_id}
    if COUNT in values and result.classified:
        out[COUNT] = str(result.deprivation_count)
    return out


@dataclass(frozen=True)
class Explanation:
    """What the server decided for one submission's answers, in the standard's words: the
    status, the standard used, the deprivations against the threshold, the income against
    the lines, each indicator and the reasons (or why the household cannot be classified)."""

    status: str
    standard: Standard | None
    income: int | None
    area: str
    lines: dict[str, int | None]
    count: int
    indicators: list[tuple[Label, bool | None]]
    reasons: tuple[Reason, ...]


def explain(values: dict[str, str]) -> Explanation | None:
    """The server's classification of `values` (the properties a submission sent, with the
    status and standard the server computed); None when the form classifies nothing."""
    if STATUS not in values:
        return None
    found = standards()
    standard = next((s for s in found.standards if s.id == values.get(STANDARD)), None)
    if standard is None:
        # No standard covers the assessment date: the page says so in its own words.
        return Explanation(UNCLASSIFIED, None, None, "", {}, 0, [], ())
    try:
        result = classify_household(values, standard.effective_from, standards=found)
    except StandardsError as refused:
        why = Reason("unreadable", refused.message, refused.message_vi)
        result = None
    income = values.get("income_per_person", "")
    area = values.get("area", "")
    lines = {}
    if area in standard.income_lines:
        lines = {band: standard.income_lines[area].get(band) for band in BANDS}
    shown = [
        (i.name, {"1": True, "0": False}.get((values.get(i.id) or "").strip()))
        for i in standard.indicators
    ]
    return Explanation(
        status=result.status if result else UNCLASSIFIED,
        standard=standard,
        income=int(income) if income.isdigit() else None,
        area=area,
        lines=lines,
        count=sum(1 for _name, deprived in shown if deprived),
        indicators=shown,
        reasons=result.reasons if result else (why,),
    )


def ranks() -> dict[str, int]:
    """Statuses from the worst (poor) to the best, as the standards list them."""
    return {key: n for n, key in enumerate(load_standards().statuses)}


@dataclass(frozen=True)
class Tracked:
    """A household's assessments summed up (the columns of the same names): the status of
    its latest version that set one, and the version and status left of the latest change of
    it, when that change was an exit (None otherwise)."""

    assessed_status: str | None = None
    exit_version: int | None = None
    exit_from: str | None = None

    def columns(self) -> dict:
        return {
            "assessed_status": self.assessed_status,
            "exit_version": self.exit_version,
            "exit_from": self.exit_from,
        }


def track(before: Tracked, changes: dict, version: int) -> Tracked:
    """`before` after the household version `version` that set `changes` (the same reading
    of the versions as `exits.exit_of`, one version at a time, in version order)."""
    status = status_column(changes)
    if status is None:
        return before
    old = before.assessed_status
    if old is None or old == status:
        return Tracked(status, before.exit_version, before.exit_from)
    order = ranks()
    if old in TRANSITIONS and order.get(status, -1) > order.get(old, -1):
        return Tracked(status, version, old)
    return Tracked(status, None, None)


def tracked_of(household) -> Tracked:
    """The summed-up columns of a household row (a `HouseholdState` or a `Household`)."""
    return Tracked(household.assessed_status, household.exit_version, household.exit_from)
