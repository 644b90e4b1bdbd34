"""Rules H1-H8 over both protocols: what a tablet's visits do to a household on the server."""

from __future__ import annotations

import uuid

from server.services.households import rebuild as household_rebuild
from tests.integration.contract.submissions import household_id, registration, visit

EARLY = "2026-03-02T08:40:00.000+07:00"
LATE = "2026-03-02T15:40:00.000+07:00"


def chained(root, trunk: int, branch: str):
    """`root` as the next visit of an offline chain (ODK `trunkVersion`, `branchId`)."""
    entity = root.child("meta").child("entity")
    entity.attrs["trunkVersion"] = str(trunk)
    entity.attrs["branchId"] = branch
    return root


def test_h1_a_registration_creates_the_household_at_version_1(driver, records):
    home = registration()

    assert driver.submit(home).means("accepted")

    saved = records.household(household_id(home))
    assert saved.version == 1 and saved.properties["head_name"] == "Lò Văn Minh"


def test_h3_h4_concurrent_visits_conflict_whatever_order_they_arrive_in(driver, records):
    outcomes = []
    for order in ("late first", "early first"):
        home = registration()
        driver.submit(home)
        hid = household_id(home)
        late = visit(hid, income__income_per_person="2000000", end=LATE)
        early = visit(hid, income__income_per_person="3000000", end=EARLY)
        for root in (late, early) if order == "late first" else (early, late):
            assert driver.submit(root).means("accepted")
        saved = records.household(hid)
        outcomes.append((saved.version, saved.open_conflicts, saved.properties))

    assert outcomes[0] == outcomes[1]
    version, conflicts, properties = outcomes[0]
    assert (version, conflicts) == (3, 1)
    assert properties["income_per_person"] == "2000000"  # the later visit, provisionally


def test_h5_a_chain_that_arrives_out_of_order_is_applied_in_order(driver, records):
    home = registration()
    driver.submit(home)
    hid, branch = household_id(home), str(uuid.uuid4())
    first = chained(visit(hid, base_version=1, income__income_per_person="2000000"), 1, branch)
    second = chained(visit(hid, base_version=2, income__income_per_person="800000"), 1, branch)

    assert driver.submit(second).means("accepted")  # held, never refused
    assert records.household(hid).version == 1
    assert driver.submit(first).means("accepted")

    saved = records.household(hid)
    assert (saved.version, saved.held_updates, saved.open_conflicts) == (3, 0, 0)
    assert saved.properties["income_per_person"] == "800000"


def test_h8_the_rebuild_equals_the_live_state(driver, records, app):
    home = registration()
    driver.submit(home)
    hid = household_id(home)
    driver.submit(visit(hid, income__income_per_person="2000000", end=LATE))
    driver.submit(visit(hid, income__income_per_person="3000000", end=EARLY))

    with app.app_context():
        assert household_rebuild.rebuild() == []
