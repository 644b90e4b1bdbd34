"""Pull through the real server (P1-P4), rebase of unsent edits on what was pulled (C4), and the
clock offset measured and sent with submissions (C5)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from server.db import db
from server.services.access import users
from server.services.programme import units as admin_units
from sync.client import LocalStore, Synchronizer
from sync.client.engine import Limits
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import visit, visit_form
from tests.integration.database import build_app, dispose_app
from tests.integration.sync_client.faults import FaultyProxy
from tests.integration.sync_client.helpers import fast_client, household_ids, registrations


def _households(store: LocalStore) -> dict[str, tuple[int, dict]]:
    return {h["id"]: (h["version"], h["properties"]) for h in store.households()}


def test_p3_an_interrupted_pull_resumes_and_ends_with_the_full_scope(live_db, tmp_path):
    live, _url = live_db
    token = live.world.tokens["cadre_a"]
    assert fast_client(live.url, token).push(registrations(12, village="03325_02")).results
    clean = LocalStore(tmp_path / "clean.sqlite3")
    Synchronizer(clean, fast_client(live.url, token), limits=Limits(page_size=500)).pull()
    store = LocalStore(tmp_path / "bad-link.sqlite3")
    with FaultyProxy(live.server.port, failure_rate=0.5, seed=2, stall=1.0) as proxy:
        client = fast_client(proxy.url, token)
        report = Synchronizer(store, client, limits=Limits(page_size=3)).pull()
    assert report.pages > 4 and proxy.stats.failed > 0
    assert _households(store) == _households(clean) and len(_households(store)) >= 12
    assert [f["form_id"] for f in store.forms()] == [f["form_id"] for f in clean.forms()]
    assert store.form_xform("giupho_household_visit") == clean.form_xform("giupho_household_visit")


def test_p4_a_local_copy_that_diverged_is_replaced_by_a_full_resync(live_db, tmp_path):
    live, _url = live_db
    token = live.world.tokens["cadre_a"]
    # Its own households: the shared server may hold none yet (tests run in any order).
    assert fast_client(live.url, token).push(registrations(3, village="03325_01")).results
    store = LocalStore(tmp_path / "tablet.sqlite3")
    syncer = Synchronizer(store, fast_client(live.url, token))
    assert syncer.pull().resync is False
    truth = _households(store)
    victim = next(iter(truth))
    with store.transaction():  # the tablet's copy goes wrong (a bug, a restored backup)
        store.db.execute("UPDATE households SET version = version + 7 WHERE id = ?", (victim,))
        store.db.execute("DELETE FROM households WHERE id != ?", (victim,))
    report = syncer.pull()
    assert report.resync is True
    assert _households(store) == truth


def test_p1_households_that_leave_the_scope_are_dropped_unless_edits_wait(live_db, tmp_path):
    live, url = live_db
    token = live.world.tokens["cadre_b"]
    client = fast_client(live.url, token)
    items = registrations(2, village="03316_01")
    assert {r.result for r in client.push(items).results} == {"accepted"}
    kept, dropped = household_ids(items)
    store = LocalStore(tmp_path / "tablet.sqlite3")
    syncer = Synchronizer(store, client)
    syncer.pull()
    assert {kept, dropped} <= set(_households(store))
    store.save(answers_item(visit(kept)), household_id=kept)  # an unsent visit of one of them
    app = build_app(url, str(tmp_path / "app"))
    try:
        _set_scope(app, "cadre_b", "11/03316/02")  # the coordinator moves cadre_b elsewhere
        syncer.pull()
        held = set(_households(store))
        assert dropped not in held
        assert kept in held  # its copy stays while the visit waits to be sent
    finally:
        _set_scope(app, "cadre_b", "11/03316/01")  # the shared server as it was
        dispose_app(app)


def _set_scope(app, username: str, *paths: str) -> None:
    with app.app_context():
        users.set_scope(users.find(username), [admin_units.find(p) for p in paths])
        db.session.remove()


def test_c4_unsent_edits_are_reapplied_on_the_pulled_state(live_db, tmp_path):
    live, _url = live_db
    token = live.world.tokens["cadre_a"]
    client = fast_client(live.url, token)
    (item,) = registrations(1, village="03325_01")
    assert client.push([item]).results[0].result == "accepted"
    (household,) = household_ids([item])
    store = LocalStore(tmp_path / "tablet.sqlite3")
    syncer = Synchronizer(store, client)
    syncer.pull()
    base = store.household(household)["server_properties"]
    assert base["hh_size"] == "2" and base["income_per_person"] == "1200000"

    # Offline, this tablet records: 5 members, income 900,000 (not sent yet).
    mine = visit(household, base_version=1, visited__hh_size="5",
                 income__income_per_person="900000")  # fmt: skip
    properties = visit_form().entity.properties
    edits = {name: mine.find(path.removeprefix("/data/")).text for name, path in properties.items()
             if mine.find(path.removeprefix("/data/")) is not None}  # fmt: skip
    store.save(answers_item(mine), household_id=household, base_version=1, base=base, edits=edits)
    # Meanwhile another tablet's visit reached the server: 4 members, income unchanged.
    theirs = visit(household, base_version=1, visited__hh_size="4")
    assert client.push([answers_item(theirs)]).results[0].result == "accepted"

    report = syncer.pull()
    assert report.rebased == 1
    seen = store.household(household)
    assert seen["server_properties"]["hh_size"] == "4"  # the pulled state
    assert seen["properties"]["income_per_person"] == "900000"  # our unsent change on top
    # Both changed the size: a conflict, shown with the value the server will choose (H4: the
    # later by corrected device time; our visit is dated March, the other one arrived now).
    assert seen["properties"]["hh_size"] == "4"
    (conflict,) = next(h for h in store.households() if h["id"] == household)["conflicts"]
    assert conflict == {"property": "hh_size", "base": "2", "theirs": "4", "ours": "5",
                        "instance_id": mine.find("meta/instanceID").text,
                        "provisional": "4"}  # fmt: skip


def test_c5_the_clock_offset_is_measured_and_sent_with_submissions(live_db, tmp_path):
    live, url = live_db
    token = live.world.tokens["cadre_a"]

    def an_hour_fast() -> dt.datetime:
        return dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)

    client = fast_client(live.url, token, clock=an_hour_fast)
    store = LocalStore(tmp_path / "tablet.sqlite3")
    item = registrations(1, village="03325_02")[0]
    item.pop("clock_offset_ms")
    store.save(item)
    report = Synchronizer(store, client).sync()
    assert abs(report.clock_offset_ms - 3_600_000) < 5_000
    assert abs(store.clock_offset_ms - 3_600_000) < 5_000
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        offset = conn.execute(
            sa.text("SELECT clock_offset_seconds FROM submissions WHERE instance_id = :i"),
            {"i": item["instance_id"]},
        ).scalar_one()
    engine.dispose()
    assert abs(offset - 3600) < 5
