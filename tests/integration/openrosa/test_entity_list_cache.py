"""The entity list is kept per scope (issue 19): the manifest reads its MD5 without making the
CSV, the download answers with an ETag and 304, and every change that alters a user's list
(an edit, a merge, a close, a pair made or ended, a return with a comment) changes it."""

from __future__ import annotations

import datetime as dt
import hashlib

import sqlalchemy as sa

from server.db import db
from server.models import EntityListCache, Household, HouseholdStatus, Role
from server.models.base import utcnow
from server.services.access import auth, users
from server.services.households import lists as household_lists
from server.services.households import versions as households
from server.services.programme import pairs
from server.services.review import decisions
from tests.integration.openrosa.documents import media_entries, path_of
from tests.integration.openrosa.test_forms import _visit_entry, submit
from tests.integration.openrosa.world import (
    OPENROSA,
    household,
    new_id,
    registration_xml,
    visit_xml,
)


def _entry(client, world, username: str = "cadre_a") -> dict[str, str]:
    manifest = client.get(
        path_of(_visit_entry(client, world, username)["manifestUrl"]), headers=OPENROSA
    )
    assert manifest.status_code == 200
    return next(e for e in media_entries(manifest.data) if e.get("@type") == "entityList")


def _hash(client, world, username: str = "cadre_a") -> str:
    return _entry(client, world, username)["hash"]


def _download(client, world, username: str = "cadre_a", **headers):
    url = path_of(_entry(client, world, username)["downloadUrl"])
    return client.get(url, headers={**OPENROSA, **headers})


def _entries(app) -> list[EntityListCache]:
    with app.app_context():
        found = list(db.session.scalars(sa.select(EntityListCache).order_by(EntityListCache.id)))
        db.session.expunge_all()
    return found


def _register(client, world, username: str = "cadre_a", village: str = "03325_01") -> str:
    home = household(village=village)
    assert submit(client, world, username, registration_xml(home)).status_code == 201
    return home.id


def test_the_manifest_hash_is_the_md5_of_the_bytes_served_and_their_etag(client, world):
    _register(client, world)
    entry = _entry(client, world)
    served = client.get(path_of(entry["downloadUrl"]), headers=OPENROSA)

    md5 = hashlib.md5(served.data).hexdigest()
    assert served.status_code == 200 and entry["hash"] == "md5:" + md5
    assert served.headers["ETag"] == f'"{md5}"'
    assert household_lists.list_hash(served.data) == md5


def test_a_client_holding_the_list_gets_304_and_a_stale_one_the_new_bytes(client, world):
    home = _register(client, world)
    first = _download(client, world)
    etag = first.headers["ETag"]

    again = _download(client, world, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag

    assert submit(client, world, "cadre_a", visit_xml(home, 1)).status_code == 201
    changed = _download(client, world, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.data != first.data


def test_the_list_is_made_once_and_read_from_the_cache_until_it_changes(app, client, world):
    home = _register(client, world)
    before = _hash(client, world)
    (kept,) = _entries(app)

    assert _hash(client, world) == before
    assert _download(client, world).status_code == 200
    (still,) = _entries(app)
    assert (still.id, still.made_at, still.version_key) == (kept.id, kept.made_at, kept.version_key)

    assert submit(client, world, "cadre_a", visit_xml(home, 1)).status_code == 201
    assert _hash(client, world) != before
    (replaced,) = _entries(app)  # one entry per scope: the new version replaced the old
    assert replaced.version_key != kept.version_key and replaced.md5 != kept.md5


def test_two_users_with_the_same_scope_share_one_entry(app, client, world, make_user, places):
    make_user("cadre_a2", Role.CADRE, places.village_a1, places.village_a2)
    world.tokens["cadre_a2"] = _device(app, "cadre_a2")
    _register(client, world)

    assert _hash(client, world, "cadre_a") == _hash(client, world, "cadre_a2")
    assert len(_entries(app)) == 1
    _hash(client, world, "cadre_b")  # another scope: another entry
    assert len(_entries(app)) == 2


def test_entries_not_made_again_for_a_week_are_pruned(app, client, world):
    _register(client, world)
    _hash(client, world, "cadre_a")
    with app.app_context():
        db.session.execute(
            sa.update(EntityListCache).values(made_at=utcnow() - dt.timedelta(days=8))
        )
        db.session.commit()
    _hash(client, world, "cadre_b")  # storing another entry prunes the old one

    (left,) = _entries(app)
    with app.app_context():
        assert left.scope_key == household_lists.scope_key(users.find("cadre_b"))


def test_an_edit_changes_only_the_lists_that_hold_the_household(client, world):
    home_a = _register(client, world)
    _register(client, world, "cadre_b", "03316_01")
    before_a, before_b = _hash(client, world), _hash(client, world, "cadre_b")

    assert submit(client, world, "cadre_a", visit_xml(home_a, 1)).status_code == 201
    assert _hash(client, world) != before_a
    assert _hash(client, world, "cadre_b") == before_b


def test_a_merge_changes_the_list(app, client, world):
    survivor, absorbed = _register(client, world), _register(client, world)
    before = _hash(client, world)
    with app.app_context():
        households.record_decision(
            absorbed,
            {},
            kind="merge",
            actor_id=None,
            status=HouseholdStatus.MERGED,
            merged_into=survivor,
        )
        db.session.commit()

    assert _hash(client, world) != before
    listed = _download(client, world).data.decode()
    assert survivor in listed and absorbed not in listed


def test_a_close_changes_the_list(app, client, world):
    home = _register(client, world)
    before = _hash(client, world)
    with app.app_context():
        households.record_decision(
            home, {}, kind="close", actor_id=None, status=HouseholdStatus.CLOSED
        )
        db.session.commit()

    assert _hash(client, world) != before
    assert home not in _download(client, world).data.decode()


def test_a_pair_made_and_ended_changes_the_helpers_list(app, client, world):
    home = _register(client, world)  # in cadre_a's village, not cadre_b's
    before = _hash(client, world, "cadre_b")
    with app.app_context():
        made = pairs.pair(db.session.get(Household, home), users.find("cadre_b"))
        pair_id = made.id

    paired = _hash(client, world, "cadre_b")
    assert paired != before and home in _download(client, world, "cadre_b").data.decode()

    with app.app_context():
        ended = db.session.get(type(made), pair_id)
        pairs.end_pair(ended, on=ended.starts_on)
    assert _hash(client, world, "cadre_b") == before  # the same list as before: the same bytes
    assert home not in _download(client, world, "cadre_b").data.decode()


def test_a_return_with_a_comment_changes_the_list(app, client, world):
    home, iid = household(village="03325_01"), new_id()
    xml = registration_xml(home, instance_id=iid)
    assert submit(client, world, "cadre_a", xml).status_code == 201
    before = _hash(client, world)
    with app.app_context():
        official = users.find("official_a")
        decisions.decide(official, iid, "return", comment="Chụp lại ảnh nhà")

    assert _hash(client, world) != before
    assert "Chụp lại ảnh nhà" in _download(client, world).data.decode()


def _device(app, username: str) -> str:
    with app.app_context():
        _device, token = auth.register_device(users.find(username), "Tablet")
    return token
