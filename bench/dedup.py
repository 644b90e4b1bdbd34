"""Duplicate households: precision and recall of the candidates, and the time to check one
new household against one million (sync contract D1-D2; product.md targets).

Generated Vietnamese households (Kinh, Thái/Hmông and Ê Đê names; communes of ~2,000
households in villages of a few hundred metres) with the variation real registrations
show: missing accents, NFD input, moved tone marks (hoà/hòa, thuỷ/thủy), Hoàng/Huỳnh and
Vũ/Võ, dropped middle names, Ê Đê names written clan first, curly apostrophes, typos in
the CCCD and the birth year, GPS noise, a missing phone or member, and true namesakes in
the same commune (same name, another household).

1. Quality: a base of households is indexed with `server.dedup.keys.index_keys` in a
   dict; each probe (a duplicate of a base household, a true namesake, or a new
   household) finds candidates through `probe_keys` and is scored with
   `server.dedup.score`. A pair is predicted when D1's exact keys match or the score
   reaches the threshold. Precision = true predicted pairs / predicted pairs; recall =
   true predicted pairs / true pairs.
2. Speed: a SQLite file holds 1,000,000 households' profiles and keys (the real
   `duplicate_keys` / `duplicate_profiles` tables, built by bulk insert; build time
   reported apart, the file kept in the temp folder for the next run); one check is
   `server.services.duplicates.detection.candidates` (key lookup, profile load, scoring) in an app
   context, the real query path. CPU time per check, median of the probes.

3. The harder generator (issue 17): `hard_quality` and `hard_table`, precision and recall
   overall, per variation and per threshold, namesakes flagged and the blocking cap.

Run: `.venv/bin/python bench/dedup.py [--households 1000000] [--probes 300] [--quality-only]`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
import uuid
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from server.dedup.keys import (  # noqa: E402
    Member,
    Profile,
    discriminating,
    exact_keys,
    index_keys,
    probe_keys,
)
from server.dedup.names import strip_accents  # noqa: E402
from server.dedup.score import score  # noqa: E402

KINH = [("Nguyễn", 38), ("Trần", 11), ("Lê", 9.5), ("Phạm", 7), ("Hoàng", 3), ("Huỳnh", 2),
        ("Phan", 4.5), ("Vũ", 2), ("Võ", 2), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 1.4),
        ("Hồ", 1.3), ("Ngô", 1.3), ("Dương", 1), ("Lý", 0.5), ("Đinh", 1), ("Hà", 1)]  # fmt: skip
THAI = ["Lò", "Quàng", "Lường", "Cà", "Tòng", "Lự", "Giàng", "Thào", "Vàng", "Sùng", "Mùa"]
MIDDLE = {"male": ["Văn"] * 6 + ["Đức", "Minh", "Hữu", "Quang", "Công", "Xuân", "A"],
          "female": ["Thị"] * 7 + ["Ngọc", "Thu", "Thanh", "Hồng", "Kim", "Mỹ"]}  # fmt: skip
GIVEN = {
    "male": ["An", "Bình", "Cường", "Dũng", "Hải", "Hòa", "Hùng", "Hưng", "Khoa", "Long",
             "Minh", "Nam", "Phúc", "Quang", "Sơn", "Thắng", "Thành", "Tuấn", "Việt", "Vinh",
             "Toàn", "Khánh", "Lâm", "Lợi", "Phong", "Quý", "Tài", "Thịnh", "Trung", "Tú",
             "Hoàn", "Toản", "Thụy", "Khoa", "Páo", "Dình", "Sử", "Chính", "Tủa", "Huy"],
    "female": ["Hoa", "Hòa", "Hương", "Huệ", "Lan", "Liên", "Linh", "Mai", "Ngọc", "Nhung",
               "Oanh", "Phương", "Thảo", "Thúy", "Thủy", "Trang", "Tuyết", "Vân", "Yến",
               "Xuân", "Loan", "Khuê", "Hoài", "Thoa", "Dung", "Xua", "Pằng", "Chở", "Thu"],
}  # fmt: skip
EDE_CLANS = ["Niê Kdăm", "Êban", "Mlô", "Ktla", "Buôn Yă", "Adrơng", "Byă", "Ksơr", "Niê"]
EDE_GIVEN = ["Ngông", "Bhin", "Blang", "Kông", "Nuôi", "Linh", "Dơi", "Thơ", "Hia", "Zin",
             "Mai", "Bia", "Rim", "Khoa", "Hwê", "Đoan", "Luyện", "Tlăng"]  # fmt: skip
#: New-style tone placement (the other one `names.syllable` unifies).
NEW_STYLE = {"Hòa": "Hoà", "Thủy": "Thuỷ", "Thúy": "Thuý", "Thụy": "Thuỵ", "Hoàn": "Hoàn",
             "Toản": "Toản", "Khỏe": "Khoẻ", "Loan": "Loan"}  # fmt: skip
REGIONAL = {"Hoàng": "Huỳnh", "Huỳnh": "Hoàng", "Vũ": "Võ", "Võ": "Vũ"}

HOUSEHOLDS_PER_COMMUNE = 2000
VILLAGES_PER_COMMUNE = 10


def blocking(index: dict, keys: list[str]) -> set:
    """The households sharing a key with a probe, as the server finds them: through the same
    buckets, the too-common fuzzy ones left out (`keys.discriminating`)."""
    return set().union(*discriminating({k: index[k] for k in keys if k in index}).values())


def _family(rng: random.Random, ethnic: str) -> str:
    if ethnic == "thai":
        return rng.choice(THAI)
    names, weights = zip(*KINH, strict=True)
    return rng.choices(names, weights)[0]


def person_name(rng: random.Random, ethnic: str, sex: str, family: str | None = None) -> str:
    if ethnic == "ede":
        prefix = "Y" if sex == "male" else "H'"
        given = rng.choice(EDE_GIVEN)
        joiner = "" if prefix == "H'" else " "
        return f"{prefix}{joiner}{given} {family or rng.choice(EDE_CLANS)}"
    family = family or _family(rng, ethnic)
    middle = rng.choice(MIDDLE[sex])
    return f"{family} {middle} {rng.choice(GIVEN[sex])}"


def cccd_for(rng: random.Random, sex: str, year: int) -> str:
    century = (0 if year < 2000 else 2) + (1 if sex == "female" else 0)
    return f"0{rng.randint(1, 96):02d}{century}{year % 100:02d}{rng.randint(0, 999999):06d}"


class Commune:
    def __init__(self, rng: random.Random, index: int) -> None:
        self.id = index + 1
        self.ethnic = rng.choices(["kinh", "thai", "ede"], [0.7, 0.15, 0.15])[0]
        lat, lon = 10.0 + rng.random() * 12, 103.0 + rng.random() * 6
        self.villages = [
            (f"{self.id:05d}_{v:02d}", lat + rng.gauss(0, 0.03), lon + rng.gauss(0, 0.03))
            for v in range(VILLAGES_PER_COMMUNE)
        ]


def household(rng: random.Random, commune: Commune) -> Profile:
    sex = "male" if rng.random() < 0.75 else "female"
    year = rng.randint(1940, 2002)
    name = person_name(rng, commune.ethnic, sex)
    family = name.split()[-1] if commune.ethnic == "ede" else name.split()[0]
    village, vlat, vlon = rng.choice(commune.villages)
    point = (vlat + rng.gauss(0, 0.0018), vlon + rng.gauss(0, 0.0018))  # ~200 m spread
    members = []
    if rng.random() < 0.8:
        spouse = "female" if sex == "male" else "male"
        members.append(Member(person_name(rng, commune.ethnic, spouse), year + rng.randint(-5, 5)))
    for _ in range(rng.choice([0, 1, 2, 2, 3, 4])):
        child_sex = rng.choice(["male", "female"])
        child_family = family if commune.ethnic != "ede" else None
        child = person_name(rng, commune.ethnic, child_sex, child_family)
        members.append(Member(child, min(2024, year + rng.randint(18, 40))))
    return Profile(
        name=name,
        birth_year=year,
        cccd=cccd_for(rng, sex, year) if rng.random() < 0.85 else "",
        phone=f"0{rng.choice('3579')}{rng.randint(0, 99999999):08d}" if rng.random() < 0.7 else "",
        household_code=f"{commune.id}{rng.randint(0, 10**7):07d}" if rng.random() < 0.1 else "",
        village=village,
        point=point if rng.random() < 0.9 else None,
        members=tuple(members),
    )


# -- variation of one registration -----------------------------------------------------------


def vary_name(rng: random.Random, name: str, highland: bool) -> str:
    words = name.split()
    if rng.random() < 0.5:
        words = [REGIONAL.get(w, w) for w in words]
    if rng.random() < 0.3:
        words = [NEW_STYLE.get(w, w) for w in words]
    if not highland and len(words) > 2 and rng.random() < 0.2:
        words = [words[0], words[-1]]  # middle name dropped
    if highland and rng.random() < 0.4:
        given_end = 2 if words[0] in ("Y",) else 1
        words = words[given_end:] + words[:given_end]  # clan written first
    text = " ".join(words)
    if rng.random() < 0.3:
        text = text.replace("'", rng.choice(["’", " ", ""]))
    if rng.random() < 0.3:
        text = strip_accents(text)
    if rng.random() < 0.05:  # one typing error in the name
        i = rng.randrange(len(text))
        text = text[:i] + rng.choice("aeinoht") + text[i + 1 :]
    if rng.random() < 0.3:
        text = unicodedata.normalize("NFD", text)
    return text


def typo_digits(rng: random.Random, digits: str) -> str:
    i = rng.randrange(len(digits) - 1)
    if rng.random() < 0.5:
        return digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
    return digits[:i] + str((int(digits[i]) + rng.randint(1, 9)) % 10) + digits[i + 1 :]


def duplicate_of(rng: random.Random, p: Profile, highland: bool) -> Profile:
    """A second registration of household `p` by another cadre."""
    members = [m._replace(name=vary_name(rng, m.name, highland)) for m in p.members]
    if members and rng.random() < 0.3:
        members.pop(rng.randrange(len(members)))
    cccd = p.cccd
    if cccd and rng.random() < 0.2:
        cccd = typo_digits(rng, cccd)
    elif rng.random() < 0.3:
        cccd = ""
    point = p.point
    if point is not None:
        spread = 0.0014 if rng.random() < 0.1 else 0.00015  # ~150 m / ~15 m
        point = (point[0] + rng.gauss(0, spread), point[1] + rng.gauss(0, spread))
    if rng.random() < 0.1:
        point = None
    phone = p.phone if rng.random() < 0.6 else ""
    year = p.birth_year
    if year and rng.random() < 0.1:
        year += rng.choice([-1, 1])
    return Profile(
        name=vary_name(rng, p.name, highland),
        birth_year=year,
        cccd=cccd,
        phone=phone,
        household_code=p.household_code if rng.random() < 0.3 else "",
        village=p.village,
        point=point,
        members=tuple(members),
    )


def namesake_of(rng: random.Random, p: Profile, commune: Commune) -> Profile:
    """Another household of the same commune whose head has the same name."""
    other = household(rng, commune)
    year = p.birth_year if rng.random() < 0.1 else other.birth_year
    village = p.village if rng.random() < 0.3 else other.village
    return replace(other, name=p.name, birth_year=year, village=village)


# -- quality ---------------------------------------------------------------------------------


def quality(communes: int = 20, probes: int = 3000, seed: int = 7) -> dict:
    """Precision and recall of predicted pairs on generated data (dict index, same keys)."""
    rng = random.Random(seed)
    places = [Commune(rng, i) for i in range(communes)]
    base: dict[str, tuple[Profile, int]] = {}
    index: dict[str, set[str]] = {}

    def add(hid: str, profile: Profile, commune: Commune) -> None:
        base[hid] = (profile, commune.id)
        for key in index_keys(profile, str(commune.id)):
            index.setdefault(key, set()).add(hid)

    for commune in places:
        for _ in range(HOUSEHOLDS_PER_COMMUNE):
            add(str(uuid.UUID(int=rng.getrandbits(128))), household(rng, commune), commune)
    ids = list(base)
    truth, predicted, checked, fuzzy_truth = set(), set(), 0, set()
    for n in range(probes):
        original = rng.choice(ids)
        profile, commune_id = base[original]
        commune = places[commune_id - 1]
        kind = ("duplicate", "namesake", "new")[n % 3]
        if kind == "duplicate":
            probe = duplicate_of(rng, profile, commune.ethnic == "ede")
        elif kind == "namesake":
            probe = namesake_of(rng, profile, commune)
        else:
            probe = household(rng, commune)
        pid = f"probe-{n}"
        scope = str(commune_id)
        exact = set(exact_keys(probe, scope))
        if kind == "duplicate":
            truth.add((pid, original))
            if not exact & set(exact_keys(profile, scope)):
                fuzzy_truth.add((pid, original))  # only D2 can find it
        found = blocking(index, probe_keys(probe, scope))
        checked += len(found)
        for hid in found:
            hit_exact = exact & set(exact_keys(base[hid][0], scope))
            if hit_exact or score(probe, base[hid][0]).is_candidate:
                predicted.add((pid, hid))
    true_positive = len(truth & predicted)
    return {
        "precision": true_positive / len(predicted) if predicted else 1.0,
        "recall": true_positive / len(truth) if truth else 1.0,
        "true": len(truth),
        "fuzzy_recall": len(fuzzy_truth & predicted) / len(fuzzy_truth) if fuzzy_truth else 1.0,
        "fuzzy_true": len(fuzzy_truth),
        "predicted": len(predicted),
        "base": len(base),
        "candidates_per_probe": checked / probes,
    }


# -- the harder benchmark (issue 17) ---------------------------------------------------------
#
# Written from domain.md ("Names") and issue 17, not from the scorer: every registration is a
# household of people (head, spouse, children, a parent) with sex, birth year, relation and
# sometimes a CCCD; a second registration of it by another cadre carries 2-4 of the
# variations below, each drawn independently, and the report gives recall per variation.

JRAI_CLANS = ["Ksor", "Nay", "Siu", "Rơ Mah", "Rơ Châm", "Kpă", "Puih", "Rahlan"]
JRAI_GIVEN = ["Blik", "Hyuh", "Nghia", "Lin", "Đoan", "Thuăn", "Jen", "Phơ", "Luih", "Bơr"]
KOHO_CLANS = ["Kơ Să", "Liêng Hót", "Cil", "Bon Niêng", "Đa Cat", "Ha"]
KOHO_GIVEN = ["Brơi", "Ha", "Sêm", "Điệp", "Pang", "Thoa", "Krang", "Duyên", "Nhung"]
HMONG = ["Giàng", "Vừ", "Sùng", "Thào", "Lầu", "Mùa", "Hờ", "Vàng", "Lý"]
HMONG_GIVEN = {
    "male": ["A Sử", "A Páo", "Seo Dình", "A Tủa", "Mí Chính", "A Chư", "Chứ"],
    "female": ["Thị Mỷ", "Thị Pằng", "Thị Chở", "Thị Xua", "Thị Dở", "Thị Súa"],
}

#: Variations of a second registration (names from the issue; "spouse_head" is drawn 25%,
#: "no_cccd" 75%, the others so that each duplicate carries 2-4 in all).
VARIATIONS = ("spouse_head", "no_cccd", "member_typos", "apostrophe", "clan_order", "telex",
              "tones", "regional", "year", "head_typo", "members_changed", "place")  # fmt: skip
#: Vowels with their Telex and VNI keystrokes (quality mark), and the tone keys.
_QUALITY = {"â": ("aa", "a6"), "ă": ("aw", "a8"), "ê": ("ee", "e6"), "ô": ("oo", "o6"),
            "ơ": ("ow", "o7"), "ư": ("uw", "u7"), "đ": ("dd", "d9")}  # fmt: skip
_TONES = {"\u0300": ("f", "2"), "\u0301": ("s", "1"), "\u0309": ("r", "3"),
          "\u0303": ("x", "4"), "\u0323": ("j", "5")}  # fmt: skip


def _hard_name(rng: random.Random, people: str, sex: str, family: str | None = None) -> str:
    if people == "ede":  # given name first, clan last; Y for men, H' for women
        prefix = "Y" if sex == "male" else "H'"
        sep = " " if prefix == "Y" else ""
        return f"{prefix}{sep}{rng.choice(EDE_GIVEN)} {family or rng.choice(EDE_CLANS)}"
    if people == "jrai":  # clan first
        prefix = "Y" if sex == "male" else "H'"
        sep = " " if prefix == "Y" else ""
        return f"{family or rng.choice(JRAI_CLANS)} {prefix}{sep}{rng.choice(JRAI_GIVEN)}"
    if people == "koho":
        prefix = rng.choice(["K'", "Ka "]) if sex == "female" else "K'"
        return f"{prefix}{rng.choice(KOHO_GIVEN)} {family or rng.choice(KOHO_CLANS)}"
    if people == "hmong":
        return f"{family or rng.choice(HMONG)} {rng.choice(HMONG_GIVEN[sex])}"
    family = family or (rng.choice(THAI) if people == "thai" else _family(rng, "kinh"))
    return f"{family} {rng.choice(MIDDLE[sex])} {rng.choice(GIVEN[sex])}"


def _family_of(name: str, people: str) -> str | None:
    """The family/clan part children inherit (Ê Đê and Kơ Ho: the mother's clan, so none)."""
    if people in ("ede", "koho"):
        return None
    if people == "jrai":
        return name.split(" Y ")[0].split(" H'")[0]
    return name.split()[0]


def hard_household(rng: random.Random, commune: Commune, people: str) -> Profile:
    sex = "male" if rng.random() < 0.7 else "female"
    year = rng.randint(1945, 2000)
    name = _hard_name(rng, people, sex)
    family = _family_of(name, people)
    village, vlat, vlon = rng.choice(commune.villages)
    members = []
    if rng.random() < 0.8:
        other = "female" if sex == "male" else "male"
        members.append(Member(_hard_name(rng, people, other), year + rng.randint(-6, 6),
                              cccd_for(rng, other, year) if rng.random() < 0.5 else "",
                              other, "spouse"))  # fmt: skip
    for _ in range(rng.choice([0, 1, 2, 2, 3, 3, 4, 5])):
        s = rng.choice(["male", "female"])
        y = min(2024, year + rng.randint(18, 38))
        members.append(Member(_hard_name(rng, people, s, family), y,
                              cccd_for(rng, s, y) if y < 2008 and rng.random() < 0.4 else "",
                              s, "child"))  # fmt: skip
    if rng.random() < 0.15:
        s = rng.choice(["male", "female"])
        members.append(Member(_hard_name(rng, people, s, family), year - rng.randint(20, 30),
                              "", s, "parent"))  # fmt: skip
    return Profile(
        name=name,
        birth_year=year,
        cccd=cccd_for(rng, sex, year) if rng.random() < 0.85 else "",
        phone=f"0{rng.choice('3579')}{rng.randint(0, 99999999):08d}" if rng.random() < 0.6 else "",
        household_code=f"{commune.id}{rng.randint(0, 10**7):07d}" if rng.random() < 0.05 else "",
        village=village,
        point=(vlat + rng.gauss(0, 0.0018), vlon + rng.gauss(0, 0.0018))
        if rng.random() < 0.85
        else None,
        members=tuple(members),
        sex=sex,
    )


def _typed_without_ime(word: str, vni: bool) -> str:
    """A word as keystrokes when the Vietnamese keyboard did not convert them ("Hùng" ->
    "Hungf" in Telex, "Hưng" -> "Hu7ng" in VNI): quality marks inline, tone key at the end."""
    out, tone = [], ""
    for ch in unicodedata.normalize("NFD", unicodedata.normalize("NFC", word)):
        if ch in _TONES:
            tone = _TONES[ch][1 if vni else 0]
            continue
        out.append(ch)
    text = unicodedata.normalize("NFC", "".join(out))
    typed = ""
    for ch in text:
        lower = ch.lower()
        if lower in _QUALITY:
            keys = _QUALITY[lower][1 if vni else 0]
            typed += keys[0].upper() + keys[1:] if ch != lower else keys
        else:
            typed += ch
    return typed + tone


def _typo(rng: random.Random, text: str) -> str:
    """One keyboard slip: a letter wrong, dropped, doubled or two swapped."""
    letters = [i for i, c in enumerate(text) if c.isalpha()]
    if len(letters) < 3:
        return text
    i = rng.choice(letters[1:])
    kind = rng.randrange(4)
    if kind == 0:
        return text[:i] + rng.choice("aeiouynhtgc") + text[i + 1 :]
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2:
        return text[:i] + text[i] + text[i:]
    j = min(i + 1, len(text) - 1)
    return text[:i] + text[j] + text[i] + text[j + 1 :]


def _wrong_tones(rng: random.Random, text: str) -> str:
    """Tone marks dropped, moved to the other style (hoà/hòa) or replaced by another."""
    how = rng.randrange(3)
    if how == 0:
        return strip_accents(text) if rng.random() < 0.5 else _strip_tones(text)
    if how == 1:
        return (
            " ".join(NEW_STYLE.get(w, w) for w in text.split())
            if rng.random() < 0.5
            else (
                text.replace("òa", "oà").replace("ủy", "uỷ").replace("úy", "uý").replace("óa", "oá")
            )
        )
    words = text.split()
    i = rng.randrange(len(words))
    decomposed = unicodedata.normalize("NFD", words[i])
    marks = list(_TONES)
    changed = "".join(rng.choice(marks) if c in _TONES else c for c in decomposed)
    words[i] = unicodedata.normalize("NFC", changed)
    return " ".join(words)


def _strip_tones(text: str) -> str:
    """Tone marks removed, quality marks (â, ư, đ) kept."""
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))


