"""Identifiers and blocking keys: CCCD, phone, household code, GPS cells (domain.md).

A household is indexed under a few short keys; a new household is compared only with the
households that share one of its keys (sync contract D2: blocking, never a scan):

- `code:` and `cccd:` (exact, within the commune): the D1 keys;
- `name:` folded family + given name, and `given:` folded given name + birth year
  (within the commune): catch missing accents, moved tone marks, Hoàng/Huỳnh, dropped
  middle names and Central Highlands name order;
- `half:` each half of the head's CCCD (within the commune): a CCCD typed with one wrong
  digit keeps one half intact, so it still meets its twin;
- `member:` each member's CCCD (within the commune), which a head's CCCD is looked up in;
- `phone:` the normalised phone number (anywhere);
- `gps:` the ~165 m grid cell of the house; a new household looks in its cell and the
  eight around it (so every house within 165 m, and some up to ~500 m, is a candidate).
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from rapidfuzz.distance import OSA

from server.dedup.names import folded, parse

#: GPS grid cell size in degrees (~165 m of latitude; ~160 m of longitude in Vietnam).
GPS_CELL_DEGREES = 0.0015

#: Old 11-digit mobile prefixes and their 10-digit replacements (the 2018 renumbering).
OLD_MOBILE_PREFIXES = {
    "0162": "032", "0163": "033", "0164": "034", "0165": "035", "0166": "036",
    "0167": "037", "0168": "038", "0169": "039", "0120": "070", "0121": "079",
    "0122": "077", "0126": "076", "0128": "078", "0123": "083", "0124": "084",
    "0125": "085", "0127": "081", "0129": "082", "0186": "056", "0188": "058",
    "0199": "059",
}  # fmt: skip

_NOT_DIGIT = re.compile(r"\D")
_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def digits(text: str | None) -> str:
    return _NOT_DIGIT.sub("", text or "")


def cccd(text: str | None) -> str:
    """A personal ID as its digits: a 12-digit CCCD or a 9-digit CMND; "" otherwise."""
    found = digits(text)
    return found if len(found) in (9, 12) else ""


def cccd_near(a: str, b: str) -> bool:
    """Two different IDs one typing error apart (a wrong, missing, extra or swapped digit):
    a weaker signal than equality."""
    return bool(a and b and a != b and OSA.distance(a, b, score_cutoff=1) <= 1)


def phone(text: str | None) -> str:
    """A Vietnamese phone number as 0 + national number: +84/0084/84 prefixes removed and
    the old 11-digit mobile prefixes renumbered; "" when it is not a plausible number."""
    found = digits(text)
    if found.startswith("0084"):
        found = "0" + found[4:]
    elif found.startswith("84") and len(found) in (11, 12):
        found = "0" + found[2:]
    elif not found.startswith("0") and len(found) in (9, 10):
        found = "0" + found
    if len(found) == 11 and found[:4] in OLD_MOBILE_PREFIXES:
        found = OLD_MOBILE_PREFIXES[found[:4]] + found[4:]
    return found if 10 <= len(found) <= 11 else ""


def household_code(text: str | None) -> str:
    """An official household code without spaces, dashes or case differences."""
    return _NOT_ALNUM.sub("", (text or "").upper())


def birth_year(text: str | None) -> int | None:
    found = digits(text)
    return int(found) if len(found) == 4 and 1880 <= int(found) <= 2200 else None


def geopoint(text: str | None) -> tuple[float, float] | None:
    """(lat, lon) of an ODK geopoint ("lat lon [alt [accuracy]]"), or None."""
    parts = (text or "").split()
    if len(parts) < 2:
        return None
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return lat, lon


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2
    h += math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def gps_cell(point: tuple[float, float]) -> tuple[int, int]:
    return math.floor(point[0] / GPS_CELL_DEGREES), math.floor(point[1] / GPS_CELL_DEGREES)


def gps_key(cell: tuple[int, int]) -> str:
    return f"gps:{cell[0]}:{cell[1]}"


class Member(NamedTuple):
    """A person of a household (a tuple: a recheck builds hundreds of thousands of them)."""

    name: str
    birth_year: int | None = None
    cccd: str = ""
    sex: str = ""  # male | female | "" (the form's `sex` choices)
    relation: str = ""  # to the head: spouse, child, parent, ... (the form's `relation`)


@dataclass(frozen=True)
class Profile:
    """What duplicate detection compares of a household (all normalised but the name)."""

    name: str
    birth_year: int | None = None
    cccd: str = ""
    phone: str = ""
    household_code: str = ""
    village: str = ""
    point: tuple[float, float] | None = None
    members: tuple[Member, ...] = ()
    sex: str = ""  # the head's

    @cached_property
    def people(self) -> tuple[Member, ...]:
        """The head and each member alike (as the score compares them)."""
        return (Member(self.name, self.birth_year, self.cccd, self.sex, "head"), *self.members)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "birth_year": self.birth_year,
            "cccd": self.cccd,
            "phone": self.phone,
            "household_code": self.household_code,
            "village": self.village,
            "point": list(self.point) if self.point else None,
            "members": [[m.name, m.birth_year, m.cccd, m.sex, m.relation] for m in self.members],
            "sex": self.sex,
        }

    @classmethod
    def from_json(cls, data: dict) -> Profile:
        point = data.get("point")
        return cls(
            name=data.get("name") or "",
            birth_year=data.get("birth_year"),
            cccd=data.get("cccd") or "",
            phone=data.get("phone") or "",
            household_code=data.get("household_code") or "",
            village=data.get("village") or "",
            point=(point[0], point[1]) if point else None,
            # Profiles stored before sex and relation were read have three fields a member.
            members=tuple(_member(*m) for m in data.get("members") or ()),
            sex=data.get("sex") or "",
        )


#: Separates the people and numbers of a search text, so a query never matches across two.
SEARCH_SEPARATOR = "|"


def search_text(profile: Profile) -> str:
    """What the site's search box looks in: the head's and every member's folded name (the
    matching key 2: accents, case, tone placement and đ/d do not count), the CCCDs, the phone
    and the household code, each between separators ("|nguyen van dinh|lo thi mai|0912...|")."""
    parts = [folded(profile.name), *(folded(m.name) for m in profile.members)]
    parts += [profile.cccd, *(m.cccd for m in profile.members), profile.phone]
    parts.append(profile.household_code.lower())
    found = SEARCH_SEPARATOR.join(p for p in parts if p)
    return f"{SEARCH_SEPARATOR}{found}{SEARCH_SEPARATOR}" if found else ""


def search_query(text: str) -> str:
    """A search box's text as it is looked for in `search_text`: a number (CCCD, phone,
    household code typed with spaces or +84) as its digits, anything else as folded words."""
    text = (text or "").strip()
    if text and not any(c.isalpha() for c in text):
        return phone(text) or digits(text)
    return folded(text)


def _member(name, year, cccd, sex="", relation="") -> Member:
    return Member(name, year, cccd or "", sex or "", relation or "")


#: The longest key the index holds (`DuplicateKey.key`, a tests/unit check keeps them equal).
KEY_CHARS = 120


def _fitted(keys: list[str]) -> list[str]:
    """`keys` without repeats, each within KEY_CHARS: a longer one keeps its head and ends in
    a digest of the whole, so equal keys stay equal and different ones stay apart (a name
    or code of any length must not stop a household from being stored)."""
    fitted = []
    for key in keys:
        if len(key) > KEY_CHARS:
            digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=10)
            key = f"{key[: KEY_CHARS - 21]}#{digest.hexdigest()}"
        fitted.append(key)
    return list(dict.fromkeys(fitted))


def exact_keys(profile: Profile, scope: str) -> list[str]:
    """The D1 keys: official household code and head's CCCD, within `scope` (the commune)."""
    found = []
    if profile.household_code:
        found.append(f"code:{scope}:{profile.household_code}")
    if len(profile.cccd) == 12:
        found.append(f"cccd:{scope}:{profile.cccd}")
    return _fitted(found)


