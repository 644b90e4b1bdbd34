"""Hostile query parameters, path values and headers on every GET route: never a 5xx.

Issue 13, finding 3: 34 of 630 hostile parameters answered 500 (Unicode digits in
`?page=²` and `Upload-Offset: ²`, integers beyond the column in `?after=`, NUL in
`?q=%00`, a device name with NUL). The matrix walks the app's url_map (site, API,
OpenRosa), fills each route's path with plain and hostile values, and sends every known
parameter name with each hostile value, signed in as an admin and as a cadre, on SQLite
and PostgreSQL. Bounded: about three thousand requests per role and backend.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.integration.helpers import PASSWORD, basic, bearer
from tests.integration.web.site import SiteClient, build_site

#: Every name a view or a query schema reads from the query string.
PARAMETERS = (
    "page", "commune", "village", "cadre", "form", "from", "to", "state", "status",
    "poverty", "flagged", "conflicts", "q", "after", "limit", "cursor", "kind", "formID",
    "id", "next", "lang", "version",
)  # fmt: skip

#: Raw (already percent-encoded) query values.
HOSTILE = {
    "superscript two": quote("²"),
    "fullwidth digits": quote("１２"),
    "Arabic-Indic digits": quote("٣"),
    "beyond 64 bits": "99999999999999999999999",
    "just beyond BIGINT": str(2**63),
    "negative": "-1",
    "NUL": "%00",
    "control character": "%1b",
    "invalid UTF-8": "%ff%fe",
    "very long": "9" * 5000,
    "date far out": "99999-12-31",
}

#: Values for a route's path variables: plain ones and hostile ones.
PATH_VALUES = ("1", quote("²"), "99999999999999999999999", "%00", "%ff", "x" * 300, "x" * 5000)

HOSTILE_HEADERS = {
    "Upload-Offset": ["²", "１２", "99999999999999999999999", "-1", ""],
    "Upload-Length": ["²", "99999999999999999999999", "-1"],
    "If-None-Match": ['"²"', "*" * 5000, 'W/"\x7f"'],
    "If-Modified-Since": ["²", "Mon, 99 Foo 99999 99:99:99 GMT"],
    "Accept-Language": ["²;q=²", "vi;q=99999999999999999999", "x" * 5000],
    "X-OpenRosa-Version": ["²", "1.0" * 2000, ""],
    "Range": ["bytes=²-", "bytes=0-99999999999999999999999", "bytes=-1-"],
    "Date": ["²", "Mon, 99 Foo 99999 99:99:99 GMT"],
    "Content-Encoding": ["²", "gzip, gzip, gzip"],
}

_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def get_routes(app) -> list[str]:
    rules = [r.rule for r in app.url_map.iter_rules() if "GET" in r.methods]
    return sorted(set(rules))


def fill(rule: str, value: str, token: str) -> str:
    def one(match: re.Match) -> str:
        return token if match.group(1) == "token" else value

    return _VARIABLE.sub(one, rule)


def _urls(app, token: str) -> tuple[list[str], list[str]]:
    """Every GET route with plain path values, and with each hostile one."""
    plain, hostile = [], []
    for rule in get_routes(app):
        plain.append(fill(rule, PATH_VALUES[0], token))
        if "<" in rule:
            hostile += [fill(rule, value, token) for value in PATH_VALUES[1:]]
    return plain, hostile


def _assert_no_5xx(responses: list[tuple[str, int]]) -> None:
    bad = [f"{status} {url}" for url, status in responses if status >= 500]
    assert not bad, "\n".join(bad[:40])


@pytest.fixture
def world(app):
    return build_site(app)


@pytest.mark.parametrize("username", ["admin", "cadre_a"])
def test_hostile_query_and_path_values_never_answer_5xx(app, world, username):
    """Issue 13, finding 3: every GET route, each known parameter with each hostile value
    (and all at once, and repeated as an array), as an admin and as a cadre: 4xx or 2xx."""
    token = world.world.tokens[username]
    site = SiteClient(app)
    site.sign_in(username)
    api = app.test_client()
    answers: list[tuple[str, int]] = []

    def send(url: str) -> None:
        if url.startswith(("/api/", "/key/")):
            headers = bearer(token) | {"X-OpenRosa-Version": "1.0"}
            response = api.get(url, headers=headers)
        elif url.startswith(("/formList", "/forms/", "/datasets/")):
            headers = basic(username, PASSWORD) | {"X-OpenRosa-Version": "1.0"}
            response = api.get(url, headers=headers)
        else:
            response = site.client.get(url)
        answers.append((url, response.status_code))

    plain, hostile = _urls(app, token)
    for url in hostile:
        send(url)
    for url in plain:
        send(url)
        for value in HOSTILE.values():
            send(f"{url}?" + "&".join(f"{name}={value}" for name in PARAMETERS))
        for name in PARAMETERS:
            for value in ("99999999999999999999999",):
                send(f"{url}?{name}={value}&{name}=1")
    _assert_no_5xx(answers)
    assert len(answers) > 1000  # the matrix really walked the routes


@pytest.mark.parametrize("username", ["admin", "cadre_a"])
def test_hostile_headers_never_answer_5xx(app, world, username):
    """Issue 13, finding 3: Upload-Offset, Upload-Length, If-None-Match, Accept-Language,
    X-OpenRosa-Version, Range... with Unicode digits, huge or negative numbers, on every GET
    route and on the resumable upload's PATCH."""
    token = world.world.tokens[username]
    client = app.test_client()
    created = client.post(
        "/api/v1/uploads",
        json={"filename": "a.jpg", "size": 10, "sha256": "0" * 64},
        headers=bearer(token),
    )
    upload = (created.get_json() or {}).get("id", "nope")
    answers: list[tuple[str, int]] = []
    urls = [fill(rule, "1", token) for rule in get_routes(app)]
    for name, values in HOSTILE_HEADERS.items():
        for value in values:
            headers = bearer(token) | {"X-OpenRosa-Version": "1.0", name: value}
            for url in urls:
                answers.append((url, client.get(url, headers=headers).status_code))
            chunk = b"0123456789"
            response = client.patch(f"/api/v1/uploads/{upload}", data=chunk, headers=headers)
            answers.append((f"PATCH upload {name}: {value[:20]}", response.status_code))
    for value in ("²", "99999999999999999999999", "-1"):
        response = client.patch(
            f"/api/v1/uploads/{upload}",
            data=b"0123456789",
            headers=bearer(token),
            environ_overrides={"CONTENT_LENGTH": value},
        )
        answers.append((f"PATCH upload Content-Length: {value}", response.status_code))
    _assert_no_5xx(answers)