def _apostrophe(rng: random.Random, text: str) -> str:
    """H'Nghia as cadres write it: H’Nghia, HNghia, H Nghia (and Y, K', Ka likewise)."""
    sep = rng.choice(["\u2019", "", " ", "'"])
    text = text.replace("'", sep)
    if rng.random() < 0.5:
        text = text.replace("Y ", "Y" if rng.random() < 0.5 else "Y ").replace("Ka ", "Ka")
    return text


def _clan_order(text: str, people: str) -> str:
    """Ê Đê / Kơ Ho written clan first, Jrai written given name first."""
    words = text.split()
    if people in ("ede", "koho"):
        head = 2 if words[0] in ("Y", "Ka") else 1
        return " ".join(words[head:] + words[:head])
    if people == "jrai":
        at = next((i for i, w in enumerate(words) if w in ("Y",) or w.startswith("H'")), 1)
        return " ".join(words[at:] + words[:at])
    return text


def _vary_text(rng: random.Random, text: str, kinds: set[str], people: str) -> str:
    if "regional" in kinds:
        text = " ".join(REGIONAL.get(w, w) for w in text.split())
    if "clan_order" in kinds:
        text = _clan_order(text, people)
    if "apostrophe" in kinds:
        text = _apostrophe(rng, text)
    if "tones" in kinds:
        text = _wrong_tones(rng, text)
    if "telex" in kinds:
        words = text.split()
        vni = rng.random() < 0.4
        for i in rng.sample(range(len(words)), k=min(len(words), rng.randint(1, 2))):
            words[i] = _typed_without_ime(words[i], vni)
        text = " ".join(words)
    if rng.random() < 0.2:
        text = unicodedata.normalize("NFD", text)
    if rng.random() < 0.15:
        text = text.upper()
    return text


