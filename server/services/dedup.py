"""Duplicate households (sync contract D1-D4): the hooks the household service calls.

The household service (`server.services.households`) calls these inside the
ingest transaction, so a submission and its duplicate flags commit together
(R8):

- `exact_match` before a registration creates a household (D1);
- `registered` after a household is created (index its keys, open fuzzy cases, D2);
- `updated` after a household gets a new version (re-index its keys);
- `double_entry` for every submission applied to a household (D4).

Interface scaffold for the session's parallel work: the bodies are filled in
by the duplicates work (blocking keys, scoring, cases); the signatures are the
contract between the two services.
"""

from __future__ import annotations

from server.services.submission_places import Place


def exact_match(household_id: str, properties: dict[str, str], place: Place) -> str | None:
    """D1: the id of an existing household in scope that has the same official household
    code or head's CCCD as this registration, or None. The caller then applies the
    registration to that household as an update and records the automatic link."""
    return None


def registered(
    household_id: str,
    properties: dict[str, str],
    label: str | None,
    place: Place,
    submission_id: int,
) -> None:
    """D2: index a new household's blocking keys and open possible-duplicate cases."""


def updated(household_id: str, properties: dict[str, str], label: str | None) -> None:
    """Re-index a household's blocking keys after a new version."""


def double_entry(submission_id: int, household_id: str) -> bool:
    """D4: flag `submission_id` when the same user sent the same form with the same answers
    for this household within a day; True when flagged."""
    return False
