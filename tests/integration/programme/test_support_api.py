"""The support ledger over HTTP: record, list, show, void, repay, the catalogue, import."""

from __future__ import annotations

import io

import pytest

from server.db import db
from server.services.programme import agencies, ledger
from server.services.programme import units as admin_units
from tests.integration.helpers import basic
from tests.integration.programme.world import build


@pytest.fixture
def world(app):
    with app.app_context():
        ledger.load_catalogue()
        built = build()
        agencies.assign(built.agency, admin_units.find("11/03325"), phase="2021-2030", actor=None)
        ids = {"household_a": built.household_a.id, "household_b": built.household_b.id}
        db.session.remove()
    return ids


def test_the_api_document_lists_the_ledger(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for path in ("/api/v1/support", "/api/v1/support/{support_id}/void", "/api/v1/support/kinds",
                 "/api/v1/support/{support_id}/repayments", "/api/v1/support/import"):  # fmt: skip
        assert path in paths, path


def test_an_official_records_lists_and_voids_support(client, world):
    made = client.post(
        "/api/v1/support",
        headers=basic("official.a"),
        json={"kind": "bicycle", "household": world["household_a"], "quantity": 1,
              "value_vnd": 1500000, "pupils": 1, "source": "donor",
              "source_name": "Nhà hảo tâm Nguyễn Văn Ánh", "given_on": "2025-09-05"},
    )  # fmt: skip
    assert made.status_code == 201, made.json
    entry = made.json
    assert (entry["kind"], entry["unit"], entry["pupils"]) == ("bicycle", "item", 1)
    assert entry["source_name"] == "Nhà hảo tâm Nguyễn Văn Ánh"
    assert entry["commune"] == "11/03325" and entry["recorded_by"] == "official.a"

    listed = client.get("/api/v1/support?kind=bicycle&unit=11/03325", headers=basic("official.a"))
    assert [e["id"] for e in listed.json["entries"]] == [entry["id"]]
    assert client.get("/api/v1/support", headers=basic("official.b")).json["entries"] == []
    hidden = client.get(f"/api/v1/support/{entry['id']}", headers=basic("official.b"))
    assert hidden.status_code == 404 and hidden.json["code"] == "404.40"

    refused = client.post(
        "/api/v1/support", headers=basic("official.a"),
        json={"kind": "bicycle", "household": world["household_b"], "quantity": 1},
    )  # fmt: skip
    assert refused.status_code == 404  # outside their area: not even named
    bad = client.post(
        "/api/v1/support", headers=basic("official.a"),
        json={"kind": "rice", "household": world["household_a"], "quantity": 0},
    )  # fmt: skip
    assert bad.status_code == 400 and bad.json["code"] == "400.41"

    path = f"/api/v1/support/{entry['id']}/void"
    no_reason = client.post(path, headers=basic("official.a"), json={"reason": ""})
    assert no_reason.status_code == 400 and no_reason.json["code"] == "400.48"
    voided = client.post(path, headers=basic("official.a"), json={"reason": "Nhập nhầm hộ"})
    assert voided.status_code == 200 and voided.json["void_reason"] == "Nhập nhầm hộ"
    again = client.post(path, headers=basic("official.a"), json={"reason": "x"})
    assert again.status_code == 409 and again.json["code"] == "409.40"
    assert client.get("/api/v1/support", headers=basic("official.a")).json["entries"] == []


def test_an_agency_lends_capital_and_records_repayments(client, world):
    lent = client.post(
        "/api/v1/support",
        headers=basic("lead"),
        json={"kind": "loan_capital", "household": world["household_a"],
              "value_vnd": 49000000, "given_on": "2024-03-01"},
    )  # fmt: skip
    assert lent.status_code == 201, lent.json
    assert lent.json["source"] == "agency" and lent.json["source_agency"] == "SYT"
    path = f"/api/v1/support/{lent.json['id']}/repayments"
    paid = client.post(path, headers=basic("lead"), json={"amount_vnd": 9000000})
    assert paid.status_code == 201, paid.json
    too_much = client.post(path, headers=basic("lead"), json={"amount_vnd": 40000001})
    assert too_much.status_code == 400 and too_much.json["code"] == "400.49"
    shown = client.get(f"/api/v1/support/{lent.json['id']}", headers=basic("lead")).json
    assert shown["outstanding_vnd"] == 40000000 and len(shown["repayments"]) == 1


def test_the_catalogue_is_read_by_all_and_changed_by_admins(client, world):
    kinds = client.get("/api/v1/support/kinds", headers=basic("cadre")).json["kinds"]
    assert {"books", "notebooks", "bicycle", "livestock"} <= {k["code"] for k in kinds}
    assert next(k for k in kinds if k["code"] == "notebooks")["name_vi"] == "Vở viết"
    new = {"code": "ducks", "category": "goods", "unit": "head", "name_vi": "Vịt bầu"}
    refused = client.post("/api/v1/support/kinds", headers=basic("coordinator"), json=new)
    assert refused.status_code == 403 and refused.json["code"] == "403.41"
    made = client.post("/api/v1/support/kinds", headers=basic("admin"), json=new)
    assert made.status_code == 201 and made.json["name_vi"] == "Vịt bầu"


def test_an_import_with_a_bad_row_lists_the_row(client, world):
    sheet = "kind,unit,quantity,value_vnd\nworks,03325,1,500000000\nworks,03325,-2,1\n"
    answer = client.post(
        "/api/v1/support/import",
        headers=basic("lead"),
        data={"file": (io.BytesIO(sheet.encode()), "ho-tro.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 400 and answer.json["code"] == "400.23"
    assert [e["row"] for e in answer.json["details"]["errors"]] == [3]
    sheet = "kind,unit,quantity,value_vnd\nworks,03325,1,500000000\n"
    answer = client.post(
        "/api/v1/support/import",
        headers=basic("lead"),
        data={"file": (io.BytesIO(sheet.encode()), "ho-tro.csv")},
        content_type="multipart/form-data",
    )
    assert answer.status_code == 201 and answer.json["created"] == 1