def hard_duplicate(rng: random.Random, p: Profile, people: str) -> tuple[Profile, set[str]]:
    """A second registration of household `p` with 2-4 variations; returns it and them."""
    kinds = set()
    if p.members and any(m.relation == "spouse" for m in p.members) and rng.random() < 0.25:
        kinds.add("spouse_head")
    if rng.random() < 0.75:
        kinds.add("no_cccd")
    others = [v for v in VARIATIONS if v not in ("spouse_head", "no_cccd")]
    if people not in ("ede", "jrai", "koho"):
        others = [v for v in others if v not in ("apostrophe", "clan_order")]
    want = rng.randint(2, 4)
    while len(kinds) < want:
        kinds.add(rng.choice(others))
    head = Member(p.name, p.birth_year, p.cccd, p.sex, "head")
    people_list = [head, *p.members]
    if "spouse_head" in kinds:  # the spouse answers the door: head and spouse swap roles
        at = next(i for i, m in enumerate(people_list) if m.relation == "spouse")
        spouse = people_list[at]
        people_list[0] = head._replace(relation="spouse")
        people_list[at] = spouse._replace(relation="head")
        people_list.insert(0, people_list.pop(at))
    varied = []
    for n, m in enumerate(people_list):
        name = _vary_text(rng, m.name, kinds, people) if n == 0 or rng.random() < 0.7 else m.name
        if n and "member_typos" in kinds and rng.random() < 0.5:
            name = _typo(rng, name)
        if n == 0 and "head_typo" in kinds:
            name = _typo(rng, name)
        year = m.birth_year
        if year and "year" in kinds and (n == 0 or rng.random() < 0.3):
            year += rng.choice([-1, 1])
        cccd = "" if "no_cccd" in kinds else m.cccd
        varied.append(m._replace(name=name, birth_year=year, cccd=cccd))
    if "members_changed" in kinds and len(varied) > 1:
        if rng.random() < 0.5:
            varied.pop(rng.randrange(1, len(varied)))  # someone left, or was forgotten
        else:
            s = rng.choice(["male", "female"])
            varied.append(Member(_hard_name(rng, people, s), 2024 - rng.randint(0, 3), "", s,
                                 "child"))  # fmt: skip
    point = p.point
    phone = p.phone
    if "place" in kinds:  # GPS taken from the road or not at all; the phone changed
        point = (
            None
            if rng.random() < 0.4 or point is None
            else (point[0] + rng.gauss(0, 0.0015), point[1] + rng.gauss(0, 0.0015))
        )
        phone = (
            "" if rng.random() < 0.5 else f"0{rng.choice('3579')}{rng.randint(0, 10**8 - 1):08d}"
        )
    elif point is not None:
        point = (point[0] + rng.gauss(0, 0.0002), point[1] + rng.gauss(0, 0.0002))
    new_head = varied[0]
    return Profile(
        name=new_head.name,
        birth_year=new_head.birth_year,
        cccd=new_head.cccd,
        phone=phone if rng.random() < 0.7 else "",
        household_code=p.household_code if rng.random() < 0.2 else "",
        village=p.village,
        point=point,
        members=tuple(varied[1:]),
        sex=new_head.sex,
    ), kinds


