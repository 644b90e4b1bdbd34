"""Users and devices administration through the JSON API (real HTTP through the test client)."""

from __future__ import annotations

import base64
import io
import json
import zlib

import pytest

from server.models import Role
from tests.integration.helpers import PASSWORD, basic, bearer
from tests.integration.openrosa.world import OPENROSA, load_shipped_forms


@pytest.fixture
def people(app, places, make_user):
    make_user("admin", Role.ADMIN)
    make_user("coord_a", Role.COORDINATOR, places.commune_a)
    make_user("official_a", Role.COMMUNE_OFFICIAL, places.commune_a)
    make_user("cadre_a", Role.CADRE, places.village_a1)
    make_user("cadre_b", Role.CADRE, places.village_b1)
    return places


def _id(client, username: str) -> int:
    found = client.get("/api/v1/users", query_string={"q": username}, headers=basic("admin"))
    (user,) = [u for u in found.json["users"] if u["username"] == username]
    return user["id"]


def test_a_coordinator_creates_edits_and_lists_users_of_their_area(client, people):
    new = {"username": "lo.thi.mai", "full_name": "Lò Thị Mai", "role": "cán bộ",
           "units": ["03325"], "password": "mat-khau-tam"}  # fmt: skip
    created = client.post("/api/v1/users", json=new, headers=basic("coord_a"))
    assert created.status_code == 201, created.json
    assert created.json["role"] == "cadre" and created.json["units"][0]["path"] == "11/03325"
    user_id = created.json["id"]
    patch = {"units": ["11/03325/01"], "full_name": "Lò Thị Mai (Bản Một)"}
    changed = client.patch(f"/api/v1/users/{user_id}", json=patch, headers=basic("coord_a"))
    assert changed.status_code == 200 and changed.json["full_name"] == patch["full_name"]
    listed = client.get("/api/v1/users", headers=basic("coord_a")).json["users"]
    assert {u["username"] for u in listed} == {"coord_a", "official_a", "cadre_a", "lo.thi.mai"}
    hidden = client.get(f"/api/v1/users/{_id(client, 'cadre_b')}", headers=basic("coord_a"))
    assert hidden.status_code == 404 and hidden.json["code"] == "404.10"


def test_the_user_list_is_paged_by_id(client, people):
    first = client.get("/api/v1/users", query_string={"limit": 2}, headers=basic("admin")).json
    assert len(first["users"]) == 2 and first["next_after"] == first["users"][-1]["id"]
    rest = client.get("/api/v1/users", query_string={"after": first["next_after"], "limit": 200},
                      headers=basic("admin")).json  # fmt: skip
    names = [u["username"] for u in first["users"] + rest["users"]]
    assert sorted(names) == sorted(["admin", "coord_a", "official_a", "cadre_a", "cadre_b"])
    assert rest["next_after"] is None


def test_refusals_name_the_role_and_the_places(client, people):
    boss = {"username": "boss", "full_name": "Boss", "role": "quản trị", "units": ["03325"]}
    refused = client.post("/api/v1/users", json=boss, headers=basic("coord_a"))
    assert refused.status_code == 403 and "Quản trị viên" in refused.json["message"]
    far = {"username": "far", "full_name": "Far", "role": "cadre", "units": ["11/03316/02"]}
    refused = client.post("/api/v1/users", json=far, headers=basic("coord_a"))
    assert refused.status_code == 403 and "Nà Tấu" in refused.json["message"]
    as_cadre = client.post("/api/v1/users", json=far, headers=basic("cadre_a"))
    assert as_cadre.status_code == 403 and as_cadre.json["code"] == "403.10"
    unknown = {"username": "x", "full_name": "X", "role": "trưởng thôn", "units": ["03325"]}
    bad_role = client.post("/api/v1/users", json=unknown, headers=basic("admin"))
    assert bad_role.status_code == 400 and "trưởng thôn" in bad_role.json["message"]
    again = {"username": "cadre_a", "full_name": "Again", "role": "cadre", "units": ["03325"]}
    assert client.post("/api/v1/users", json=again, headers=basic("admin")).status_code == 409


def test_deactivating_stops_the_users_device_and_password_and_activating_restores(
    client, people, make_device
):
    token = make_device("cadre_a")
    user_id = _id(client, "cadre_a")
    off = client.post(f"/api/v1/users/{user_id}/deactivate", headers=basic("coord_a"))
    assert off.status_code == 200 and off.json["active"] is False
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 401
    assert client.get("/api/v1/forms", headers=basic("cadre_a")).status_code == 401
    on = client.post(f"/api/v1/users/{user_id}/activate", headers=basic("coord_a"))
    assert on.status_code == 200 and on.json["active"] is True
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 200


def test_a_reset_password_is_shown_once_the_old_one_fails_and_the_new_one_works(client, people):
    user_id = _id(client, "cadre_a")
    reset = client.post(f"/api/v1/users/{user_id}/password", headers=basic("coord_a"))
    assert reset.status_code == 200 and reset.json["username"] == "cadre_a"
    password = reset.json["password"]
    assert client.get("/api/v1/forms", headers=basic("cadre_a")).status_code == 401
    assert client.get("/api/v1/forms", headers=basic("cadre_a", password)).status_code == 200
    shown = client.get(f"/api/v1/users/{user_id}", headers=basic("admin")).get_data(as_text=True)
    assert password not in shown


def _upload(client, rows: str, who: str, lang: str = "vi"):
    data = {"file": (io.BytesIO(rows.encode("utf-8")), "users.csv")}
    headers = basic(who) | {"Accept-Language": lang}
    return client.post("/api/v1/users/import", data=data, headers=headers,
                       content_type="multipart/form-data")  # fmt: skip


