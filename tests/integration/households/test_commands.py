"""Operator commands for households and duplicates, run as an operator runs them
(`app.test_cli_runner()` on the `giupho` group): D2 recheck, D2 indexing of old databases,
H8 rebuild of the seeded demo, and `giupho run` telling where the review site is."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import sqlalchemy as sa

from server.cli import main
from server.db import db
from server.models import DuplicateCase, DuplicateKey, DuplicateProfile, Household
from server.services.demo import seed
from tests.integration.contract.drivers import DRIVERS
from tests.integration.contract.submissions import household_id, registration, visit
from tests.integration.live import populate_world, publish_shipped_xforms
from tests.integration.web.site import SiteClient


def _register_twins(app, client) -> tuple[str, str]:
    return _twins(app, client)[:2]


def _twins(app, client):
    with app.app_context():
        world = populate_world(publish_shipped_xforms)
    tablet = DRIVERS["json"](client, world.tokens["cadre_a"])
    ids = []
    for name in ("Hoàng Văn Thủy", "Huynh Van Thuy"):
        root = registration(head_name=name, head__phone="0912000111")
        assert tablet.submit(root).status == 201
        ids.append(household_id(root))
    return ids[0], ids[1], tablet


def _case_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(DuplicateCase))


def test_d2_recheck_command_finds_pairs_registered_at_the_same_moment(app, client, runner):
    first, second = _register_twins(app, client)
    with app.app_context():  # as if two workers had committed them together
        db.session.execute(sa.delete(DuplicateCase))
        db.session.commit()
    found = runner.invoke(main, ["duplicates", "recheck", "--since", "1"])
    assert found.exit_code == 0, found.output
    assert "1 possible duplicates opened" in found.output
    with app.app_context():
        (case,) = db.session.scalars(sa.select(DuplicateCase)).all()
        assert {case.first_id, case.second_id} == {first, second}
    again = runner.invoke(main, ["duplicates", "recheck"])
    assert "0 possible duplicates opened" in again.output and _case_count(app) == 1


def test_d2_recheck_command_leaves_out_households_older_than_the_window(app, client, runner):
    _register_twins(app, client)
    with app.app_context():
        db.session.execute(sa.delete(DuplicateCase))
        old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
        db.session.execute(sa.update(Household).values(created_at=old))
        db.session.commit()
    found = runner.invoke(main, ["duplicates", "recheck", "--since", "24"])
    assert "0 possible duplicates opened" in found.output and _case_count(app) == 0
    refused = runner.invoke(main, ["duplicates", "recheck", "--since", "-1"])
    assert refused.exit_code == 2 and "--since" in refused.output


def test_d2_index_missing_command_indexes_households_from_before(app, client, runner):
    first, second = _register_twins(app, client)
    with app.app_context():
        db.session.execute(sa.delete(DuplicateKey))
        db.session.execute(sa.delete(DuplicateProfile))
        db.session.commit()
    done = runner.invoke(main, ["duplicates", "index-missing"])
    assert done.exit_code == 0 and "2 households indexed" in done.output, done.output
    with app.app_context():
        keyed = set(db.session.scalars(sa.select(DuplicateKey.household_id)))
    assert keyed == {first, second}
    again = runner.invoke(main, ["duplicates", "index-missing"])
    assert "0 households indexed" in again.output


def test_issue17_reindex_command_gives_old_households_the_keys_of_every_member(app, client, runner):
    """Households indexed before issue 17 had no keys for their members: after `reindex`, a
    registration by the spouse finds them through her own given name and birth year."""
    first, _, _ = _twins(app, client)
    with app.app_context():
        db.session.execute(sa.delete(DuplicateKey).where(DuplicateKey.key.like("given:%")))
        db.session.commit()
    done = runner.invoke(main, ["duplicates", "reindex"])
    assert done.exit_code == 0 and "2 households indexed again" in done.output, done.output
    with app.app_context():
        keys = set(db.session.scalars(
            sa.select(DuplicateKey.key).where(DuplicateKey.household_id == first)))  # fmt: skip
        profile = db.session.scalar(
            sa.select(DuplicateProfile.profile).where(DuplicateProfile.household_id == first)
        )
    assert any(k.startswith("given:") and k.endswith("hoa|1982") for k in keys)  # the wife
    assert profile["members"][0][3:] == ["female", "spouse"]


def test_h8_rebuild_of_the_seeded_demo_reports_zero_differences(app, runner):
    with app.app_context():
        assert seed.seed_demo()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Household)) > 0
    result = runner.invoke(main, ["households", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "0 differences" in result.output


def test_run_prints_the_review_site_and_the_official_who_signs_in_there(app, runner, monkeypatch):
    monkeypatch.setattr(type(app), "run", lambda self, **kwargs: None)  # no server in tests
    result = runner.invoke(main, ["run", "--port", "5123"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "Review site" in line]
    assert lines == ["Review site (duplicates, conflicts, double entries): "
                     "http://127.0.0.1:5123/review"]  # fmt: skip
    printed = re.search(r"sign in as (\S+) / (\S+) \(commune official", result.output)
    assert printed is not None and printed.group(1) == "xa.muongphang", result.output
    browser = SiteClient(app)  # the printed login opens the printed page
    assert browser.get("/review").status_code != 200
    browser.sign_in(printed.group(1), printed.group(2))
    assert browser.get("/review").status_code == 200


def test_h5_d2_run_applies_what_waited_too_long_and_rechecks_duplicates(
    app, client, runner, monkeypatch
):
    """`giupho run` (make run) does the periodic work at startup: a held update whose
    timeout passed is applied (H5), and twins no worker saw become a case (D2)."""
    _first, _second, tablet = _twins(app, client)
    orphan = str(uuid.uuid4())  # a visit whose registration never came
    assert tablet.submit(visit(orphan, base_version=1, visited__hh_size="4")).status == 201
    with app.app_context():
        db.session.execute(sa.delete(DuplicateCase))
        db.session.commit()
        assert db.session.get(Household, orphan) is None
    app.config["HOLD_TIMEOUT_HOURS"] = 0
    monkeypatch.setattr(type(app), "run", lambda self, **kwargs: None)
    result = runner.invoke(main, ["run"])
    assert result.exit_code == 0, result.output
    assert "Held updates applied: 1; possible duplicates opened: 1." in result.output
    assert _case_count(app) == 1
    with app.app_context():
        made = db.session.get(Household, orphan)
        assert (made.flag_reason, made.properties["hh_size"]) == ("hold_timeout", "4")