def test_the_findings_examples_answer_400_naming_the_parameter(app, world):
    """Issue 13, finding 3: the examples of the finding, each a 4xx that says what to fix."""
    token = world.world.tokens["admin"]
    client = app.test_client()
    nul = client.get("/api/v1/households?q=%00", headers=bearer(token))
    assert nul.status_code == 400
    assert nul.get_json()["code"] == "400.15"
    assert "'q'" in nul.get_json()["message"]
    long = client.get("/api/v1/households?q=" + "x" * 4001, headers=bearer(token))
    assert long.status_code == 400 and long.get_json()["code"] == "400.16"
    after = client.get("/api/v1/quarantine?after=99999999999999999999999", headers=bearer(token))
    assert after.status_code == 400 and "after" in after.get_json()["message"]
    offset = client.patch(
        "/api/v1/uploads/nope", data=b"x", headers=bearer(token) | {"Upload-Offset": "²"}
    )
    assert offset.status_code == 400 and "Upload-Offset" in offset.get_json()["message"]
    device = client.post(
        "/api/v1/devices", json={"name": "Tablet\x00"}, headers=basic("admin", PASSWORD)
    )
    assert device.status_code == 400 and "name" in device.get_json()["message"]
    site = SiteClient(app)
    site.sign_in("official_a")
    page = site.get("/review/submissions?page=²")  # a bad page number shows the first page
    assert page.status_code == 200
    nul_page = site.get("/review/households?q=%00")
    assert nul_page.status_code == 400
    assert "<h1>" in nul_page.get_data(as_text=True)