def index_keys(profile: Profile, scope: str) -> list[str]:
    """Every key a household is stored under (exact and fuzzy), without repeats."""
    found = exact_keys(profile, scope)
    parts = parse(profile.name)
    if parts.given and parts.family:
        found.append(f"name:{scope}:{parts.family}|{parts.given}")
    found += _given_keys(profile, scope, (0,))
    if len(profile.cccd) == 12:
        found += [f"half:{scope}:F{profile.cccd[:6]}", f"half:{scope}:L{profile.cccd[6:]}"]
    found += [f"member:{scope}:{m.cccd}" for m in profile.members if len(m.cccd) == 12]
    if profile.phone:
        found.append(f"phone:{profile.phone}")
    if profile.point:
        found.append(gps_key(gps_cell(profile.point)))
    return _fitted(found)


def _given_keys(profile: Profile, scope: str, years: tuple[int, ...]) -> list[str]:
    """`given:` keys of every person of the household (the head and each member: the head of
    one registration may be the spouse in another), for their birth year shifted by
    `years` (a probe looks a year either side: a birth year typed one off)."""
    found = []
    people = [(profile.name, profile.birth_year)]
    people += [(m.name, m.birth_year) for m in profile.members]
    for name, year in people:
        given = parse(name).given if name else ""
        if given and year:
            found += [f"given:{scope}:{given}|{year + shift}" for shift in years]
    return found


