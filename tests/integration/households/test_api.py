"""The households API over HTTP: list and filter in scope, history and conflicts, resolution
(sync contract H3, H7), with visits sent by ODK Collect's protocol."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AuditEvent
from tests.integration.helpers import bearer
from tests.integration.households.test_merge import visit
from tests.integration.openrosa.world import (
    OPENROSA,
    household,
    registration_xml,
    world,  # noqa: F401 - fixture
)

pytestmark = pytest.mark.usefixtures("world")


@pytest.fixture
def collect(client, world):  # noqa: F811 - the fixture
    """POST a submission as ODK Collect does, as `username` (a token in the URL)."""

    def post(xml: bytes, username: str = "cadre_a") -> int:
        data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
        response = client.post(world.key_url(username, "/submission"), data=data, headers=OPENROSA)
        assert response.status_code == 201, response.get_data(as_text=True)
        return response.status_code

    return post


@pytest.fixture
def api(client, world):  # noqa: F811 - the fixture
    def call(method: str, path: str, username: str = "official_a", **kwargs):
        headers = bearer(world.tokens[username])
        return client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    return call


def conflicting(collect) -> str:
    home = household(income=1_200_000)
    collect(registration_xml(home))
    collect(visit(home.id, 1, income=2_000_000, hour=10))
    collect(visit(home.id, 1, income=3_000_000, hour=8))
    return home.id


def test_h3_households_are_listed_in_scope_and_filtered(collect, api):
    flagged_id = conflicting(collect)
    quiet = household(head_name="Lò Văn Quang")
    collect(registration_xml(quiet))
    elsewhere = household(village="03316_01", head_name="Lò Văn Xa")
    collect(registration_xml(elsewhere), username="cadre_b")

    everything = api("GET", "/households").get_json()
    flagged = api("GET", "/households?flagged=true").get_json()
    named = api("GET", "/households?q=Quang").get_json()
    village = api("GET", "/households?village=11/03325/01").get_json()

    assert {h["id"] for h in everything["households"]} == {flagged_id, quiet.id}
    assert [h["id"] for h in flagged["households"]] == [flagged_id]
    assert flagged["households"][0]["open_conflicts"] == 1
    assert [h["label"] for h in named["households"]] == ["Lò Văn Quang (1980)"]
    assert len(village["households"]) == 2
    first = api("GET", "/households?limit=1").get_json()
    rest = api("GET", f"/households?limit=1&after={first['next_after']}").get_json()
    assert len(first["households"]) == len(rest["households"]) == 1
    assert api("GET", "/households?commune=99/99999").status_code == 404


def test_h7_one_household_shows_every_version_and_its_conflicts(collect, api):
    household_id = conflicting(collect)

    shown = api("GET", f"/households/{household_id}").get_json()

    assert [v["version"] for v in shown["versions"]] == [1, 2, 3]
    assert [v["base_version"] for v in shown["versions"]] == [None, 1, 1]
    assert all(v["submission_id"] for v in shown["versions"])
    assert "income_per_person" in shown["versions"][1]["changes"]
    (conflict,) = shown["conflicts"]
    assert (conflict["property"], conflict["base_value"], conflict["provisional"]) == (
        "income_per_person",
        "1200000",
        "2000000",
    )
    assert sorted(w["value"] for w in conflict["writes"]) == ["2000000", "3000000"]


def test_h3_a_reviewer_resolves_a_conflict_with_a_new_audited_version(collect, api, ctx):
    household_id = conflicting(collect)

    refused = api(
        "POST",
        f"/households/{household_id}/resolution",
        username="cadre_a",
        json={"values": {"income_per_person": "3000000"}},
    )
    resolved = api(
        "POST",
        f"/households/{household_id}/resolution",
        json={"values": {"income_per_person": "3000000"}},
    )

    assert refused.status_code == 403
    body = resolved.get_json()
    assert resolved.status_code == 200 and body["version"] == 4
    assert body["properties"]["income_per_person"] == "3000000"
    assert (body["flagged"], body["open_conflicts"]) == (False, 0)
    assert body["versions"][-1]["kind"] == "resolve"
    assert body["conflicts"][0]["resolution_version"] == 4
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "household.resolve")
    ).all()
    assert len(events) == 1 and events[0].details["version"] == 4


def test_a_household_outside_the_callers_scope_is_not_found(collect, api):
    elsewhere = household(village="03316_01")
    collect(registration_xml(elsewhere), username="cadre_b")

    assert api("GET", f"/households/{elsewhere.id}").status_code == 404
    bad = api("POST", f"/households/{elsewhere.id}/resolution", json={"values": {}})
    assert bad.status_code in (400, 404)
