"""Visits as Collect sends them, with the answers and the audit.csv monitoring reads."""

from __future__ import annotations

import datetime as dt
import io
import random

from server.services.demo import households as demo_households
from tests.integration.openrosa.world import (
    OPENROSA,
    _override,
    household,
    new_id,
    registration_xml,
    visit_form,
)

HOME = (21.38000, 103.02000)


def audit_csv(start: dt.datetime, question_seconds: float, where=None, questions=20) -> bytes:
    """An audit log as Collect writes it with location tracking: one row per question."""
    ms = int(start.timestamp() * 1000)
    lat, lon, acc = where or ("", "", "")
    lines = ["event,node,start,end,latitude,longitude,accuracy"]
    lines.append(f"form start,,{ms},,{lat},{lon},{acc}")
    step = int(question_seconds * 1000 / questions)
    for i in range(questions):
        lines.append(f"question,/data/q{i},{ms},{ms + step},{lat},{lon},{acc}")
        ms += step + 500
    lines.append(f"form save,,{ms},,{lat},{lon},{acc}")
    return ("\n".join(lines) + "\n").encode()


def visit_xml(household_id: str, start: dt.datetime, minutes: float = 35, where=HOME, **answers):
    model = visit_form()
    tree = demo_households.visit_answers(
        model, household_id, 1, income=1_500_000, instance_id=new_id(), when=start,
        rng=random.Random(household_id),
    )  # fmt: skip
    tree["end"] = (start + dt.timedelta(minutes=minutes)).isoformat(timespec="milliseconds")
    if where:
        tree["visit"]["visit_location"] = f"{where[0]:.6f} {where[1]:.6f} 900 8"
    _override(tree, answers)
    return demo_households.to_submission_xml(model, tree)


def register(client, world, home=HOME, username="cadre_a"):
    """Register a household at `home`; returns its id."""
    found = household()
    xml = registration_xml(found, house_location=f"{home[0]:.6f} {home[1]:.6f} 900 5")
    response = post(client, world, xml, username=username)
    assert response.status_code == 201, response.data
    return found.id


def post(client, world, xml: bytes, *files, username="cadre_a", incomplete=False):
    data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    for name, content in files:
        data[name] = (io.BytesIO(content), name, "text/csv")
    if incomplete:
        data["*isIncomplete*"] = "yes"
    return client.post(world.key_url(username, "/submission"), data=data, headers=OPENROSA)
