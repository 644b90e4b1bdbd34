"""Property-based, at the server: random offline histories of several tablets, sent in
different orders that keep each tablet's own order, end in the same household and the same
conflicts (H4), and the rebuild equals the live state after each of them (H8)."""

from __future__ import annotations

import random
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.db import db
from server.models import Device, HouseholdConflict
from server.services.access import users
from server.services.demo import households as demo_households
from server.services.households import rebuild as household_rebuild
from server.services.households import versions as households
from server.services.receiving import ingest
from tests.integration.households.test_merge import visit
from tests.integration.openrosa.world import (
    household,
    registration_form,
    world,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("world")
INCOMES = (900_000, 1_600_000, 2_500_000)


@st.composite
def histories(draw):
    """Visits made on the server before the tablets went offline, then 2-5 tablets each
    making 1-4 offline visits (one ODK branch) from a version that existed then."""
    visit_values = st.tuples(st.sampled_from(INCOMES), st.sampled_from(("a", "b")))
    before = draw(st.lists(visit_values, max_size=2))
    tablets = []
    for _ in range(draw(st.integers(2, 5))):
        base = draw(st.integers(1, 1 + len(before)))
        made = draw(st.lists(st.tuples(visit_values, st.integers(6, 12)), min_size=1, max_size=4))
        tablets.append((base, made))
    return before, tablets


def instance_id(n: int) -> str:
    """Instance IDs that sort like the logical update number `n` (ties of device time)."""
    rest = uuid.uuid4()
    return f"uuid:{n:08x}-{str(rest)[9:]}"


def send(xml: bytes) -> ingest.Receipt:
    user = users.find("cadre_a")
    device = db.session.scalar(sa.select(Device).where(Device.user_id == user.id))
    receipt = ingest.receive_xml(xml, user=user, device=device)
    assert receipt.result == "accepted", receipt
    return receipt


def play(history, rng: random.Random) -> tuple[str, dict[int, int]]:
    """Send the history to a new household in an order drawn by `rng`; returns its id and
    the logical update number of each submission id."""
    before, tablets = history
    home = household()
    model = registration_form()
    tree = demo_households.registration_answers(
        model, home, instance_id=instance_id(0), rng=random.Random("registration")
    )
    # Its own citizen ID: the same one would link the second play to the first (D1).
    tree["head"]["head_cccd"] = demo_households.cccd(random.Random(), "11", "male", 1980)
    labels = {send(demo_households.to_submission_xml(model, tree)).submission_id: 0}
    n = 1
    for income, seed in before:
        xml = visit(home.id, n, income=income, seed=seed, instance_id=instance_id(n))
        labels[send(xml).submission_id] = n
        n += 1
    queues = []
    for t, (base, made) in enumerate(tablets):
        branch = str(uuid.UUID(int=t + 1, version=4))
        queue = []
        for j, ((income, seed), hour) in enumerate(made):
            queue.append((n, base + j, base, branch, income, seed, hour))
            n += 1
        queues.append(queue)
    while any(queues):
        queue = rng.choice([q for q in queues if q])
        number, base, trunk, branch, income, seed, hour = queue.pop(0)
        xml = visit(
            home.id,
            base,
            trunk=trunk,
            branch=branch,
            income=income,
            seed=seed,
            hour=hour,
            instance_id=instance_id(number),
        )
        labels[send(xml).submission_id] = number
    return home.id, labels


def outcome(household_id: str, labels: dict[int, int]):
    saved = households.get(household_id)
    conflicts = db.session.scalars(
        sa.select(HouseholdConflict).where(
            HouseholdConflict.household_id == household_id,
            HouseholdConflict.resolved_at.is_(None),
        )
    ).all()
    return (
        saved.version,
        saved.label,
        {k: v for k, v in saved.properties.items() if k != "head_cccd"},
        {
            (
                c.property,
                c.base_value,
                c.provisional,
                frozenset((labels[w["submission_id"]], w["value"]) for w in c.writes),
            )
            for c in conflicts
        },
    )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories(),
    order_a=st.randoms(use_true_random=False),
    order_b=st.randoms(use_true_random=False),
)
def test_h4_h8_any_order_that_keeps_each_tablets_order_gives_the_same_household(
    ctx, history, order_a, order_b
):
    first, first_labels = play(history, order_a)
    second, second_labels = play(history, order_b)

    assert outcome(first, first_labels) == outcome(second, second_labels)
    for household_id in (first, second):
        differences, _ = household_rebuild.rebuild_one(household_id)
        assert differences == []
    db.session.commit()
