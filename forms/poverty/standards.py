"""Poverty standards as data: read `standards.json`, check it, find the one in force on a date.

The thresholds change every five years and provinces may set higher local
lines, so nothing here hard-codes a number: every line, indicator and status
word comes from the JSON file (or another file in the same shape passed to
`load_standards`). Loading refuses data that cannot be right (overlapping
periods, an indicator without a dimension, income lines out of order), so a
mistake in the file is caught when the file is read, not when a household is
misclassified.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from forms.i18n import N_, render

DEFAULT_PATH = Path(__file__).with_name("standards.json")
AREAS = ("rural", "urban")
BANDS = ("poor", "near_poor", "average")
#: An optional band under the poor line: income at or under it makes a household poor whatever
#: its deprivations (QĐ 59/2015/QĐ-TTg: 700,000 rural, 900,000 urban); later standards have none.
INCOME_POOR = "income_poor"


class StandardsError(ValueError):
    """Standards data that cannot be used; carries an English and a Vietnamese message."""

    def __init__(self, message: str, message_vi: str = "") -> None:
        self.message = message
        self.message_vi = message_vi or message
        super().__init__(message)

    @classmethod
    def of(cls, message: str, localized: tuple[str, ...] = (), **params):
        """The error of the message id `message`: its Vietnamese comes from the `giupho_forms`
        catalogue (`%(name)s` placeholders from `params`, see `forms.i18n.render`)."""
        return cls(*render(message, params, localized))


class IncompleteStandardError(StandardsError):
    """The standard in force is provisional: an administrator must complete it first."""


class NoStandardError(StandardsError):
    """No standard covers the requested date."""


@dataclass(frozen=True, slots=True)
class Label:
    """A word or phrase in Vietnamese and English."""

    vi: str
    en: str

    def get(self, lang: str = "vi") -> str:
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True, slots=True)
class Indicator:
    """One deprivation indicator; `id` is also the field name in the shipped forms."""

    id: str
    dimension: str
    name: Label
    deprived_when: Label | None = None


@dataclass(frozen=True, slots=True)
class Gap:
    """Why a provisional standard cannot classify yet."""

    field: str
    reason: Label


@dataclass(frozen=True, slots=True)
class Standard:
    """One poverty standard with its effective period (both ends inclusive)."""

    id: str
    legal_basis: str
    title: Label
    effective_from: date
    effective_to: date
    provisional_parts: tuple[Gap, ...]
    incomplete: tuple[Gap, ...]
    deprivation_threshold: int
    income_lines: Mapping[str, Mapping[str, int | None]]
    dimensions: Mapping[str, Label]
    indicators: tuple[Indicator, ...]

    sources: tuple[tuple[str, str], ...] = ()

    @property
    def provisional(self) -> bool:
        """Some figures are not gazetted yet (`provisional_parts`); it still classifies."""
        return bool(self.provisional_parts)

    @property
    def complete(self) -> bool:
        """Whether the standard can classify: no figure is missing (`incomplete` is empty)."""
        return not self.incomplete

    def income_poor_line(self, area: str) -> int | None:
        """The line at or under which income alone makes a household poor (None: no such line)."""
        return self.income_lines[area].get(INCOME_POOR)

    def covers(self, on: date) -> bool:
        return self.effective_from <= on <= self.effective_to

    def line(self, area: str, band: str) -> int:
        """The inclusive upper income bound of `band` ("poor", "near_poor", "average") in `area`."""
        value = self.income_lines[area][band]
        if value is None:
            raise IncompleteStandardError.of(
                N_("Standard %(standard)s has no %(band)s income line for %(area)s areas."),
                standard=self.id,
                band=band,
                area=area,
            )
        return value

    def indicator_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.indicators)


@dataclass(frozen=True, slots=True)
class StandardSet:
    """Every standard in a file, with the status words the UI shows."""

    standards: tuple[Standard, ...]
    statuses: Mapping[str, Label]
    transitions: Mapping[str, Label]
    areas: Mapping[str, Label]
    unclassified: Label = Label(vi="chưa phân loại được", en="cannot be classified")

    def standard_for(self, on: date) -> Standard:
        """The standard in force on `on`; NoStandardError when none covers it."""
        if isinstance(on, datetime):  # a datetime does not compare with a date
            on = on.date()
        for standard in self.standards:
            if standard.covers(on):
                return standard
        periods = ", ".join(
            f"{s.effective_from.isoformat()}..{s.effective_to.isoformat()}" for s in self.standards
        )
        raise NoStandardError.of(
            N_("No poverty standard covers %(date)s (standards known: %(periods)s)."),
            date=on.isoformat(),
            periods=periods,
        )

    def get(self, standard_id: str) -> Standard:
        for standard in self.standards:
            if standard.id == standard_id:
                return standard
        raise StandardsError.of(
            N_("Unknown poverty standard '%(standard)s'."), standard=standard_id
        )


def _fail(message: str, english_detail: str = "", **params) -> StandardsError:
    """A problem of the standards file, from the message id `message`. `english_detail` is
    appended to the English text only (a raw value the Vietnamese text leaves out)."""
    problem, problem_vi = render(message, params)
    return StandardsError.of(
        N_("standards data: %(problem)s"),
        ("problem",),
        problem=problem + english_detail,
        problem_vi=problem_vi,
    )


def _label(raw: Mapping[str, Any], where: str) -> Label:
    if not raw.get("vi") or not raw.get("en"):
        raise _fail(N_("%(where)s needs both 'vi' and 'en' text"), where=where)
    return Label(vi=raw["vi"], en=raw["en"])


def _labels(rows: list[Mapping[str, Any]], where: str) -> dict[str, Label]:
    out: dict[str, Label] = {}
    for row in rows:
        if row["id"] in out:
            raise _fail(N_("duplicate %(where)s id '%(id)s'"), where=where, id=row["id"])
        out[row["id"]] = _label(row, f"{where} '{row['id']}'")
    return out


def _indicators(raw: Mapping[str, Any], dimensions: Mapping[str, Label]) -> tuple[Indicator, ...]:
    """Indicators of one standard; each must name a dimension of that standard."""
    seen: set[str] = set()
    out = []
    for row in raw["indicators"]:
        iid = row["id"]
        if iid in seen:
            raise _fail(
                N_("%(standard)s: duplicate indicator '%(indicator)s'"),
                standard=raw["id"],
                indicator=iid,
            )
        seen.add(iid)
        if row.get("dimension") not in dimensions:
            raise _fail(
                N_("%(standard)s: indicator '%(indicator)s' has no known dimension"),
                f" ({row.get('dimension')!r})",
                standard=raw["id"],
                indicator=iid,
            )
        when = row.get("deprived_when")
        out.append(
            Indicator(
                id=iid,
                dimension=row["dimension"],
                name=_label(row, f"indicator '{iid}'"),
                deprived_when=_label(when, f"indicator '{iid}'") if when else None,
            )
        )
    return tuple(out)


def _income_lines(raw: Mapping[str, Any]) -> dict[str, dict[str, int | None]]:
    """Income lines per area: whole, non-negative, ordered income_poor <= poor <= near_poor <=
    average (`income_poor` optional)."""
    lines = {}
    for area in AREAS:
        bands = raw["income_lines"].get(area)
        if bands is None or set(bands) - {INCOME_POOR} != set(BANDS):
            raise _fail(
                N_("%(standard)s: income_lines.%(area)s needs exactly %(bands)s"),
                standard=raw["id"],
                area=area,
                bands=", ".join(BANDS),
            )
        order = (INCOME_POOR, *BANDS) if INCOME_POOR in bands else BANDS
        known = [bands[b] for b in order if bands[b] is not None]
        if any(not isinstance(v, int) or v < 0 for v in known) or known != sorted(known):
            raise _fail(
                N_(
                    "%(standard)s: income lines for %(area)s must be whole VND, ordered "
                    "poor <= near_poor <= average"
                ),
                f" (got {bands})",
                standard=raw["id"],
                area=area,
            )
        lines[area] = {b: bands[b] for b in order}
    return lines


def _standard(raw: Mapping[str, Any]) -> Standard:
    """Build and check one standard from its JSON object."""
    dimensions = _labels(raw["dimensions"], f"{raw['id']} dimension")
    standard = Standard(
        id=raw["id"],
        legal_basis=raw["legal_basis"],
        title=_label(raw["title"], f"{raw['id']} title"),
        effective_from=date.fromisoformat(raw["effective_from"]),
        effective_to=date.fromisoformat(raw["effective_to"]),
        provisional_parts=tuple(
            Gap(field=g["field"], reason=_label(g, f"{raw['id']} provisional part"))
            for g in raw.get("provisional", [])
        ),
        incomplete=tuple(
            Gap(field=g["field"], reason=_label(g, f"{raw['id']} gap")) for g in raw["incomplete"]
        ),
        sources=tuple((src["field"], src["source"]) for src in raw.get("sources", [])),
        deprivation_threshold=raw["deprivation_threshold"],
        income_lines=_income_lines(raw),
        dimensions=dimensions,
        indicators=_indicators(raw, dimensions),
    )
    if standard.effective_from > standard.effective_to:
        raise _fail(N_("%(standard)s: period ends before it starts"), standard=standard.id)
    if not 1 <= standard.deprivation_threshold <= len(standard.indicators):
        raise _fail(
            N_(
                "%(standard)s: deprivation_threshold must be between 1 and the number of indicators"
            ),
            standard=standard.id,
        )
    missing = [f"{a}.{b}" for a in AREAS for b in BANDS if standard.income_lines[a][b] is None]
    if missing and not standard.incomplete:
        # A null line is only acceptable when the file says why the standard is incomplete.
        raise _fail(
            N_(
                "%(standard)s: income lines %(missing)s are missing but the standard "
                "lists nothing under 'incomplete'"
            ),
            standard=standard.id,
            missing=", ".join(missing),
        )
    return standard


def _check_periods(standards: list[Standard]) -> None:
    ordered = sorted(standards, key=lambda s: s.effective_from)
    for earlier, later in pairwise(ordered):
        if later.effective_from <= earlier.effective_to:
            raise _fail(
                N_("periods of %(earlier)s and %(later)s overlap"),
                earlier=earlier.id,
                later=later.id,
            )


def parse_standards(data: Mapping[str, Any]) -> StandardSet:
    """Check and build a StandardSet from the decoded JSON document."""
    try:
        standards = [_standard(raw) for raw in data["standards"]]
        result = StandardSet(
            standards=tuple(sorted(standards, key=lambda s: s.effective_from)),
            statuses=_labels(data["statuses"], "status"),
            transitions=_labels(data.get("transitions", []), "transition"),
            areas=_labels(data["areas"], "area"),
            **(
                {"unclassified": _label(data["unclassified"], "unclassified")}
                if "unclassified" in data
                else {}
            ),
        )
    except (KeyError, TypeError) as exc:
        raise _fail(N_("missing or malformed entry: %(error)s"), error=exc) from exc
    ids = [s.id for s in standards]
    if len(set(ids)) != len(ids):
        raise _fail(N_("duplicate standard id"))
    if set(result.areas) != set(AREAS):
        raise _fail(N_("areas must be exactly %(areas)s"), areas=str(AREAS))
    _check_periods(standards)
    return result


def load_standards(path: str | os.PathLike[str] | None = None) -> StandardSet:
    """Read and check a standards file (the shipped one by default, cached)."""
    if path is None:
        return _default_standards()
    with open(path, encoding="utf-8") as fh:
        return parse_standards(json.load(fh))


@lru_cache(maxsize=1)
def _default_standards() -> StandardSet:
    with open(DEFAULT_PATH, encoding="utf-8") as fh:
        return parse_standards(json.load(fh))
