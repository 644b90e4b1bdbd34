"""The score of a pair of households: how likely they are one household (sync contract D2).

Each compared property adds points for agreement and takes points away for disagreement
(the Fellegi-Sunter idea: an agreement on a rare, reliable property is strong evidence, a
disagreement on one is strong counter-evidence); a property missing on either side adds
nothing. The total is compared with `THRESHOLD`; the breakdown is shown to the reviewer.

Weights (points), chosen on the generated data of `bench/dedup.py` (recall 0.95+ at
precision 0.90+ is the target):

| property | agreement | disagreement |
|---|---|---|
| head's name | +4 same canonical name, +3.4 same folded, 0 at similarity 0.8 | -4 at 0.6 |
| head's birth year | +2 same, +0.5 one year apart (a typo) | -2 up to 4 years, -4 more |
| head's CCCD | +6 same, +3 one typing error apart, +2 head's = a member's | -5 |
| official household code | +6 | -3 |
| phone | +3 | -1 (numbers change) |
| GPS distance | +2.5 within 30 m, +1.5 within 100 m, +0.5 within 300 m | -1 to 1 km, -3 |
| village | +0.5 | -1 |
| members (share f of members matched) | up to +2 at f = 1 | down to -2 at f = 0 |

Name similarity compares the folded names (accents, Hoàng/Huỳnh, Vũ/Võ and highland
prefixes removed) as sorted words with rapidfuzz, so word order does not count; the same
family and given name with middle names dropped counts as 0.95.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz

from server.dedup.keys import Member, Profile, cccd_near, distance_m
from server.dedup.names import canonical, comparable, parse

#: A pair at or above this total is a possible duplicate (a case for a reviewer).
THRESHOLD = 5.0


@dataclass(frozen=True)
class Score:
    total: float
    breakdown: dict[str, float] = field(default_factory=dict)

    @property
    def is_candidate(self) -> bool:
        return self.total >= THRESHOLD


def name_similarity(a: str, b: str) -> float:
    """0..1: 1 for the same canonical name, 0.97 for the same name without accents."""
    if not a or not b:
        return 0.0
    if canonical(a) == canonical(b):
        return 1.0
    fa, fb = comparable(a), comparable(b)
    if fa == fb:
        return 0.97
    sim = fuzz.token_sort_ratio(fa, fb) / 100
    pa, pb = parse(a), parse(b)
    if pa.given and pa.given == pb.given and pa.family == pb.family:
        sim = max(sim, 0.95)  # middle names dropped or added
    return sim


def name_points(a: str, b: str) -> float:
    return max(-4.0, min(4.0, (name_similarity(a, b) - 0.8) * 20))


def _year_points(a: int | None, b: int | None) -> float | None:
    if not a or not b:
        return None
    gap = abs(a - b)
    return 2.0 if gap == 0 else 0.5 if gap == 1 else -2.0 if gap <= 4 else -4.0


def _cccd_points(a: Profile, b: Profile) -> float | None:
    if a.cccd and b.cccd:
        return 6.0 if a.cccd == b.cccd else 3.0 if cccd_near(a.cccd, b.cccd) else -5.0
    members = {m.cccd for m in (*a.members, *b.members) if m.cccd}
    if (a.cccd or b.cccd) in members:
        return 2.0
    return None


def _code_points(a: str, b: str) -> float | None:
    return None if not a or not b else 6.0 if a == b else -3.0


def _phone_points(a: str, b: str) -> float | None:
    return None if not a or not b else 3.0 if a == b else -1.0


def _distance_points(a: Profile, b: Profile) -> float | None:
    if a.point is None or b.point is None:
        return None
    metres = distance_m(a.point, b.point)
    for limit, points in ((30, 2.5), (100, 1.5), (300, 0.5), (1000, -1.0)):
        if metres <= limit:
            return points
    return -3.0


def _village_points(a: str, b: str) -> float | None:
    return None if not a or not b else 0.5 if a == b else -1.0


def _member_match(m: Member, others: tuple[Member, ...]) -> bool:
    for o in others:
        if m.cccd and m.cccd == o.cccd:
            return True
        near_year = not m.birth_year or not o.birth_year or abs(m.birth_year - o.birth_year) <= 1
        if near_year and name_similarity(m.name, o.name) >= 0.85:
            return True
    return False


def _member_points(a: Profile, b: Profile) -> float | None:
    if not a.members or not b.members:
        return None
    small, large = sorted((a.members, b.members), key=len)
    matched = sum(1 for m in small if _member_match(m, large))
    return (matched / len(large) - 0.5) * 4


def score(a: Profile, b: Profile) -> Score:
    """The weighted comparison of two households, with the points of each property."""
    parts = {
        "name": name_points(a.name, b.name) if a.name and b.name else None,
        "birth_year": _year_points(a.birth_year, b.birth_year),
        "cccd": _cccd_points(a, b),
        "household_code": _code_points(a.household_code, b.household_code),
        "phone": _phone_points(a.phone, b.phone),
        "distance": _distance_points(a, b),
        "village": _village_points(a.village, b.village),
        "members": _member_points(a, b),
    }
    breakdown = {k: round(v, 2) for k, v in parts.items() if v is not None}
    return Score(round(sum(breakdown.values()), 2), breakdown)
