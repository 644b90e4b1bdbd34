"""The programme's JSON API: agencies, assignments, pairs, units and imports over HTTP."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from server.db import db
from server.models import AdminUnit
from server.models.programme import Pair
from tests.integration.helpers import basic
from tests.integration.programme.world import build


@pytest.fixture
def world(app):
    with app.app_context():
        built = build()
        ids = {
            "household_a": built.household_a.id,
            "household_b": built.household_b.id,
            "cadre_id": built.cadre.id,
            "agency_id": built.agency.id,
            "team_id": built.team.id,
            "commune_a": db.session.scalar(
                sa.select(AdminUnit.id).where(AdminUnit.path == "11/03325")
            ),
        }
        db.session.remove()
    return ids


def _count(app, model) -> int:
    with app.app_context():
        found = db.session.scalar(sa.select(sa.func.count()).select_from(model))
        db.session.remove()
        return found


def test_the_api_document_lists_the_programmes_resources(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/agencies", "/api/v1/assignments", "/api/v1/units", "/api/v1/pairs"):
        assert path in paths, path


def test_a_coordinator_creates_edits_and_assigns_an_agency(client, world):
    made = client.post(
        "/api/v1/agencies",
        headers=basic("coordinator"),
        json={
            "code": "HND",
            "name": "Hội Nông dân",
            "kind": "organisation",
            "home_unit": "11",
            "lead": "lead",
        },
    )
    assert made.status_code == 201, made.json
    assert (made.json["home_unit"], made.json["lead"]) == ("11", "lead")
    edited = client.patch(
        f"/api/v1/agencies/{made.json['id']}",
        headers=basic("coordinator"),
        json={"name": "Hội Nông dân tỉnh"},
    )
    assert edited.json["name"] == "Hội Nông dân tỉnh"
    body = {
        "agency": "HND",
        "unit": "11/03325",
        "category": "special_difficulty",
        "phase": "2021-2025",
    }
    assigned = client.post("/api/v1/assignments", headers=basic("coordinator"), json=body)
    assert assigned.status_code == 201, assigned.json
    assert (assigned.json["starts_on"], assigned.json["ends_on"]) == ("2021-01-01", "2026-01-01")
    again = client.post("/api/v1/assignments", headers=basic("coordinator"), json=body)
    assert again.status_code == 409 and again.json["code"] == "409.30"
    listed = client.get("/api/v1/assignments?agency=HND", headers=basic("official.a")).json
    assert [a["unit"] for a in listed["assignments"]] == ["11/03325"]
    assert client.get("/api/v1/assignments", headers=basic("official.b")).json["assignments"] == []
    ended = client.post(
        f"/api/v1/assignments/{assigned.json['id']}/end",
        headers=basic("coordinator"),
        json={"on": "2024-06-01"},
    )
    assert ended.json["ends_on"] == "2024-06-01" and ended.json["current"] is False


def test_agencies_of_another_province_are_neither_listed_nor_shown_nor_edited(client, world):
    agency = world["agency_id"]
    assert client.get("/api/v1/agencies", headers=basic("outsider")).json["agencies"] == []
    assert client.get(f"/api/v1/agencies/{agency}", headers=basic("outsider")).status_code == 404
    patched = client.patch(
        f"/api/v1/agencies/{agency}", headers=basic("outsider"), json={"name": "Bị đổi"}
    )
    assert patched.status_code == 404
    refused = client.post(
        "/api/v1/agencies",
        headers=basic("official.a"),
        json={"code": "X", "name": "X", "home_unit": "11"},
    )
    assert refused.status_code == 403 and refused.json["code"] == "403.1"
    codes = [
        a["code"] for a in client.get("/api/v1/agencies", headers=basic("lead")).json["agencies"]
    ]
    assert codes == ["SYT", "SYT-T1"]


def test_pairs_are_made_reassigned_and_ended_over_http_with_history(client, world):
    made = client.post(
        "/api/v1/pairs",
        headers=basic("official.a"),
        json={
            "household": "MP-001",
            "helper": "cadre",
            "priority": 1,
            "capacity_note": "Có đất, thiếu vốn",
        },
    )
    assert made.status_code == 201, made.json
    assert (made.json["household"], made.json["helper"]) == (world["household_a"], "cadre")
    moved = client.post(
        f"/api/v1/pairs/{made.json['id']}/reassign",
        headers=basic("official.a"),
        json={"helper": "SYT-T1", "reason": "Chuyển công tác"},
    )
    assert moved.status_code == 201 and moved.json["helper_kind"] == "agency"
    history = client.get(
        "/api/v1/pairs?household=MP-001&current=false", headers=basic("official.a")
    ).json["pairs"]
    assert [(p["helper"], p["replaced_by"]) for p in history] == [
        ("cadre", moved.json["id"]),
        ("SYT-T1", None),
    ]
    # Another commune's official neither sees nor ends it.
    assert client.get("/api/v1/pairs", headers=basic("official.b")).json["pairs"] == []
    refused = client.post(f"/api/v1/pairs/{moved.json['id']}/end", headers=basic("official.b"))
    assert refused.status_code == 404
    ended = client.post(
        f"/api/v1/pairs/{moved.json['id']}/end",
        headers=basic("official.a"),
        json={"reason": "Thoát nghèo"},
    )
    assert ended.status_code == 200 and ended.json["current"] is False


def test_pairing_refusals_over_http(client, world):
    cases = [
        ("cadre", {"household": "MP-001", "helper": "cadre"}, 403, "403.1"),
        ("official.b", {"household": "MP-001", "helper": "cadre"}, 404, "404.23"),
        # The lead's agency is not assigned to commune A: its households are not theirs to find.
        ("lead", {"household": "MP-001", "helper": "cadre"}, 404, "404.23"),
        ("official.a", {"household": "MP-001", "helper": "nobody"}, 404, "404.24"),
        ("official.a", {"household": "MP-001", "helper": "SYT"}, 400, "400.32"),
    ]
    for who, body, status, code in cases:
        answer = client.post("/api/v1/pairs", headers=basic(who), json=body)
        assert (answer.status_code, answer.json["code"]) == (status, code), (who, answer.json)
    assert _count(client.application, Pair) == 0


def test_a_pairs_file_with_a_bad_row_creates_nothing_and_lists_the_rows(client, world):
    sheet = b"household,helper,priority\nMP-001,cadre,1\nNT-001,cadre,2\n"
    answer = client.post(
        "/api/v1/pairs/import",
        headers=basic("official.a") | {"Accept-Language": "en"},
        data={"file": (io.BytesIO(sheet), "pairs.csv")},
        content_type="multipart/form-data",
    )
    # A household of another commune is a refusal (403.16), not a typo.
    assert answer.status_code == 403 and answer.json["code"] == "403.16"
    assert [(d["row"], d["column"]) for d in answer.json["details"]["errors"]] == [(3, "household")]
    assert "Bản Một" in answer.json["details"]["errors"][0]["message"]
    typo = client.post(
        "/api/v1/pairs/import",
        headers=basic("official.a"),
        data={"file": (io.BytesIO(b"household,helper\nMP-001,nobody\n"), "p.csv")},
        content_type="multipart/form-data",
    )
    assert typo.status_code == 400 and typo.json["code"] == "400.23"
    assert _count(client.application, Pair) == 0
    good = client.post(
        "/api/v1/pairs/import",
        headers=basic("coordinator"),
        data={"file": (io.BytesIO(sheet), "pairs.csv")},
        content_type="multipart/form-data",
    )
    assert good.status_code == 201 and good.json["created"] == 2


def test_units_import_is_for_admins_and_villages_for_the_commune(client, world):
    refused = client.post(
        "/api/v1/units/import", headers=basic("coordinator"), json={"province": "12"}
    )
    assert refused.status_code == 403 and refused.json["code"] == "403.20"
    imported = client.post(
        "/api/v1/units/import",
        headers=basic("admin"),
        json={"province": "54", "communes": ["22240"], "districts": True},
    )
    assert imported.status_code == 201, imported.json
    assert (imported.json["districts"], imported.json["communes"]) == (1, 1)
    commune = world["commune_a"]
    village = client.post(
        f"/api/v1/units/{commune}/villages",
        headers=basic("official.a"),
        json={"name": "Bản Mới", "kind": "Bản"},
    )
    assert village.status_code == 201 and village.json["path"] == "11/03325/03"
    outside = client.post(
        f"/api/v1/units/{commune}/villages", headers=basic("official.b"), json={"name": "Bản Lạ"}
    )
    assert outside.status_code == 403 and "Xã Mường Phăng" in outside.json["message"]
    sheet = "commune,name\n03325,Bản Cuối\n".encode()
    answer = client.post(
        "/api/v1/units/villages/import",
        headers=basic("official.a"),
        data={"file": (io.BytesIO(sheet), "thon.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201 and answer.json["created"] == 1
