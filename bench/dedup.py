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

Run: `.venv/bin/python bench/dedup.py [--households 1000000] [--probes 300]`.
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
    members = [replace(m, name=vary_name(rng, m.name, highland)) for m in p.members]
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
        found = set().union(*(index.get(k, ()) for k in probe_keys(probe, scope)))
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
    s = speed(households, probes)
    met = q["recall"] >= 0.95 and q["precision"] >= 0.90
    built = f"build {s['build_s']:.0f} s" if s["build_s"] else "file reused"
    return [
        row("dedup: recall of candidate pairs", q["recall"], "", "≥ 0.95",
            f"{q['true']} true pairs ({q['fuzzy_true']} without a shared code or CCCD: recall "
            f"{q['fuzzy_recall']:.3f}), {q['base']:,} households; {'met' if met else 'not met'}"),
        row("dedup: precision of candidate pairs", q["precision"], "", "≥ 0.90",
            f"{q['predicted']} predicted; {q['candidates_per_probe']:.1f} scored per probe"),
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
    if not args.quality_only:
        print(speed(args.households, args.probes))


if __name__ == "__main__":
    main()
