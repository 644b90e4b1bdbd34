"""The score of a pair of households: how likely they are one household (sync contract D2).

Each compared property adds points for agreement and takes points away for disagreement
(the Fellegi-Sunter idea: an agreement on a rare, reliable property is strong evidence, a
disagreement on one is strong counter-evidence); a property missing on either side adds
nothing. The total is compared with `THRESHOLD`; the breakdown is shown to the reviewer.

The two households are compared person against person (head and members alike: name, sex,
birth year, CCCD), so a registration made by the spouse of the head finds the household
(issue 17). People are paired one to one, best first; two people of another sex, another
CCCD or birth years more than one apart are never one person.

Weights (points); the generators of `bench/dedup.py` measure them (README, duplicates):

| property | agreement | disagreement |
|---|---|---|
| head's name | +4 same canonical name, +3.4 same folded, 0 at similarity 0.8 | -4 at 0.6 |
| head's birth year | +2 same, +0.5 one year apart (a typo) | -2 up to 4 years, -4 more |
| head's CCCD | +6 same, +3 one typing error apart, +2 head's = a member's | -5 |
| official household code | +6 | -3 |
| phone | +3 | -1 (numbers change) |
| GPS distance | +2.5 within 30 m, +1.5 within 100 m, +0.5 within 300 m | -1 to 1 km, -3 |
| village | +0.5 | -1 |
| head is a member of the other (spouse) | head-to-member name and year points - 0.5 | |
| members (other people matched) | +2 each, at most +4 | -2.5 when none matches |

Name similarity compares the folded names (accents, Hoàng/Huỳnh, Vũ/Võ and highland
prefixes removed) as sorted words with rapidfuzz, so word order does not count; the same
family and given name with middle names dropped counts as 0.95.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

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


@lru_cache(maxsize=65536)  # names repeat: a commune has a few hundred given names
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


#: A person of a household as the score compares them: the head and each member alike.
_Person = Member


def _could_be_one(a: Member, b: Member) -> bool:
    """Could the two be one person, names apart (no other CCCD, sex, or birth year more
    than a year off; both named)?"""
    if a.cccd and b.cccd and a.cccd != b.cccd and not cccd_near(a.cccd, b.cccd):
        return False
    if a.sex and b.sex and a.sex != b.sex:
        return False
    if a.birth_year and b.birth_year and abs(a.birth_year - b.birth_year) > 1:
        return False
    return bool(a.name and b.name)


def _person_points(a: Member, b: Member) -> float | None:
    """Name and birth year points of two people, or None when they cannot be one person
    (another CCCD, another sex, birth years more than a year apart, names unlike)."""
    if not _could_be_one(a, b):
        return None
    same_id = bool(a.cccd and a.cccd == b.cccd)
    sim = name_similarity(a.name, b.name)
    if sim < 0.75 and not same_id:
        return None
    return name_points(a.name, b.name) + (_year_points(a.birth_year, b.birth_year) or 0.0)


def _matched_people(a: Profile, b: Profile) -> list[tuple[int, int, float]]:
    """The people of `a` and `b` paired one to one, best pairs first (greedy: households are
    small, and a person is seldom like two others of the other household)."""
    pa, pb = a.people, b.people
    found = []
    for i, x in enumerate(pa):
        for j, y in enumerate(pb):
            points = _person_points(x, y)
            if points is not None:
                found.append((points, i, j))
    used_a, used_b, pairs = set(), set(), []
    for points, i, j in sorted(found, reverse=True):
        if i not in used_a and j not in used_b:
            used_a.add(i), used_b.add(j)
            pairs.append((i, j, points))
    return pairs


def _household_parts(a: Profile, b: Profile) -> dict[str, float | None]:
    """The head's and the members' points, comparing the people of both households: the head
    of one may be the spouse (or another member) in the other, when someone else answered
    the door (issue 17)."""
    pairs = _matched_people(a, b)
    heads = next((points for i, j, points in pairs if i == 0 and j == 0), None)
    parts: dict[str, float | None] = {}
    if heads is not None:
        parts["name"] = name_points(a.name, b.name)
        parts["birth_year"] = _year_points(a.birth_year, b.birth_year)
        rest = [p for i, j, p in pairs if i and j]
    else:
        crossed = [pair for pair in pairs if (pair[0] == 0) != (pair[1] == 0)]
        best = max(crossed, key=lambda pair: pair[2], default=None)
        if best is not None and best[2] > 0:
            parts["head_is_member"] = best[2] - 0.5
            rest = [pair[2] for pair in pairs if pair is not best]
        else:
            parts["name"] = name_points(a.name, b.name) if a.name and b.name else None
            parts["birth_year"] = _year_points(a.birth_year, b.birth_year)
            rest = [p for i, j, p in pairs if i and j]
    others = min(len(a.members), len(b.members))
    if others:
        matched = sum(1 for p in rest if p > 0)
        if matched:
            parts["members"] = min(4.0, 2.0 * matched)
        else:
            parts["members"] = -2.5
    return parts


#: What `_other_points` scores, in its order.
OTHER_PARTS = ("cccd", "household_code", "phone", "distance", "village")


def _other_points(a: Profile, b: Profile) -> tuple[float | None, ...]:
    """The points of everything but the people (`OTHER_PARTS`): identifiers and place."""
    return (
        _cccd_points(a, b),
        _code_points(a.household_code, b.household_code),
        _phone_points(a.phone, b.phone),
        _distance_points(a, b),
        _village_points(a.village, b.village),
    )


def _total(parts: dict[str, float | None]) -> Score:
    breakdown = {k: round(v, 2) for k, v in parts.items() if v is not None}
    return Score(round(sum(breakdown.values()), 2), breakdown)


def score(a: Profile, b: Profile) -> Score:
    """The weighted comparison of two households, with the points of each property."""
    others = dict(zip(OTHER_PARTS, _other_points(a, b), strict=True))
    return _total({**_household_parts(a, b), **others})


#: The most the members of two households can add (`_household_parts`), when both list some.
MEMBERS_MOST = 4.0
#: The most a head found among the other household's members can add (name +4, year +2,
#: less 0.5).
HEAD_IS_MEMBER_MOST = 5.5


def _people_most(a: Profile, b: Profile) -> float:
    """At least what `_household_parts` gives, without comparing a name: the heads' names at
    their best (+4) with their birth years as they are; or, when a head could be one of
    the other's members, that at its best; and the members at their best."""
    most = 4.0 + (_year_points(a.birth_year, b.birth_year) or 0.0)
    if most < HEAD_IS_MEMBER_MOST:
        pa, pb = a.people, b.people
        if any(_could_be_one(pa[0], y) for y in pb[1:]) or any(
            _could_be_one(x, pb[0]) for x in pa[1:]
        ):
            most = HEAD_IS_MEMBER_MOST
    return most + (MEMBERS_MOST if a.members and b.members else 0.0)


def candidate(a: Profile, b: Profile) -> Score | None:
    """`score(a, b)` when the pair is a candidate (at or above `THRESHOLD`), else None; the
    same answer as `score(a, b).is_candidate` (a property test holds them equal), at a
    fraction of the cost for most pairs blocking brings: the identifiers, the place and the
    birth years are scored first, and when even names agreeing at their best could not
    lift them to the threshold (another CCCD and phone, a head ten years older, say), no
    name is compared. Comparing names person against person (rapidfuzz) is what a recheck
    spends its time on."""
    others = _other_points(a, b)
    # Each part is rounded to 0.01 in the total: allow for it before leaving the pair out.
    if sum(v for v in others if v is not None) + _people_most(a, b) < THRESHOLD - 0.05:
        return None
    result = _total({**_household_parts(a, b), **dict(zip(OTHER_PARTS, others, strict=True))})
    return result if result.is_candidate else None
