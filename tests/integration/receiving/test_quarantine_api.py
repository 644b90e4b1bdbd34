"""The quarantine through the JSON API: what was kept (R3-R5) is visible to reviewers.

Payloads are sent the way tablets send them (both protocols), then read back
by the people who must act on them: the commune official of the cadre's
commune, the province coordinator, and the cadre who sent them.
"""

from __future__ import annotations

import io

import pytest

from tests.integration.contract.drivers import DRIVERS, JsonDriver
from tests.integration.contract.submissions import (
    instance_id,
    registration,
    registration_form,
    with_answer,
)
from tests.integration.helpers import basic
from tests.integration.live import shipped_world


@pytest.fixture
def world(app):
    with app.app_context():
        return shipped_world()


def _conflict(client, world, protocol: str = "json"):
    """cadre_a's registration, then a resend of it with another head's name (R3)."""
    tablet = DRIVERS[protocol](client, world.tokens["cadre_a"])
    household = registration()
    assert tablet.submit(household).status == 201
    outcome = tablet.submit(with_answer(household, "head/head_name", "Lò Văn Mình"))
    assert outcome.status == 409
    return household


def _unknown_version(client, world, version: str = "2099010101"):
    household = registration()
    household.attrs["version"] = version
    assert JsonDriver(client, world.tokens["cadre_a"]).submit(household).status == 404
    return household


def _list(client, who: str, **query) -> dict:
    response = client.get("/api/v1/quarantine", query_string=query, headers=basic(who))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.parametrize("protocol", sorted(DRIVERS))
def test_r3_conflicting_resend_is_visible_to_the_communes_reviewers(client, world, protocol):
    household = _conflict(client, world, protocol)

    for reviewer in ("official_a", "coordinator", "admin"):
        (item,) = _list(client, reviewer)["items"]
        assert item["instance_id"] == instance_id(household)
        assert item["linked_instance_id"] == instance_id(household)  # the record it disputes
        assert (item["reason_code"], item["submitter"], item["resolved_at"]) == (
            "409.3",
            "cadre_a",
            None,
        )

    shown = client.get(f"/api/v1/quarantine/{item['id']}", headers=basic("official_a"))
    assert shown.status_code == 200
    payload = shown.get_json()["payload"]
    assert payload["encoding"] == "utf-8" and "Lò Văn Mình" in payload["text"]  # kept, unchanged


def test_r3_reason_is_in_vietnamese_by_default_and_english_on_request(client, world):
    _conflict(client, world)

    (vi,) = _list(client, "official_a")["items"]
    en = client.get(
        "/api/v1/quarantine", headers=basic("official_a") | {"Accept-Language": "en"}
    ).get_json()["items"][0]

    assert vi["message"] != en["message"]
    assert any(ch in vi["message"] for ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
    assert en["message"].isascii()


def test_quarantine_is_not_shown_outside_the_senders_area(client, world):
    """Commune B's cadre and cadre_a's commune see different things; a cadre sees their own."""
    _conflict(client, world)

    assert _list(client, "cadre_a")["items"] != []  # what they sent
    assert _list(client, "cadre_b")["items"] == []  # another cadre's payload
    assert _list(client, "coordinator_other")["items"] == []  # another province
    (item,) = _list(client, "admin")["items"]
    refused = client.get(f"/api/v1/quarantine/{item['id']}", headers=basic("coordinator_other"))
    assert refused.status_code == 404  # as for an item that does not exist


def test_r5_item_can_be_run_again_by_a_reviewer_and_is_resolved_once_stored(client, world):
    household = _unknown_version(client, world)
    (item,) = _list(client, "official_a")["items"]
    assert (item["reason_code"], item["form_version"]) == ("404.5", "2099010101")

    cadre = client.post(f"/api/v1/quarantine/{item['id']}/reprocess", headers=basic("cadre_a"))
    assert cadre.status_code == 403  # reviewers decide
    early = client.post(f"/api/v1/quarantine/{item['id']}/reprocess", headers=basic("official_a"))
    assert early.status_code == 200
    assert (early.get_json()["result"], early.get_json()["item"]["resolved_at"]) == (
        "quarantined",
        None,
    )  # the version is still unknown: the item stays open, nothing is lost

    _load_version(client, "2099010101", publish=False)  # a draft receives nothing (R5)
    assert _list(client, "official_a")["items"][0]["id"] == item["id"]
    _load_version(client, "2099010101", publish=True)  # publishing runs it again by itself

    assert _list(client, "official_a")["items"] == []
    (done,) = _list(client, "official_a", state="resolved")["items"]
    assert done["linked_instance_id"] == instance_id(household) and done["resolved_at"]


def _load_version(client, version: str, publish: bool) -> None:
    form = registration_form()
    xform = form.xform.replace(
        f'version="{form.version}"'.encode(), f'version="{version}"'.encode()
    )
    if not publish:
        response = client.post(
            "/api/v1/forms",
            data={"file": (io.BytesIO(xform), "registration.xml")},
            headers=basic("admin"),
            content_type="multipart/form-data",
        )
        assert response.status_code in (200, 201), response.get_json()
        return
    response = client.post(
        f"/api/v1/forms/{form.form_id}/versions/{version}/publish", headers=basic("admin")
    )
    assert response.status_code == 200, response.get_json()


def test_quarantine_pages_follow_each_other_without_gaps(client, world):
    sent = [instance_id(_unknown_version(client, world, f"20990101{n:02d}")) for n in range(5)]

    first = _list(client, "official_a", limit=2)
    second = _list(client, "official_a", limit=2, after=first["next_after"])
    third = _list(client, "official_a", limit=2, after=second["next_after"])

    pages = [first, second, third]
    assert [i["instance_id"] for p in pages for i in p["items"]] == sent
    assert third["next_after"] is None


def test_a_wrong_filter_is_refused_with_the_field_to_fix(client, world):
    response = client.get(
        "/api/v1/quarantine", query_string={"state": "pending"}, headers=basic("official_a")
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "400.3" and "state" in response.get_json()["message"]
