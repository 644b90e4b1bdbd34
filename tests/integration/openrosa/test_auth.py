"""OpenRosa authentication: device token in the URL, Basic (HTTPS only), Digest (RFC 7616, MD5)."""

from __future__ import annotations

import hashlib

from werkzeug.http import parse_dict_header

from server.services.access import auth, users
from tests.integration.helpers import PASSWORD, basic
from tests.integration.openrosa.documents import form_entries, message
from tests.integration.openrosa.world import OPENROSA


def md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()


def challenges(response) -> dict[str, dict[str, str]]:
    """The WWW-Authenticate challenges by scheme (lower case) -> parameters."""
    found = {}
    for value in response.headers.getlist("WWW-Authenticate"):
        scheme, _, params = value.partition(" ")
        found[scheme.lower()] = parse_dict_header(params)
    return found


def digest_header(challenge: dict, username: str, password: str, method: str, uri: str) -> str:
    """The Authorization header Collect's Digest client would send for this challenge."""
    ha1 = md5(f"{username}:{challenge['realm']}:{password}")
    ha2 = md5(f"{method}:{uri}")
    nc, cnonce = "00000001", "0a4f113b"
    answer = md5(f"{ha1}:{challenge['nonce']}:{nc}:{cnonce}:auth:{ha2}")
    return (
        f'Digest username="{username}", realm="{challenge["realm"]}", '
        f'nonce="{challenge["nonce"]}", uri="{uri}", algorithm=MD5, qop=auth, nc={nc}, '
        f'cnonce="{cnonce}", response="{answer}", opaque="{challenge.get("opaque", "")}"'
    )


def test_without_credentials_the_client_gets_a_digest_challenge(client, world):
    response = client.head("/submission", headers=OPENROSA)

    assert response.status_code == 401
    found = challenges(response)
    assert set(found) == {"digest"}  # plain HTTP: Basic is not offered
    assert found["digest"]["realm"] == auth.DIGEST_REALM
    assert found["digest"]["qop"] == "auth" and found["digest"]["algorithm"] == "MD5"


def test_digest_handshake_as_collect_does_it(client, world):
    challenge = challenges(client.get("/formList", headers=OPENROSA))["digest"]
    header = digest_header(challenge, "cadre_a", PASSWORD, "GET", "/formList")

    response = client.get("/formList", headers={**OPENROSA, "Authorization": header})

    assert response.status_code == 200
    assert {e["formID"] for e in form_entries(response.data)} >= {"giupho_household_visit"}
    # Download URLs carry no token: the client authenticates each request itself.
    assert all("/key/" not in e["downloadUrl"] for e in form_entries(response.data))


def test_digest_with_a_wrong_password_or_a_forged_nonce_is_refused(client, world):
    challenge = challenges(client.get("/formList", headers=OPENROSA))["digest"]
    wrong = digest_header(challenge, "cadre_a", "not the password", "GET", "/formList")
    forged = digest_header(
        {**challenge, "nonce": "0.0.abc"}, "cadre_a", PASSWORD, "GET", "/formList"
    )
    other_path = digest_header(challenge, "cadre_a", PASSWORD, "GET", "/submission")

    for header in (wrong, forged, other_path):
        response = client.get("/formList", headers={**OPENROSA, "Authorization": header})
        assert response.status_code == 401 and message(response.data)[0] == "error"


def test_digest_works_after_a_password_change_and_not_before_it(client, world, app):
    with app.app_context():
        auth.set_password(users.find("cadre_a"), "mật khẩu mới")
    challenge = challenges(client.get("/formList", headers=OPENROSA))["digest"]
    old = digest_header(challenge, "cadre_a", PASSWORD, "GET", "/formList")
    new = digest_header(challenge, "cadre_a", "mật khẩu mới", "GET", "/formList")

    assert client.get("/formList", headers={**OPENROSA, "Authorization": old}).status_code == 401
    assert client.get("/formList", headers={**OPENROSA, "Authorization": new}).status_code == 200


def test_basic_needs_https_unless_the_development_setting_allows_it(client, world, app):
    headers = {**OPENROSA, **basic("cadre_a")}

    plain = client.get("/formList", headers=headers)
    secure = client.get("/formList", headers=headers, base_url="https://localhost")
    app.config["ALLOW_INSECURE_BASIC"] = True
    allowed = client.get("/formList", headers=headers)

    assert (plain.status_code, secure.status_code, allowed.status_code) == (401, 200, 200)
    assert "basic" in challenges(client.get("/formList", headers=OPENROSA, base_url="https://x"))


def test_a_revoked_or_unknown_device_token_is_refused(client, world, app):
    token = world.tokens["cadre_a"]
    with app.app_context():
        auth.revoke_device(auth.authenticate_token(token))

    revoked = client.get(f"/key/{token}/formList", headers=OPENROSA)
    unknown = client.get("/key/not-a-token/formList", headers=OPENROSA)

    assert (revoked.status_code, unknown.status_code) == (401, 401)
    assert "thu hồi" in message(revoked.data)[1]  # the officer learns the device was revoked


def test_turning_digest_off_leaves_only_tokens_and_https_basic(client, world, app):
    app.config["OPENROSA_DIGEST"] = False
    challenge = challenges(client.get("/formList", headers=OPENROSA))
    assert "digest" not in challenge
