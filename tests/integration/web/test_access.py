"""Every page and action of the review site, from the route map, refuses a cadre and an official
of another commune, and lets the commune's own official through (roles and scope).

The routes are read from `app.url_map`, so a new page cannot be added without
saying here what it is about: `TARGETS` names the request that points it at
commune A's records; a route missing from both `TARGETS` and `PUBLIC` fails
`test_every_site_route_is_classified`.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable

import pytest

from server import create_app
from server.db import db
from server.models import DuplicateCase, Household, PovertyExit, Submission
from tests.integration.web.site import Site, SiteClient

#: Routes anyone may call: signing in and out, the language switch, the static files.
PUBLIC = {"web.home", "web.sign_in", "web.sign_out", "web.set_language", "web.static"}


def _route_map() -> list[tuple[str, str, str]]:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "route-map"},
        instance_path=tempfile.mkdtemp(prefix="giupho-web-routes-"),
    )
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("web."):
            methods = sorted(set(rule.methods) - {"OPTIONS", "HEAD"})
            found += [(rule.endpoint, method, rule.rule) for method in methods]
    return sorted(found)


ROUTES = _route_map()


def _commune_a(site: Site) -> dict:
    return {"commune": str(site.commune_a_id)}


#: (endpoint, method) -> what the request carries to point at commune A: (URL values,
#: query, form data), each built from the site.
TARGETS: dict[tuple[str, str], Callable[[Site], tuple[dict, dict, dict]]] = {
    ("web.dashboard", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.queue", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.quarantine", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.submission", "GET"): lambda s: ({"instance_id": s.a[0]}, {}, {}),
    ("web.attachment", "GET"): lambda s: ({"instance_id": s.a[0], "filename": "nha.jpg"}, {}, {}),
    ("web.decide", "POST"): lambda s: (
        {"instance_id": s.a[0]}, {}, {"decision": "return", "comment": "Sửa tên chủ hộ"}
    ),
    ("web.correct", "POST"): lambda s: (
        {"instance_id": s.a[0]}, {}, {"path": "/data/head/head_name", "value": "Lò Văn Sửa"}
    ),
    ("web.quarantine_item", "GET"): lambda s: ({"item_id": str(s.quarantine_id)}, {}, {}),
    ("web.quarantine_reprocess", "POST"): lambda s: ({"item_id": str(s.quarantine_id)}, {}, {}),
    ("web.households", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.household", "GET"): lambda s: ({"household_id": s.cases.conflicted}, {}, {}),
    ("web.resolve", "POST"): lambda s: (
        {"household_id": s.cases.conflicted}, {}, {"value:income_per_person": "1300000"}
    ),
    ("web.duplicates", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.duplicate", "GET"): lambda s: ({"case_id": str(s.cases.case_id)}, {}, {}),
    ("web.decide_duplicate", "POST"): lambda s: (
        {"case_id": str(s.cases.case_id)}, {}, {"decision": "distinct"}
    ),
    ("web.exits", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.decide_exit", "POST"): lambda s: (
        {"household_id": s.cases.exited}, {},
        {"decision": "decline", "version": "2", "reason": "Thu nhập chưa ổn định"},
    ),
}  # fmt: skip

#: Words of commune A's records that must never reach anyone outside it.
MARKERS = ("Lò Văn Một", "Quàng Thị Hai", "Lò Văn Khác", "Mường Phăng", "Lường Văn Bốn",
           "Cà Văn Năm", "Lò Thị Sáu")  # fmt: skip


def test_every_site_route_is_classified():
    present = {(endpoint, method) for endpoint, method, _rule in ROUTES}
    unclassified = {r for r in present if r not in TARGETS and r[0] not in PUBLIC}
    assert unclassified == set(), "say what these routes are about in TARGETS or PUBLIC"
    assert set(TARGETS) <= present, "TARGETS lists routes that no longer exist"


def _request(site: Site, endpoint: str, method: str, rule: str):
    values, query, data = TARGETS[(endpoint, method)](site)
    path = rule
    for name, value in values.items():
        path = path.replace(f"<{name}>", value).replace(f"<int:{name}>", value)
    return method, path, query, data


def _send(client: SiteClient, method: str, path: str, query: dict, data: dict):
    if method == "GET":
        return client.get(path, query_string=query)
    return client.post(path, data, query_string=query)


def _state(app, site: Site) -> tuple:
    """What a refused action must leave as it was: a submission, the households, the duplicate
    case and the exit decisions."""
    with app.app_context():
        found = db.session.query(Submission).filter_by(instance_id=site.a[0]).one()
        households = sorted(db.session.query(Household.id, Household.version, Household.status))
        case = db.session.get(DuplicateCase, site.cases.case_id)
        state = (found.review_state, found.superseded, households, case.status,
                 db.session.query(PovertyExit).count())  # fmt: skip
        db.session.remove()
    return state


TARGETED = [r for r in ROUTES if r[:2] in TARGETS]


@pytest.mark.parametrize(
    "endpoint, method, rule", TARGETED, ids=[f"{m} {r}" for _e, m, r in TARGETED]
)
def test_every_page_and_action_refuses_a_cadre_and_another_commune(
    app, full_site, browser_of, endpoint, method, rule
):
    site = full_site
    method, path, query, data = _request(site, endpoint, method, rule)
    before = _state(app, site)

    anonymous = _send(browser_of(None), method, path, query, data)
    assert anonymous.status_code == 401, anonymous.status_code
    for username, refused in (("cadre_a", {403}), ("official_b", {403, 404})):
        response = _send(browser_of(username), method, path, query, data)
        body = response.get_data().decode("utf-8", "replace")
        where = f"{username}: {method} {path} -> {response.status_code}"
        assert response.status_code in refused, where
        assert [m for m in MARKERS if m in body] == [], where
    assert _state(app, site) == before, "a refused action changed the record"

    allowed = _send(browser_of("official_a"), method, path, query, data)
    assert allowed.status_code in (200, 302), allowed.get_data(as_text=True)[:500]
