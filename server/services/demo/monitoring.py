"""Demo data of token-visit monitoring: visits with their evidence, a few token patterns, an
agency's plan and stays, then a run of the checks (so `/monitoring` shows something).

Visits go through ingest like a tablet's, with Collect's audit.csv: each cadre's honest rounds
of the households they help (GPS at the door, twenty-odd minutes of questions), and, planted,
a fast run from one spot (Lò Văn Hùng: four households in a quarter of an hour), a visit
recorded two kilometres away and one with the previous visit's answers copied (the second
cadre), and an agency that went once, for a morning, against a plan of six stays. Times are
counted back from today, so the flags are the same whenever the demo is installed.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

import sqlalchemy as sa

from forms.library import VISIT_FORM_ID
from server.db import db
from server.dedup.keys import geopoint
from server.models import Device, Form, FormState, FormVersion, Household, User
from server.models.monitoring import AgencyVisit, AgencyVisitPlan
from server.models.programme import Agency, Pair
from server.services.demo import households as demo_households
from server.services.forms import loaded as form_models
from server.services.monitoring import runs
from server.services.receiving import ingest
from server.services.receiving.store import IncomingAttachment

LOCAL = dt.timezone(dt.timedelta(hours=7))
METRE = 1 / 111_320


def seed_monitoring(tablets: dict[int, tuple[User, Device]], agency_code: str, commune) -> None:
    """Demo visits with evidence and token patterns, the agency's plan, and a run of the checks."""
    version_id = db.session.scalar(
        sa.select(FormVersion.id)
        .join(Form)
        .where(Form.form_id == VISIT_FORM_ID, FormVersion.state == FormState.PUBLISHED)
        .order_by(FormVersion.id.desc())
    )
    if version_id is None:
        return
    model = form_models.loaded(version_id).model
    rng = random.Random(16)
    today = dt.datetime.now(dt.UTC).replace(hour=1, minute=30, second=0, microsecond=0)
    cadres = sorted({user.id: (user, device) for user, device in tablets.values()}.values(),
                    key=lambda pair: pair[0].username)  # fmt: skip
    for turn, (user, device) in enumerate(cadres):
        helped = _helped(user)
        for day in (24, 10):  # two honest rounds, two weeks apart
            moment = today - dt.timedelta(days=day + turn)
            for household in helped:
                home = geopoint(household.properties.get("geometry"))
                where = _near(rng, home, 8) if home else None
                _visit(model, user, device, household, moment, 32, 1300, where, day)
                moment += dt.timedelta(minutes=55)
        if turn == 0:
            _fast_run(model, user, device, today - dt.timedelta(days=3), rng)
        elif turn == 1 and helped:
            far = _far(helped[0])
            _visit(model, user, device, helped[0], today - dt.timedelta(days=2), 30, 1200, far, 2)
            # The second round's answers again (same seed): copied.
            home = geopoint(helped[-1].properties.get("geometry"))
            where = _near(rng, home, 8) if home else None
            _visit(
                model, user, device, helped[-1], today - dt.timedelta(days=1), 25, 900, where, 10
            )
    _agency_plan(agency_code, commune, today.date())
    runs.run_checks(None, today.date())


def _helped(user: User) -> list[Household]:
    return list(
        db.session.scalars(
            sa.select(Household)
            .join(Pair, Pair.household_id == Household.id)
            .where(Pair.helper_user_id == user.id, Pair.ends_on.is_(None))
            .order_by(Pair.priority, Household.id)
        )
    )


def _visit(model, user, device, household, start, minutes, seconds, where, round_):
    """A visit through ingest; its answers depend on the household and `round_` only."""
    db.session.refresh(household)
    answers = demo_households.visit_answers(
        model, household.id, household.version, income=1_300_000 + (round_ % 7) * 100_000,
        username=user.username, when=start.astimezone(LOCAL),
        rng=random.Random(f"{household.id}:{round_}"),
        instance_id=f"uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{household.id}:{start}')}",
    )  # fmt: skip
    answers["end"] = (start + dt.timedelta(minutes=minutes)).astimezone(LOCAL).isoformat()
    answers["visit"]["visit_location"] = (
        f"{where[0]:.6f} {where[1]:.6f} 900 {where[2]}" if where else ""
    )
    xml = demo_households.to_submission_xml(model, answers)
    log = IncomingAttachment("audit.csv", "text/csv", _audit(start, seconds, where))
    ingest.receive_xml(xml, user=user, device=device, attachments=[log])


def _audit(start: dt.datetime, seconds: float, where) -> bytes:
    """Collect's audit log with location tracking: form start, the questions, form save."""
    ms = int(start.timestamp() * 1000)
    lat, lon, acc = where or ("", "", "")
    rows = ["event,node,start,end,latitude,longitude,accuracy", f"form start,,{ms},,,,"]
    step = int(seconds * 1000 / 30)
    for i in range(30):
        rows.append(f"question,/data/q{i},{ms},{ms + step},{lat},{lon},{acc}")
        ms += step + 800
    rows.append(f"form save,,{ms},,{lat},{lon},{acc}")
    return ("\n".join(rows) + "\n").encode()


def _near(rng, home, accuracy):
    """A fix at `home` with a GPS error of about `accuracy` metres."""
    north, east = (rng.gauss(0, accuracy / 2) * METRE for _ in range(2))
    return home[0] + north, home[1] + east, float(accuracy)


def _far(household: Household):
    home = geopoint(household.properties.get("geometry")) or (21.38, 103.02)
    return (home[0] + 2000 * METRE, home[1], 6.0)


def _fast_run(model, user, device, start, rng):
    """Four households of the cadre's villages 'visited' in a quarter of an hour from one spot."""
    village_ids = [unit.id for unit in user.units]
    others = list(
        db.session.scalars(
            sa.select(Household)
            .where(
                Household.village_id.in_(village_ids),
                Household.id.not_in(sa.select(Pair.household_id)),
            )
            .order_by(Household.id)
            .limit(4)
        )
    )
    spot = None
    for i, household in enumerate(others):
        home = geopoint(household.properties.get("geometry"))
        spot = spot or ((*home, 5.0) if home else (21.38, 103.02, 5.0))
        _visit(model, user, device, household, start + dt.timedelta(minutes=5 * i), 4, 150, spot, 3)


def _agency_plan(agency_code: str, commune, today: dt.date) -> None:
    """The agency planned six stays, twelve days, this year; it went once, for a morning."""
    agency = db.session.scalar(sa.select(Agency).where(Agency.code == agency_code))
    if agency is None:
        return
    db.session.add(
        AgencyVisitPlan(agency_id=agency.id, commune_id=commune.id, year=today.year,
                        visits_planned=6, days_planned=12, note="Kế hoạch năm (708/QĐ-UBND)")
    )  # fmt: skip
    db.session.add(
        AgencyVisit(agency_id=agency.id, commune_id=commune.id,
                    visited_on=max(dt.date(today.year, 1, 2), today - dt.timedelta(days=60)),
                    days=0.5, people=3, purpose="Thăm và tặng quà hộ nghèo",
                    result="Trao 20 suất quà", planned=True)
    )  # fmt: skip
    db.session.flush()