def probe_keys(profile: Profile, scope: str) -> list[str]:
    """The keys to look up for a new household: its own keys, its members' CCCDs among heads
    and its head's among members (one person may be the head in one registration and a
    member in the other), and the eight GPS cells around its own. Each lookup finds a pair
    whichever of the two came first: blocking does not depend on arrival order."""
    found = index_keys(profile, scope)
    found += _given_keys(profile, scope, (-1, 1))
    found += [f"cccd:{scope}:{m.cccd}" for m in profile.members if len(m.cccd) == 12]
    if len(profile.cccd) == 12:
        found.append(f"member:{scope}:{profile.cccd}")
    if profile.point:
        lat, lon = gps_cell(profile.point)
        found += [gps_key((lat + i, lon + j)) for i in (-1, 0, 1) for j in (-1, 0, 1)]
    return _fitted(found)


#: The household properties (`save_to` names of the shipped forms) a profile reads.
PROPERTY_NAMES = {
    "name": "head_name",
    "birth_year": "head_birth_year",
    "cccd": "head_cccd",
    "phone": "phone",
    "household_code": "household_code",
    "village": "village",
    "point": "geometry",
    "sex": "head_sex",
}


def profile_from(
    properties: dict[str, str], label: str | None = None, members: list[dict] | None = None
) -> Profile:
    """The profile of a household from its properties (the label stands in for a missing
    head's name) and the member answers of its registration (`member_name`, ...)."""
    p = {key: str(properties.get(name) or "") for key, name in PROPERTY_NAMES.items()}
    return Profile(
        name=p["name"].strip() or (label or "").strip(),
        birth_year=birth_year(p["birth_year"]),
        cccd=cccd(p["cccd"]),
        phone=phone(p["phone"]),
        household_code=household_code(p["household_code"]),
        village=p["village"].strip(),
        point=geopoint(p["point"]),
        sex=p["sex"].strip(),
        members=tuple(
            Member(
                str(m.get("member_name") or "").strip(),
                birth_year(str(m.get("member_birth_year") or "")),
                cccd(str(m.get("member_cccd") or "")),
                str(m.get("member_sex") or "").strip(),
                str(m.get("member_relation") or "").strip(),
            )
            for m in members or ()
            if isinstance(m, dict) and (m.get("member_name") or m.get("member_cccd"))
        ),
    )


#: A fuzzy key shared by more households than this says little about any one of them: in a
#: commune "Hùng born 1980" (`given:`) may be dozens of people, and one GPS cell (`gps:`) a
#: whole hamlet. Such a bucket is left out of blocking (the household's other keys, its head's
#: full name, CCCDs and phone, still find it): scoring every household in it, person against
#: person, would cost each registration hundreds of comparisons.
COMMON_KEY = 40
FUZZY_PREFIXES = ("given:", "gps:")


def discriminating(sharing: dict[str, set[str]]) -> dict[str, set[str]]:
    """The buckets (key -> households sharing it) that blocking uses: `sharing` without the
    fuzzy buckets too common to tell households apart."""
    return {
        key: ids
        for key, ids in sharing.items()
        if not (key.startswith(FUZZY_PREFIXES) and len(ids) > COMMON_KEY)
    }