def hard_namesake(rng: random.Random, p: Profile, commune: Commune, people: str) -> Profile:
    """Another household of the commune whose head has the same name and birth year (often
    in the same village): never the same household."""
    other = hard_household(rng, commune, people)
    village = p.village if rng.random() < 0.5 else other.village
    return replace(other, name=p.name, birth_year=p.birth_year, sex=p.sex, village=village)


HARD_THRESHOLDS = (3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
#: What a mistake costs, in minutes of a reviewer's time (README, "Duplicate households"): a
#: false case is read side by side and marked different (~1.5 min); a missed duplicate is a
#: household counted twice, supported twice, found later by a cadre's visit and merged
#: (~60 min, before the support paid twice).
MINUTES_FALSE_CASE = 1.5
MINUTES_MISSED = 60.0


def hard_quality(communes: int = 24, probes: int = 6000, seed: int = 17) -> dict:
    """Precision and recall on the harder generator, overall, per variation and per threshold,
    namesakes flagged, and the recall blocking allows (the pair shares a key)."""
    from server.dedup.score import THRESHOLD

    rng = random.Random(seed)
    peoples = ["kinh"] * 10 + ["thai", "hmong"] * 2 + ["ede", "jrai", "koho"] * 2
    places = [Commune(rng, i) for i in range(communes)]
    people_of = {c.id: peoples[i % len(peoples)] for i, c in enumerate(places)}
    base: dict[str, tuple[Profile, int]] = {}
    index: dict[str, set[str]] = {}
    for commune in places:
        for _ in range(HOUSEHOLDS_PER_COMMUNE // 2):
            hid = str(uuid.UUID(int=rng.getrandbits(128)))
            profile = hard_household(rng, commune, people_of[commune.id])
            base[hid] = (profile, commune.id)
            for key in index_keys(profile, str(commune.id)):
                index.setdefault(key, set()).add(hid)
    ids = list(base)
    pairs = []  # (score, or 1e9 for an exact key; is it the true pair)
    blocked = namesakes = 0
    namesake_scores = []
    dup_scores: list[tuple[float, set[str]]] = []
    for n in range(probes):
        original = rng.choice(ids)
        profile, commune_id = base[original]
        commune, people = places[commune_id - 1], people_of[commune_id]
        kind = ("duplicate", "duplicate", "namesake", "new")[n % 4]
        kinds: set[str] = set()
        if kind == "duplicate":
            probe, kinds = hard_duplicate(rng, profile, people)
        elif kind == "namesake":
            probe = hard_namesake(rng, profile, commune, people)
        else:
            probe = hard_household(rng, commune, people)
        scope = str(commune_id)
        exact = set(exact_keys(probe, scope))
        found = blocking(index, probe_keys(probe, scope))
        best_true = None
        best_namesake = None
        for hid in found:
            other = base[hid][0]
            total = 1e9 if exact & set(exact_keys(other, scope)) else score(probe, other).total
            is_true = kind == "duplicate" and hid == original
            pairs.append((total, is_true))
            if is_true:
                best_true = total
            if kind == "namesake" and hid == original:
                best_namesake = total
        if kind == "duplicate":
            blocked += original in found
            dup_scores.append((best_true if best_true is not None else -1e9, kinds))
        elif kind == "namesake":
            namesakes += 1
            namesake_scores.append(best_namesake if best_namesake is not None else -1e9)
    true_total = len(dup_scores)

    def at(threshold: float) -> dict:
        predicted = [t for total, t in pairs if total >= threshold]
        tp = sum(predicted)
        missed, false = true_total - tp, len(predicted) - tp
        return {
            "threshold": threshold,
            "minutes_per_100": (missed * MINUTES_MISSED + false * MINUTES_FALSE_CASE)
            * 100
            / max(1, true_total),
            "precision": tp / len(predicted) if predicted else 1.0,
            "recall": tp / true_total if true_total else 1.0,
            "namesakes_flagged": sum(s >= threshold for s in namesake_scores) / max(1, namesakes),
        }

    per_variation = {}
    for v in VARIATIONS:
        with_v = [s for s, k in dup_scores if v in k]
        if with_v:
            per_variation[v] = {
                "pairs": len(with_v),
                "recall": sum(s >= THRESHOLD for s in with_v) / len(with_v),
                "blocking_cap": sum(s > -1e9 for s in with_v) / len(with_v),
            }
    return {
        "threshold": THRESHOLD,
        "base": len(base),
        "true": true_total,
        "namesakes": namesakes,
        "blocking_cap": blocked / true_total,
        "candidates_per_probe": len(pairs) / probes,
        "at": [at(t) for t in sorted({*HARD_THRESHOLDS, THRESHOLD})],
        "per_variation": per_variation,
    }


def hard_table(q: dict) -> str:
    """The harder benchmark as Markdown tables (for the terminal and the README)."""
    lines = [
        f"{q['base']:,} households, {q['true']:,} true pairs, {q['namesakes']:,} namesakes; "
        f"blocking cap {q['blocking_cap']:.3f}; {q['candidates_per_probe']:.1f} scored per probe",
        "",
        "| threshold | precision | recall | namesakes flagged | reviewer-minutes per 100 |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in q["at"]:
        mark = " (used)" if r["threshold"] == q["threshold"] else ""
        lines.append(f"| {r['threshold']:g}{mark} | {r['precision']:.3f} | {r['recall']:.3f} | "
                     f"{r['namesakes_flagged']:.3f} | {r['minutes_per_100']:,.0f} |")  # fmt: skip
    lines += ["", f"| variation | pairs | recall at {q['threshold']:g} | blocking cap |",
              "|---|---:|---:|---:|"]  # fmt: skip
    for v, r in q["per_variation"].items():
        lines.append(f"| {v} | {r['pairs']} | {r['recall']:.3f} | {r['blocking_cap']:.3f} |")
    return "\n".join(lines)


# -- speed against one million ---------------------------------------------------------------


def build_database(path: Path, households: int, seed: int = 11) -> tuple[float, list]:
    """A SQLite file with the real duplicate tables holding `households` profiles and keys.
    Returns (build seconds, the communes)."""
    from server.models import Base

    rng = random.Random(seed)
    places = [Commune(rng, i) for i in range(max(1, households // HOUSEHOLDS_PER_COMMUNE))]
    if path.exists():
        return 0.0, places
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{partial}")
    Base.metadata.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(partial)
    conn.executescript(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144;"
    )
    batch_p, batch_k = [], []
    for n in range(households):
        commune = places[n % len(places)]
        profile = household(rng, commune)
        hid = str(uuid.UUID(int=rng.getrandbits(128)))
        data = json.dumps(profile.to_json(), ensure_ascii=False)
        batch_p.append((hid, commune.id, data))
        batch_k += [(k, hid) for k in index_keys(profile, str(commune.id))]
        if len(batch_p) >= 50_000:
            _flush(conn, batch_p, batch_k)
            batch_p, batch_k = [], []
    _flush(conn, batch_p, batch_k)
    conn.execute("ANALYZE")
    conn.commit()
    conn.close()
    partial.rename(path)
    return time.perf_counter() - started, places


def _flush(conn, profiles: list, keys: list) -> None:
    conn.executemany(
        "INSERT INTO duplicate_profiles (household_id, commune_id, profile) VALUES (?, ?, ?)",
        profiles,
    )
    conn.executemany("INSERT INTO duplicate_keys (key, household_id) VALUES (?, ?)", keys)
    conn.commit()


def _key_logic() -> str:
    """A short hash of the code that makes keys and profiles: a kept file built by other key
    logic is not reused."""
    source = HERE.parent / "server" / "dedup"
    text = b"".join((source / name).read_bytes() for name in ("keys.py", "names.py"))
    text += Path(__file__).read_bytes()
    return hashlib.sha256(text).hexdigest()[:10]


def speed(households: int = 1_000_000, probes: int = 300, seed: int = 5) -> dict:
    """CPU milliseconds of one check against `households` (real tables and query path)."""
    from server import create_app
    from server.services.duplicates import detection as dedup

    path = Path(tempfile.gettempdir()) / f"giupho-dedup-bench-{households}-{_key_logic()}.sqlite3"
    build_s, places = build_database(path, households)
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"},
        instance_path=tempfile.mkdtemp(prefix="giupho-dedup-bench-"),
    )
    rng = random.Random(seed)
    cpu, wall, found = [], [], []
    with app.app_context():
        dedup.candidates("warm-up", household(rng, places[0]), places[0].id)
        for n in range(probes):
            commune = rng.choice(places)
            profile = household(rng, commune)
            if n % 2:
                profile = duplicate_of(rng, profile, commune.ethnic == "ede")
            c0, w0 = time.process_time(), time.perf_counter()
            result = dedup.candidates(f"probe-{n}", profile, commune.id)
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
            found.append(len(result))
    return {
        "build_s": build_s,
        "cpu_ms": statistics.median(cpu) * 1000,
        "cpu_p95_ms": sorted(cpu)[int(len(cpu) * 0.95)] * 1000,
        "wall_ms": statistics.median(wall) * 1000,
        "candidates": statistics.mean(found),
        "path": str(path),
    }


def row(name, measured, unit, target, reference="") -> dict:
    return {"name": name, "measured": measured, "unit": unit, "target": target,
            "reference": reference}  # fmt: skip


def run(households: int = 1_000_000, probes: int = 300) -> list[dict]:
    """Rows for `bench/run.py`."""
    q = quality()
    h = hard_quality()
    s = speed(households, probes)
    met = q["recall"] >= 0.95 and q["precision"] >= 0.90
    used = next(r for r in h["at"] if r["threshold"] == h["threshold"])
    spouse = h["per_variation"].get("spouse_head", {}).get("recall", 0.0)
    built = f"build {s['build_s']:.0f} s" if s["build_s"] else "file reused"
    return [
        row("dedup: recall of candidate pairs", q["recall"], "", "≥ 0.95",
            f"{q['true']} true pairs ({q['fuzzy_true']} without a shared code or CCCD: recall "
            f"{q['fuzzy_recall']:.3f}), {q['base']:,} households; {'met' if met else 'not met'}"),
        row("dedup: precision of candidate pairs", q["precision"], "", "≥ 0.90",
            f"{q['predicted']} predicted; {q['candidates_per_probe']:.1f} scored per probe"),
        row("dedup (harder): recall", used["recall"], "", "≥ 0.97",
            f"{h['true']} true pairs, 2-4 variations each; blocking cap {h['blocking_cap']:.3f}; "
            f"spouse as head {spouse:.3f} (≥ 0.90)"),
        row("dedup (harder): precision", used["precision"], "", "≥ 0.95",
            f"namesakes flagged {used['namesakes_flagged']:.3f} of {h['namesakes']} (≤ 0.02)"),
        row(f"dedup: check one household against {households:,}", s["cpu_ms"], "ms CPU", "< 20 ms",
            f"median; p95 {s['cpu_p95_ms']:.1f} ms, wall {s['wall_ms']:.1f} ms; SQLite, {built}"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=1_000_000)
    parser.add_argument("--probes", type=int, default=300)
    parser.add_argument("--quality-only", action="store_true")
    args = parser.parse_args()
    q = quality()
    print({k: round(v, 4) if isinstance(v, float) else v for k, v in q.items()})
    print(hard_table(hard_quality()))
    if not args.quality_only:
        print(speed(args.households, args.probes))


if __name__ == "__main__":
    main()
