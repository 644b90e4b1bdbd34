"""The multidimensional poverty standard: data (`standards.json`) and the classifier.

Pure Python: the server's poverty service, the shipped forms' build script and
the tests all read thresholds, indicators and status words from here.
"""

from __future__ import annotations

from datetime import date

from forms.poverty.classify import (
    UNCLASSIFIED,
    AssessmentError,
    Classification,
    Reason,
    classify,
    classify_household,
    classify_under,
    vnd,
)
from forms.poverty.standards import (
    IncompleteStandardError,
    Indicator,
    Label,
    NoStandardError,
    Standard,
    StandardsError,
    StandardSet,
    load_standards,
    parse_standards,
)

__all__ = [
    "UNCLASSIFIED",
    "AssessmentError",
    "Classification",
    "IncompleteStandardError",
    "Indicator",
    "Label",
    "NoStandardError",
    "Reason",
    "Standard",
    "StandardSet",
    "StandardsError",
    "classify",
    "classify_household",
    "classify_under",
    "load_standards",
    "parse_standards",
    "standard_for",
    "status_label",
    "vnd",
]


def standard_for(on: date) -> Standard:
    """The shipped standard in force on `on`, both ends of each period inclusive (2016-01-01 ..
    2021-12-31, 2022-01-01 .. 2026-12-31, 2027-01-01 .. 2030-12-31); NoStandardError, which
    names the date and the periods known, when none covers it."""
    return load_standards().standard_for(on)


def status_label(status: str, lang: str = "vi") -> str:
    """The word the UI shows for a status or transition id (hộ nghèo, thoát nghèo, ...)."""
    standards = load_standards()
    if status == UNCLASSIFIED:
        return standards.unclassified.get(lang)
    label = standards.statuses.get(status) or standards.transitions.get(status)
    if label is None:
        raise KeyError(status)
    return label.get(lang)
