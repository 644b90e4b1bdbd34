"""Token-visit monitoring (issue 16): precision and recall of each check on generated visits.

The generator follows the issue and the programme's documents, not the thresholds: cadres
work two villages of households a few dozen metres apart and make three to five visits a
working day, each 20 to 45 minutes of questions with a walk between. Honest visits carry the
noise real ones have: GPS error (a few metres in the open, tens under trees, a poor fix now
and then with its accuracy saying so), a house recorded from the field hut a couple of hundred
metres off, a quick honest revisit (a few minutes, most answers unchanged, income and plan
updated), neighbours visited one after another, tablets out of network for two or three
weeks, clocks drifting a minute a day or set to the wrong zone for good, households paired a
month ago and not visited yet, agencies that started late in the year.

Planted among them (each a "variation"): short (a form filled in two minutes; no audit log
and start-to-end of three minutes), far (filled at home kilometres away; from the next
village), no location (GPS skipped), fast run (four or five households from one spot within
twenty minutes, tiny or rushed), copied (the previous visit's answers verbatim, or with one
answer changed), backdated (entered weeks late; clock set back to date it), neglected
(paired and not visited for months, or never), token agency (one short stay a year, or many
stays of a few hours).

The pipeline is the server's, without a database: `audit_csv.parse` -> `evidence.build` ->
the checks of `server.services.monitoring.checks` with the default settings. A flag on a
visit (household, agency) planted for that check is a true positive; on anything else a
false positive.

Run: `.venv/bin/python bench/monitoring.py [--cadres 12] [--seed 16]`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import random
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from forms.library import VISIT_XLSX  # noqa: E402
from forms.load import load_form  # noqa: E402
from server.services.demo import households as demo_households  # noqa: E402
from server.services.monitoring import audit_csv, checks, evidence  # noqa: E402
from server.settings import defaults  # noqa: E402

ON = dt.date(2026, 11, 30)
LOCAL = dt.timezone(dt.timedelta(hours=7))
METRE = 1 / 111_320  # degrees of latitude per metre


@dataclass
class Planned:
    """One generated visit: what the tablet sends, and what was planted in it."""

    label: str  # "honest:<variation>" or "<check>:<variation>"
    expect: frozenset[str]
    cadre: int
    household: str
    start: dt.datetime  # on the server's clock
    minutes: float
    question_seconds: float | None  # None: no audit log sent
    where: tuple[float, float, float] | None  # lat, lon, accuracy
    offset_s: float = 0.0  # tablet clock minus server clock
    delay_days: float = 0.2  # from the visit's end to its receipt
    copy_of: int | None = None  # index of the visit whose answers it repeats
    changes: dict = field(default_factory=dict)


@dataclass
class World:
    homes: dict[str, tuple[float, float]] = field(default_factory=dict)
    visits: list[Planned] = field(default_factory=list)
    pairs: list[tuple[str, str, dt.date, frozenset[str]]] = field(default_factory=list)
    agencies: list[tuple[str, checks.AgencyYear, frozenset[str]]] = field(default_factory=list)


def _offset(point, north_m, east_m):
    return (point[0] + north_m * METRE, point[1] + east_m * METRE / math.cos(math.radians(21.4)))


def _fix(rng, home, label="open"):
    """A GPS fix at `home` with the error real tablets show."""
    accuracy = {"open": rng.uniform(3, 15), "trees": rng.uniform(20, 60)}.get(label, 120.0)
    error = rng.gauss(0, accuracy / 2)
    angle = rng.uniform(0, 2 * math.pi)
    lat, lon = _offset(home, error * math.cos(angle), error * math.sin(angle))
    return lat, lon, round(accuracy, 1)


def generate(rng: random.Random, cadres: int = 12) -> World:
    w = World()
    for c in range(cadres):
        base = (21.30 + c * 0.02, 103.00 + c * 0.02)
        homes = []
        for i in range(30):  # a row of houses 30-60 m apart along the road
            hid = f"c{c}h{i}"
            w.homes[hid] = _offset(base, (i % 10) * rng.uniform(30, 60), (i // 10) * 400)
            homes.append(hid)
        _cadre_month(rng, w, c, homes)
        for hid in homes[6:11]:  # pairs of households visited on the cadre's rounds
            paired = ON - dt.timedelta(days=rng.choice([150, 200, 400]))
            w.pairs.append((hid, f"c{c}", paired, frozenset()))
        # Never visited since pairing (homes 0-5 are off the cadre's rounds).
        w.pairs.append((homes[5], f"c{c}", ON - dt.timedelta(days=200), frozenset({"neglected"})))
        w.pairs.append((homes[29], f"c{c}", ON - dt.timedelta(days=30), frozenset()))  # new
    _agencies(rng, w)
    return w


def _honest(rng, w, c, hid, start, label="ordinary", **kw) -> Planned:
    minutes = kw.pop("minutes", rng.uniform(20, 45))
    seconds = kw.pop("question_seconds", minutes * 60 * rng.uniform(0.6, 0.85))
    gps = kw.pop("gps", rng.choice(["open"] * 8 + ["trees", "poor"]))
    where = _fix(rng, w.homes[hid], gps) if gps else None
    v = Planned(f"honest:{label}", frozenset(), c, hid, start, minutes, seconds, where, **kw)
    w.visits.append(v)
    return v


def _planted(w, check, variation, base: Planned, **changes) -> Planned:
    if "where" not in changes:  # at the household's door, with an ordinary fix
        changes["where"] = _fix(random.Random(changes["household"]), w.homes[changes["household"]])
    v = Planned(**{**base.__dict__, **changes})
    v.label, v.expect = f"{check}:{variation}", frozenset(changes.pop("expect", {check}))
    w.visits.append(v)
    return v


def _cadre_month(rng, w, c, homes):
    """A cadre's November: honest days, then one of each planted pattern."""
    day = dt.datetime(2026, 10, 1, 1, 30, tzinfo=dt.UTC)  # 08:30 local
    drift = rng.choice([0, 60, -60]) * 0  # the tablet's usual offset, seconds
    if c % 4 == 3:
        drift = -7 * 3600  # set to UTC for good: its usual, not a jump
    first_visit: dict[str, int] = {}
    order = list(homes[6:28])
    rng.shuffle(order)
    for d in range(0, 56, 2):  # two months of working days
        moment = day + dt.timedelta(days=d, minutes=rng.uniform(0, 60))
        for hid in order[(d // 2 * 4) % len(order) :][: rng.randint(3, 5)]:
            offset = drift + rng.gauss(0, 20) + d * rng.choice([0, 30])  # drift
            delay = rng.choice([0.1, 0.3, 1, 2, 5, rng.uniform(14, 26)])  # out of network
            v = _honest(rng, w, c, hid, moment, offset_s=offset, delay_days=delay)
            if hid in first_visit:  # a later visit: mostly the same, updated
                v.copy_of, v.changes = first_visit[hid], _update(rng)
                v.label = "honest:revisit"
            first_visit[hid] = len(w.visits) - 1  # the household's latest visit
            moment += dt.timedelta(minutes=v.minutes + rng.uniform(10, 40))
    last = dt.datetime(2026, 11, 26, 1, 0, tzinfo=dt.UTC)
    # Noise at the thresholds' doors: a quick honest revisit, neighbours in turn, a poor fix.
    quick = _honest(rng, w, c, homes[6], last, "quick_revisit", minutes=9,
                    question_seconds=rng.uniform(330, 480), offset_s=drift)  # fmt: skip
    quick.copy_of, quick.changes = first_visit.get(homes[6]), _update(rng)
    first_visit[homes[6]] = len(w.visits) - 1
    moment = last + dt.timedelta(hours=1)
    for hid in homes[20:24]:  # neighbours one after another, 40-60 m apart
        v = _honest(rng, w, c, hid, moment, "neighbours", minutes=rng.uniform(18, 25),
                    offset_s=drift, gps="open")  # fmt: skip
        if hid in first_visit:
            v.copy_of, v.changes = first_visit[hid], _update(rng)
        first_visit[hid] = len(w.visits) - 1
        moment += dt.timedelta(minutes=v.minutes + rng.uniform(2, 6))
    _honest(rng, w, c, homes[24], last + dt.timedelta(hours=5), "field_hut", offset_s=drift,
            gps=None).where = (*_offset(w.homes[homes[24]], 220, 0), 8.0)  # fmt: skip
    # Planted.
    plant_day = dt.datetime(2026, 11, 27, 2, 0, tzinfo=dt.UTC)
    base = _honest(rng, w, c, homes[6], plant_day - dt.timedelta(days=40), offset_s=drift)
    w.visits.pop()
    p = dict(offset_s=drift)
    hours = iter(range(0, 200, 5))

    def at(day=plant_day):  # planted visits hours apart, so they make no run together
        return day + dt.timedelta(hours=next(hours))

    _planted(w, "short", "quick_form", base, household=homes[7], start=at(),
             minutes=15, question_seconds=rng.uniform(60, 150), **p)  # fmt: skip
    _planted(w, "short", "no_audit", base, household=homes[8], start=at(),
             minutes=3, question_seconds=None, **p)  # fmt: skip
    _planted(w, "far", "at_home", base, household=homes[9], start=at(),
             where=(*_offset(w.homes[homes[9]], rng.uniform(2000, 9000), 0), 6.0), **p)  # fmt: skip
    _planted(w, "far", "next_village", base, household=homes[10], start=at(),
             where=(*_offset(w.homes[homes[10]], 0, rng.uniform(500, 900)), 10.0), **p)  # fmt: skip
    _planted(w, "no_location", "skipped", base, household=homes[11], start=at(),
             where=None, question_seconds=None, **p)  # fmt: skip
    spot = (*w.homes[homes[14]], 5.0)  # the middle of the run's houses
    run_start = plant_day + dt.timedelta(days=3)
    for i, hid in enumerate(homes[12:17]):  # from the commune office: tiny forms
        _planted(w, "fast_run", "tiny", base, household=hid, minutes=3, where=spot,
                 start=run_start + dt.timedelta(minutes=4 * i), question_seconds=150,
                 expect={"fast_run", "short"}, **p)  # fmt: skip
    rushed = plant_day + dt.timedelta(days=4)
    middle = (*w.homes[homes[18]], 5.0)
    for i, hid in enumerate(homes[16:20]):  # one row of houses, the next one 400 m off
        _planted(w, "fast_run", "rushed", base, household=hid, minutes=7, where=middle,
                 start=rushed + dt.timedelta(minutes=7 * i), question_seconds=380,
                 **p)  # fmt: skip
    if homes[21] in first_visit:
        _planted(w, "copied", "verbatim", base, household=homes[21], start=at(),
                 copy_of=first_visit[homes[21]], changes={}, **p)  # fmt: skip
    if homes[22] in first_visit:
        _planted(w, "copied", "one_change", base, household=homes[22], start=at(),
                 copy_of=first_visit[homes[22]], changes={"floor_area_m2": "36"}, **p)  # fmt: skip
    _planted(w, "backdated", "late_entry", base, household=homes[25], delay_days=45,
             start=plant_day - dt.timedelta(days=45), **p)  # fmt: skip
    _planted(w, "backdated", "clock_set_back", base, household=homes[26],
             start=at(), offset_s=drift - 60 * 86400, expect={"clock_jump"})  # fmt: skip


def _update(rng) -> dict:
    """What an honest revisit changes: income re-estimated, the plan updated, often one
    deprivation more or less."""
    changes = {
        "income_per_person": str(rng.randrange(900, 2400) * 1000),
        "plan_agreed": rng.choice(["Trồng thêm ngô.", "Vay vốn nuôi lợn.", "Học nghề may."]),
    }
    if rng.random() < 0.6:
        changes["q_telecom"] = rng.choice(["yes", "no"])
    return changes


def _agencies(rng, w):
    for i in range(8):
        plan_v, plan_d = rng.choice([(6, 12), (4, 12), (12, 24)])
        kind = ["few", "short", "honest", "honest", "late_starter", "honest", "few", "short"][i]
        if kind == "few":
            visits, days = 1, rng.uniform(0.2, 1.0)
        elif kind == "short":
            visits, days = plan_v, plan_v * rng.uniform(0.1, 0.3)
        elif kind == "late_starter":
            visits, days = max(1, round(plan_v * 0.6)), plan_d * 0.55
        else:
            visits, days = plan_v - rng.randint(0, 1), plan_d * rng.uniform(0.85, 1.1)
        year = checks.AgencyYear(i, 1, ON.year, plan_v, plan_d, visits, round(days, 1))
        expect = frozenset() if kind in ("honest", "late_starter") else frozenset({"token_agency"})
        w.agencies.append((f"token_agency:{kind}" if expect else f"honest:{kind}", year, expect))


# ------------------------------------------------------------------ the pipeline


def _answers(model, v: Planned, planned: list[Planned], cache: dict) -> dict:
    if v.copy_of is not None and v.copy_of in cache:
        answers = _copy(cache[v.copy_of])
        _set(answers, v.changes)
    else:
        rng = random.Random(f"{v.household}:{v.start}")
        answers = demo_households.visit_answers(
            model, v.household, 1, income=rng.randrange(800, 2500) * 1000, rng=rng
        )
    device_start = v.start + dt.timedelta(seconds=v.offset_s)
    answers["start"] = device_start.astimezone(LOCAL).isoformat()
    answers["end"] = (device_start + dt.timedelta(minutes=v.minutes)).astimezone(LOCAL).isoformat()
    where = f"{v.where[0]:.6f} {v.where[1]:.6f} 900 {v.where[2]}" if v.where else ""
    answers["visit"]["visit_location"] = where
    return answers


def _copy(tree):
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in tree.items()}


def _set(tree, changes):
    for key, value in changes.items():
        stack = [tree]
        while stack:
            node = stack.pop()
            if key in node and not isinstance(node[key], dict | list):
                node[key] = value
                break
            stack.extend(x for x in node.values() if isinstance(x, dict))


def _audit(v: Planned) -> audit_csv.AuditLog | None:
    if v.question_seconds is None:
        return None
    ms = int((v.start + dt.timedelta(seconds=v.offset_s)).timestamp() * 1000)
    lat, lon, acc = v.where or ("", "", "")
    lines = ["event,node,start,end,latitude,longitude,accuracy", f"form start,,{ms},,,,"]
    step = int(v.question_seconds * 1000 / 40)
    for i in range(40):
        lines.append(f"question,/data/q{i},{ms},{ms + step},{lat},{lon},{acc}")
        ms += step + 1000
    return audit_csv.parse("\n".join(lines).encode())


def evaluate(w: World, t: checks.Thresholds) -> dict:
    model = load_form(VISIT_XLSX)
    cache, visits = {}, []
    for index, v in enumerate(w.visits):
        answers = _answers(model, v, w.visits, cache)
        cache[index] = answers
        home = w.homes[v.household]
        received = v.start + dt.timedelta(minutes=v.minutes, days=v.delay_days)
        row = evidence.build(
            model, answers, {"geometry": f"{home[0]} {home[1]} 900 5"}, _audit(v),
            received_at=received, clock_offset_seconds=v.offset_s,
        )  # fmt: skip
        visits.append(
            checks.Visit(
                index,
                v.household,
                v.cadre,
                v.cadre,
                1,
                1,
                row["started_at"],
                received,
                row["duration_seconds"],
                row["form_seconds"],
                v.offset_s,
                row["latitude"],
                row["longitude"],
                row["accuracy_m"],
                row["distance_m"],
                row["details"]["answers"],
            )
        )
    found: dict[str, set] = defaultdict(set)
    for f in [f for v in visits for f in checks.own_findings(v, t)] + checks.fast_runs(visits, t):
        found[f.check].add(f.submission_id)
    last: dict[str, checks.Visit] = {}
    for v in sorted(visits, key=lambda v: v.moment):
        hit = checks.copied(v, last.get(v.household_id), t)
        if hit is not None:
            found["copied"].add(v.submission_id)
        last[v.household_id] = v
    for f in checks.clock_jumps(visits, visits, t):
        found["clock_jump"].add(f.submission_id)
    visited = defaultdict(lambda: None)
    for v in visits:
        day = v.moment.date()
        visited[v.household_id] = max(filter(None, (visited[v.household_id], day)))
    paired = [
        checks.PairedHousehold(
            hid, 1, 1, 0, None, since, visited[hid] if "neglected" not in exp else None
        )
        for hid, _, since, exp in w.pairs
    ]
    for f in checks.neglected(paired, ON, t):
        found["neglected"].add(f.household_id)
    for f in checks.token_agencies([a for _, a, _ in w.agencies], ON, t):
        found["token_agency"].add(f.agency_id)
    return _score(w, found)


def _score(w: World, found: dict[str, set]) -> dict:
    truth: dict[str, set] = defaultdict(set)
    labels: dict[tuple[str, object], str] = {}
    for i, v in enumerate(w.visits):
        for check in v.expect:
            truth[check].add(i)
        labels[("visit", i)] = v.label
    for hid, _, _, exp in w.pairs:
        if exp:
            truth["neglected"].add(hid)
        labels[("household", hid)] = "neglected:not_visited" if exp else "honest:paired"
    for label, a, exp in w.agencies:
        if exp:
            truth["token_agency"].add(a.agency_id)
        labels[("agency", a.agency_id)] = label
    result = {}
    for check in sorted(set(truth) | set(found)):
        hit = found[check] & truth[check]
        result[check] = {
            "flagged": len(found[check]),
            "precision": len(hit) / len(found[check]) if found[check] else None,
            "recall": len(hit) / len(truth[check]) if truth[check] else None,
        }
    per_variation: dict[str, Counter] = defaultdict(Counter)
    for i, v in enumerate(w.visits):
        per_variation[v.label]["total"] += 1
        per_variation[v.label]["caught" if any(i in found[c] for c in v.expect) else "missed"] += (
            1 if v.expect else 0
        )
        for c, ids in found.items():
            if c in ("neglected", "token_agency"):  # keyed by household, agency
                continue
            if i in ids and c not in v.expect:
                per_variation[v.label][f"also:{c}"] += 1
    result["_variations"] = per_variation
    result["_visits"] = len(w.visits)
    return result


def run(cadres: int = 12, seed: int = 16) -> list[dict]:
    t = checks.Thresholds.from_config(defaults())
    result = evaluate(generate(random.Random(seed), cadres), t)
    rows = []
    for check, r in result.items():
        if check.startswith("_"):
            continue
        for measure in ("precision", "recall"):
            rows.append({
                "name": f"monitoring {check}: {measure}",
                "measured": r[measure],
                "unit": "share",
                "target": "high",
                "reference": f"{r['flagged']} flagged among {result['_visits']} generated visits",
            })  # fmt: skip
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadres", type=int, default=12)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    t = checks.Thresholds.from_config(defaults())
    result = evaluate(generate(random.Random(args.seed), args.cadres), t)
    print(f"{result['_visits']} visits")
    for check, r in result.items():
        if not check.startswith("_"):
            p = "—" if r["precision"] is None else f"{r['precision']:.2f}"
            rc = "—" if r["recall"] is None else f"{r['recall']:.2f}"
            print(f"{check:<14} flagged {r['flagged']:>4}  precision {p}  recall {rc}")
    print("per variation (visits: total, caught, missed; flags of checks not planted in it):")
    for label, c in sorted(result["_variations"].items()):
        also = " ".join(f"{k[5:]}={n}" for k, n in sorted(c.items()) if k.startswith("also:"))
        print(f"  {label:<26} {c['total']:>4} {c['caught']:>4} {c['missed']:>4}  {also}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
