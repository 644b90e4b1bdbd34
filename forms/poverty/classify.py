"""Classify a household under the multidimensional poverty standard in force on a date.

The rule (Decree 07/2021/NĐ-CP, kept by Decree 351/2025/NĐ-CP): income per
person per month at or under the poverty line makes a household poor when it
has at least `deprivation_threshold` deprivations and near-poor otherwise;
above that, the average band decides between "average" and "above". Every
number comes from the Standard; see `standards.py`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

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
    """The result: status is one of poor, near_poor, average, above."""

    status: str
    deprivation_count: int
    standard_id: str
    reasons: tuple[Reason, ...] = ()
    deprived: frozenset[str] = field(default_factory=frozenset)


def vnd(amount: int, lang: str = "en") -> str:
    """Money as each language writes it: 1,500,000 VND / 1.500.000 đồng."""
    if lang == "vi":
        return f"{amount:,}".replace(",", ".") + " đồng"
    return f"{amount:,} VND"


def _count(standard: Standard, deprivations: Iterable[str] | int) -> tuple[int, frozenset[str]]:
    """Number of deprivations, checking ids (or the bare count) against the standard."""
    total = len(standard.indicators)
    if isinstance(deprivations, bool):
        raise AssessmentError("deprivations must be a set of indicator ids or a count")
    if isinstance(deprivations, int):
        if not 0 <= deprivations <= total:
            raise AssessmentError(
                f"deprivation count {deprivations} is outside 0..{total}",
                f"số chỉ số thiếu hụt {deprivations} nằm ngoài khoảng 0..{total}",
            )
        return deprivations, frozenset()
    ids = frozenset(deprivations)
    unknown = sorted(ids - set(standard.indicator_ids()))
    if unknown:
        raise AssessmentError(
            f"unknown indicator(s) for {standard.id}: {', '.join(unknown)}",
            f"chỉ số không có trong chuẩn {standard.id}: {', '.join(unknown)}",
        )
    return len(ids), ids


def _check_inputs(income_per_person: int, area: str) -> None:
    if area not in AREAS:
        raise AssessmentError(
            f"area must be one of {', '.join(AREAS)}, not {area!r}",
            f"khu vực phải là một trong {', '.join(AREAS)}, không phải {area!r}",
        )
    if isinstance(income_per_person, bool) or not isinstance(income_per_person, int):
        raise AssessmentError("income per person must be a whole number of VND",
                              "thu nhập bình quân phải là số đồng nguyên")
    if income_per_person < 0:
        raise AssessmentError("income per person cannot be negative",
                              "thu nhập bình quân không được âm")


def _require_complete(standard: Standard) -> None:
    if standard.complete:
        return
    gaps_en = "; ".join(g.reason.en for g in standard.incomplete) or "marked provisional"
    gaps_vi = "; ".join(g.reason.vi for g in standard.incomplete) or "đang là chuẩn tạm thời"
    raise IncompleteStandardError(
        f"The poverty standard {standard.id} ({standard.legal_basis}) is provisional and cannot "
        f"classify households until an administrator completes it: {gaps_en}.",
        f"Chuẩn nghèo {standard.id} ({standard.legal_basis}) đang là chuẩn tạm thời, chưa thể "
        f"dùng để phân loại hộ cho đến khi quản trị viên bổ sung đầy đủ: {gaps_vi}.",
    )


def _income_reason(code: str, income: int, line: int, area: str, at_or_below: bool) -> Reason:
    area_vi = {"rural": "nông thôn", "urban": "thành thị"}[area]
    band, band_vi = (
        ("poverty line", "chuẩn nghèo") if code.endswith("poverty_line")
        else ("average living standard line", "chuẩn mức sống trung bình")
    )
    cmp_en = "at or below" if at_or_below else "above"
    cmp_vi = "không vượt" if at_or_below else "cao hơn"
    return Reason(
        code,
        f"Income {vnd(income)} per person per month is {cmp_en} the {area} {band} of {vnd(line)}.",
        f"Thu nhập bình quân {vnd(income, 'vi')}/người/tháng {cmp_vi} {band_vi} khu vực "
        f"{area_vi} ({vnd(line, 'vi')}).",
    )


def _deprivation_reason(count: int, threshold: int, total: int) -> Reason:
    if count >= threshold:
        return Reason(
            "deprivations_at_or_above_threshold",
            f"{count} of {total} deprivations: at or above the threshold of {threshold}.",
            f"Thiếu hụt {count}/{total} chỉ số: từ {threshold} chỉ số trở lên.",
        )
    return Reason(
        "deprivations_below_threshold",
        f"{count} of {total} deprivations: below the threshold of {threshold}.",
        f"Thiếu hụt {count}/{total} chỉ số: dưới {threshold} chỉ số.",
    )


def classify_under(
    standard: Standard, income_per_person: int, area: str, deprivations: Iterable[str] | int
) -> Classification:
    """Classify under a given standard (refusing a provisional or incomplete one)."""
    _require_complete(standard)
    _check_inputs(income_per_person, area)
    count, deprived = _count(standard, deprivations)
    poor_line = standard.line(area, "poor")
    near_line = standard.line(area, "near_poor")
    average_line = standard.line(area, "average")
    dep = _deprivation_reason(count, standard.deprivation_threshold, len(standard.indicators))
    if income_per_person <= poor_line and count >= standard.deprivation_threshold:
        status = "poor"
        reasons = (_income_reason("income_at_or_below_poverty_line", income_per_person,
                                  poor_line, area, True), dep)
    elif income_per_person <= near_line:
        status = "near_poor"
        reasons = (_income_reason("income_at_or_below_poverty_line", income_per_person,
                                  near_line, area, True), dep)
    elif income_per_person <= average_line:
        status = "average"
        reasons = (
            _income_reason("income_above_poverty_line", income_per_person, near_line, area, False),
            _income_reason("income_at_or_below_average_line", income_per_person,
                           average_line, area, True),
        )
    else:
        status = "above"
        reasons = (_income_reason("income_above_average_line", income_per_person,
                                  average_line, area, False),)
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


def classify_household(
    properties: Mapping[str, str], on: date, *, standards: StandardSet | None = None
) -> Classification | None:
    """Classify from a household's entity properties, as the shipped forms save them.

    The forms save `income_per_person`, `area` and one property per indicator
    id ("1" when deprived), so the server can recompute the status after a
    merge (sync-contract H6) without the form. None when income or area is
    not known yet.
    """
    income, area = properties.get("income_per_person", ""), properties.get("area", "")
    if not income or not area:
        return None
    try:
        amount = int(income)
    except ValueError:
        raise AssessmentError(
            f"income_per_person {income!r} is not a whole number of VND",
            f"thu nhập bình quân {income!r} không phải là số đồng nguyên",
        ) from None
    standard = (standards or load_standards()).standard_for(on)
    deprived = {i for i in standard.indicator_ids() if properties.get(i) == "1"}
    return classify_under(standard, amount, area, deprived)