def test_an_import_with_bad_rows_answers_each_row_and_creates_nothing(client, people):
    rows = ("username;full_name;role;units\n"
            "mot;Người Một;cán bộ;03325\n"
            "hai;Người Hai;trưởng thôn;03325\n"
            "ba;Người Ba;cán bộ;11/77777\n"
            "mot;Người Một Lại;cán bộ;03325\n"
            "cadre_b;Trùng;cán bộ;03325\n")  # fmt: skip
    answer = _upload(client, rows, "admin")
    assert answer.status_code == 400 and answer.json["code"] == "400.23"
    errors = {(e["row"], e["column"]) for e in answer.json["details"]["errors"]}
    assert errors == {(3, "role"), (4, "units"), (5, "username"), (6, "username")}
    assert "Dòng" not in answer.json["message"] and "4" in answer.json["message"]
    found = client.get("/api/v1/users", query_string={"q": "mot"}, headers=basic("admin"))
    assert found.json["users"] == []
    english = _upload(client, rows, "admin", "en").json["details"]["errors"]
    assert any("is already in row 2" in e["message"] for e in english)


def test_an_import_with_rows_outside_the_coordinators_area_is_refused(client, people):
    rows = "username,full_name,role,units\nok,Ok,cadre,03325\nfar,Far,cadre,03316\n"
    answer = _upload(client, rows, "coord_a")
    assert answer.status_code == 403 and answer.json["code"] == "403.16"
    (error,) = answer.json["details"]["errors"]
    assert (error["row"], error["column"]) == (3, "units") and "Nà Tấu" in error["message"]
    good = _upload(client, "username,full_name,role,units\nok,Ok,cán bộ xã,03325\n", "coord_a")
    assert good.status_code == 201 and good.json["created"][0]["role"] == "commune_official"


def _settings(payload: str) -> dict:
    return json.loads(zlib.decompress(base64.b64decode(payload)))


def test_an_enrolled_devices_qr_url_serves_the_users_forms_until_revoked(app, client, people):
    with app.app_context():
        load_shipped_forms()
    user_id = _id(client, "cadre_a")
    enrolled = client.post(f"/api/v1/users/{user_id}/devices", json={"name": "Tab 7"},
                           headers=basic("official_a"))  # fmt: skip
    assert enrolled.status_code == 201, enrolled.json
    body = enrolled.json
    settings = _settings(body["qr_payload"])
    assert (
        settings["general"]["server_url"] == body["url"] == f"http://localhost/key/{body['token']}"
    )
    assert body["qr_svg"].lstrip().startswith("<svg")
    path = body["url"].removeprefix("http://localhost")
    form_list = client.get(f"{path}/formList", headers=OPENROSA)
    assert form_list.status_code == 200 and b"giupho_household_visit" in form_list.data
    listed = client.get(f"/api/v1/users/{user_id}/devices", headers=basic("official_a")).json
    assert [d["name"] for d in listed["devices"]] == ["Tab 7"]
    assert body["token"] not in json.dumps(listed)
    revoked = client.post(f"/api/v1/devices/{body['device']['id']}/revoke",
                          headers=basic("official_a"))  # fmt: skip
    assert revoked.status_code == 200 and revoked.json["revoked_at"] is not None
    refused = client.get(f"{path}/formList", headers=OPENROSA)
    assert refused.status_code == 401


def test_the_public_url_setting_is_the_enrolled_devices_server(app, client, people):
    app.config["PUBLIC_URL"] = "https://giupho.dienbien.gov.vn/"
    body = client.post(f"/api/v1/users/{_id(client, 'cadre_a')}/devices", json={},
                       headers=basic("admin")).json  # fmt: skip
    assert body["url"] == f"https://giupho.dienbien.gov.vn/key/{body['token']}"


def test_a_commune_official_cannot_enrol_devices_outside_their_commune(client, people):
    refused = client.post(f"/api/v1/users/{_id(client, 'cadre_b')}/devices", json={},
                          headers=basic("official_a"))  # fmt: skip
    assert refused.status_code == 404  # a cadre of another commune is not theirs to see
    coordinator = client.post(f"/api/v1/users/{_id(client, 'coord_a')}/devices", json={},
                              headers=basic("official_a"))  # fmt: skip
    assert coordinator.status_code == 404


def test_the_openapi_document_lists_the_users_routes(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/users"])
    assert "patch" in paths["/api/v1/users/{user_id}"]
    assert "post" in paths["/api/v1/users/{user_id}/devices"]
    assert "post" in paths["/api/v1/devices/{device_id}/revoke"]


def test_basic_passwords_of_new_users_work_at_once(client, people):
    new = {"username": "moi", "full_name": "Mới", "role": "cadre", "units": ["03325"],
           "password": PASSWORD}  # fmt: skip
    assert client.post("/api/v1/users", json=new, headers=basic("admin")).status_code == 201
    assert client.get("/api/v1/forms", headers=basic("moi")).status_code == 200


def test_ids_past_the_columns_range_are_answered_not_failed(client, people):
    """Found by the OpenAPI fuzz: PostgreSQL's INTEGER ids refused a BIGINT `after` (500)."""
    huge = client.get("/api/v1/users", query_string={"after": 2**62}, headers=basic("admin"))
    assert huge.status_code == 400 and huge.json["code"] == "400.3"
    assert client.get(f"/api/v1/users/{2**40}", headers=basic("admin")).status_code == 404
    revoke = client.post(f"/api/v1/devices/{2**40}/revoke", headers=basic("admin"))
    assert revoke.status_code == 404
