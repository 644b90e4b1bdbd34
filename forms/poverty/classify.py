"""Classify a household under the multidimensional poverty standard in force on a date.

The rule (Decree 07/2021/NĐ-CP, kept by Decree 351/2025/NĐ-CP): income per
person per month at or under the poverty line makes a household poor when it
has at least `deprivation_threshold` deprivations and near-poor otherwise;
above that, the average band decides between "average" and "above". The
2016–2020 standard (QĐ 59/2015/QĐ-TTg) adds a lower line under which income
alone makes a household poor. Every number comes from the Standard; see
`standards.py`. A household whose missing answers would decide its status is
"unclassified" (cannot be classified) with the reason, never guessed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from forms.i18n import N_, render, vi
from forms.poverty.standards import (
    AREAS,
    IncompleteStandardError,
    Standard,
    StandardsError,
    StandardSet,
    load_standards,
)


class AssessmentError(StandardsError):
    """The answers given to `classify` cannot be classified (bad area, income or indicator)."""


@dataclass(frozen=True, slots=True)
class Reason:
    """One step of the decision for the reviewer: a stable code, the sentence in en and vi."""

    code: str
    message: str
    message_vi: str


@dataclass(frozen=True, slots=True)
class Classification:
    """The result: status is one of poor, near_poor, average, above, or UNCLASSIFIED (then
    `reasons` say which answers are missing and `missing` names them)."""

    status: str
    deprivation_count: int
    standard_id: str
    reasons: tuple[Reason, ...] = ()
    deprived: frozenset[str] = field(default_factory=frozenset)
    missing: frozenset[str] = field(default_factory=frozenset)

    @property
    def classified(self) -> bool:
        return self.status != UNCLASSIFIED


#: The status of a household whose answers cannot decide it (issue 18).
UNCLASSIFIED = "unclassified"


_VND = N_("%(amount)s VND")
#: The areas as the reason sentences name them: their ids in English, translated in Vietnamese.
_AREA_NAMES = {"rural": N_("rural"), "urban": N_("urban")}
#: The sentence of each income reason code.
_INCOME_REASONS = {
    "income_at_or_below_poverty_line": N_(
        "Income %(income)s per person per month is at or below the %(area)s poverty line "
        "of %(line)s."
    ),
    "income_above_poverty_line": N_(
        "Income %(income)s per person per month is above the %(area)s poverty line of %(line)s."
    ),
    "income_at_or_below_average_line": N_(
        "Income %(income)s per person per month is at or below the %(area)s average living "
        "standard line of %(line)s."
    ),
    "income_at_or_below_income_poor_line": N_(
        "Income %(income)s per person per month is at or below the %(area)s line of %(line)s "
        "under which a household is poor whatever its deprivations."
    ),
    "income_above_average_line": N_(
        "Income %(income)s per person per month is above the %(area)s average living standard "
        "line of %(line)s."
    ),
}


def vnd(amount: int, lang: str = "en") -> str:
    """Money as each language writes it: 1,500,000 VND / 1.500.000 đồng."""
    if lang == "vi":
        return vi(_VND) % {"amount": f"{amount:,}".replace(",", ".")}
    return _VND % {"amount": f"{amount:,}"}


def _count(standard: Standard, deprivations: Iterable[str] | int) -> tuple[int, frozenset[str]]:
    """Number of deprivations, checking ids (or the bare count) against the standard."""
    total = len(standard.indicators)
    if isinstance(deprivations, bool):
        raise AssessmentError("deprivations must be a set of indicator ids or a count")
    if isinstance(deprivations, int):
        if not 0 <= deprivations <= total:
            raise AssessmentError.of(
                N_("deprivation count %(count)s is outside 0..%(total)s"),
                count=deprivations,
                total=total,
            )
        return deprivations, frozenset()
    ids = frozenset(deprivations)
    unknown = sorted(ids - set(standard.indicator_ids()))
    if unknown:
        raise AssessmentError.of(
            N_("unknown indicator(s) for %(standard)s: %(indicators)s"),
            standard=standard.id,
            indicators=", ".join(unknown),
        )
    return len(ids), ids


def _check_inputs(income_per_person: int, area: str) -> None:
    if area not in AREAS:
        raise AssessmentError.of(
            N_("area must be one of %(areas)s, not %(area)r"), areas=", ".join(AREAS), area=area
        )
    if isinstance(income_per_person, bool) or not isinstance(income_per_person, int):
        raise AssessmentError.of(N_("income per person must be a whole number of VND"))
    if income_per_person < 0:
        raise AssessmentError.of(N_("income per person cannot be negative"))


def _require_complete(standard: Standard) -> None:
    if standard.complete:
        return
    # The reasons a standard is incomplete are data (bilingual in the standards file).
    if standard.incomplete:
        gaps = "; ".join(g.reason.en for g in standard.incomplete)
        gaps_vi = "; ".join(g.reason.vi for g in standard.incomplete)
    else:
        gaps, gaps_vi = render(N_("marked provisional"), {})
    raise IncompleteStandardError.of(
        N_(
            "The poverty standard %(standard)s (%(legal_basis)s) is provisional and cannot "
            "classify households until an administrator completes it: %(gaps)s."
        ),
        ("gaps",),
        standard=standard.id,
        legal_basis=standard.legal_basis,
        gaps=gaps,
        gaps_vi=gaps_vi,
    )


def _income_reason(code: str, income: int, line: int, area: str) -> Reason:
    """The income step of the decision; `code` says which line and which side of it."""
    return Reason(
        code,
        *render(
            _INCOME_REASONS[code],
            {
                "income": vnd(income),
                "income_vi": vnd(income, "vi"),
                "line": vnd(line),
                "line_vi": vnd(line, "vi"),
                "area": _AREA_NAMES[area],
                "area_vi": vi(_AREA_NAMES[area]),
            },
            ("income", "line", "area"),
        ),
    )


def _deprivation_reason(count: int, threshold: int, total: int) -> Reason:
    if count >= threshold:
        code = "deprivations_at_or_above_threshold"
        message = N_(
            "%(count)s of %(total)s deprivations: at or above the threshold of %(threshold)s."
        )
    else:
        code = "deprivations_below_threshold"
        message = N_("%(count)s of %(total)s deprivations: below the threshold of %(threshold)s.")
    return Reason(code, *render(message, {"count": count, "total": total, "threshold": threshold}))


def classify_under(
    standard: Standard, income_per_person: int, area: str, deprivations: Iterable[str] | int
) -> Classification:
    """Classify under a given standard (refusing an incomplete one; a provisional one classifies
    with its provisional figures)."""
    _require_complete(standard)
    _check_inputs(income_per_person, area)
    count, deprived = _count(standard, deprivations)
    poor_line = standard.line(area, "poor")
    near_line = standard.line(area, "near_poor")
    average_line = standard.line(area, "average")
    income_poor = standard.income_poor_line(area)
    dep = _deprivation_reason(count, standard.deprivation_threshold, len(standard.indicators))
    if income_poor is not None and income_per_person <= income_poor:
        status = "poor"
        reasons = (_income_reason("income_at_or_below_income_poor_line", income_per_person,
                                  income_poor, area), dep)
    elif income_per_person <= poor_line and count >= standard.deprivation_threshold:
        status = "poor"
        reasons = (_income_reason("income_at_or_below_poverty_line", income_per_person,
                                  poor_line, area), dep)
    elif income_per_person <= near_line:
        status = "near_poor"
        reasons = (_income_reason("income_at_or_below_poverty_line", income_per_person,
                                  near_line, area), dep)
    elif income_per_person <= average_line:
        status = "average"
        reasons = (
            _income_reason("income_above_poverty_line", income_per_person, near_line, area),
            _income_reason("income_at_or_below_average_line", income_per_person,
                           average_line, area),
        )
    else:
        status = "above"
        reasons = (_income_reason("income_above_average_line", income_per_person,
                                  average_line, area),)
    return Classification(status, count, standard.id, reasons, deprived)


def classify(
    income_per_person: int,
    area: str,
    deprivations: Iterable[str] | int,
    on: date,
    *,
    standards: StandardSet | None = None,
) -> Classification:
    """Classify a household under the standard in force on `on`.

    `deprivations` is the set of deprived indicator ids (checked against the
    standard) or just their number. Raises NoStandardError when no standard
    covers the date, IncompleteStandardError when the one in force is
    provisional, AssessmentError for answers that make no sense.
    """
    standard = (standards or load_standards()).standard_for(on)
    return classify_under(standard, income_per_person, area, deprivations)


_MISSING = {
    "income": N_("Income per person or area is not answered: the household cannot be classified."),
    "indicators": N_(
        "No deprivation indicator of %(standard)s is answered: the household cannot be classified."
    ),
    "decisive": N_(
        "Unanswered indicators (%(indicators)s) decide the status under %(standard)s: the "
        "household cannot be classified until they are answered."
    ),
}


def _unclassified(under: Standard, why: str, missing: Iterable[str] = ()) -> Classification:
    params = {"standard": under.id, "indicators": ", ".join(sorted(missing))}
    reason = Reason(f"cannot_classify_{why}", *render(_MISSING[why], params))
    return Classification(UNCLASSIFIED, 0, under.id, (reason,), frozenset(), frozenset(missing))


def classify_household(
    properties: Mapping[str, str], on: date, *, standards: StandardSet | None = None
) -> Classification:
    """Classify from a household's entity properties, as the shipped forms save them.

    The forms save `income_per_person`, `area` and one property per indicator
    id ("1" when deprived, "0" when not), so the server can recompute the
    status after a merge (sync-contract H6) without the form. A household is
    UNCLASSIFIED (with its reason) when income or area is not known, when no
    indicator of the standard in force is answered, or when the unanswered
    ones would change the status (classified both as not deprived and as
    deprived, the two results differ); never near-poor with 0 deprivations.
    """
    standard = (standards or load_standards()).standard_for(on)
    income, area = properties.get("income_per_person", ""), properties.get("area", "")
    if not income or not area:
        return _unclassified(standard, "income")
    try:
        amount = int(income)
    except ValueError:
        raise AssessmentError.of(
            N_("income_per_person %(income)r is not a whole number of VND"), income=income
        ) from None
    ids = standard.indicator_ids()
    answered = {i for i in ids if (properties.get(i) or "").strip() in ("0", "1")}
    missing = frozenset(ids) - answered
    if not answered:
        return _unclassified(standard, "indicators", missing)
    deprived = {i for i in answered if properties[i].strip() == "1"}
    result = classify_under(standard, amount, area, deprived)
    if missing and classify_under(standard, amount, area, deprived | missing).status != (
        result.status
    ):
        return _unclassified(standard, "decisive", missing)
    return result
