"""Every form of the site rejects a missing or wrong CSRF token (the list of forms is every
POST route of the route map, so a new form cannot be missed).

A refused request changes nothing; the same request with the page's token
goes through, which shows the refusal was about the token.
"""

from __future__ import annotations

import pytest

from server.db import db
from server.models import (
    AuditEvent,
    DuplicateCase,
    HouseholdVersion,
    PovertyExit,
    ReviewState,
    Submission,
)
from tests.integration.web.site import Site
from tests.integration.web.test_access import ROUTES, TARGETS, _request

POSTS = [r for r in ROUTES if r[1] == "POST"]
#: Form data of the public forms (the others come from `test_access.TARGETS`).
PUBLIC_FORMS = {
    "web.sign_in": {"username": "official_a", "password": "wrong password"},
    "web.sign_out": {},
    "web.set_language": {"lang": "en", "next": "/review"},
}


def test_every_post_route_is_a_known_form():
    assert {e for e, _m, _r in POSTS} <= set(PUBLIC_FORMS) | {e for e, _m in TARGETS}


def _call(site: Site, endpoint: str, rule: str) -> tuple[str, dict, dict]:
    if endpoint in PUBLIC_FORMS:
        return rule, {}, PUBLIC_FORMS[endpoint]
    _method, path, query, data = _request(site, endpoint, "POST", rule)
    return path, query, data


def _snapshot(app) -> tuple:
    with app.app_context():
        states = tuple(db.session.query(Submission.review_state, Submission.superseded).all())
        events = db.session.query(AuditEvent).count()
        versions = db.session.query(HouseholdVersion).count()
        cases = sorted(db.session.query(DuplicateCase.id, DuplicateCase.status))
        exits = db.session.query(PovertyExit).count()
        db.session.remove()
    return states, events, versions, cases, exits


@pytest.mark.parametrize("endpoint, method, rule", POSTS, ids=[r for _e, _m, r in POSTS])
def test_every_form_rejects_a_missing_or_wrong_csrf_token(
    app, admin_site, browser_of, endpoint, method, rule
):
    path, query, data = _call(admin_site, endpoint, rule)
    browser = browser_of("official_a")
    another_sessions_token = browser_of("official_b").token
    before = _snapshot(app)

    for token in ("", "forged-" + browser.token[7:], another_sessions_token):
        response = browser.post(path, data, token=token, query_string=query)
        assert response.status_code == 400, (token, response.status_code)
        assert "tải lại trang" in response.get_data(as_text=True)  # says what to do
    assert _snapshot(app) == before, "a request without the right token changed something"
    assert browser.get("/review").status_code == 200, "still signed in: sign-out was refused too"

    accepted = browser.post(path, data, query_string=query)
    assert accepted.status_code != 400, accepted.get_data(as_text=True)[:300]


def test_signing_in_needs_the_token_of_the_sign_in_page(app, site, browser_of):
    browser = browser_of(None)
    form = {"username": "official_a", "password": "mật-khẩu-thử"}
    assert browser.post("/signin", form, token="").status_code == 400
    assert browser.get("/review").status_code == 401
    assert browser.post("/signin", form).status_code == 302
    assert browser.get("/review").status_code == 200


def test_a_decision_with_the_right_token_is_taken(app, site, browser_of):
    browser = browser_of("official_a")
    browser.get(f"/review/submissions/{site.a[1]}")
    response = browser.post(f"/review/submissions/{site.a[1]}/decision", {"decision": "approve"})
    assert response.status_code == 302
    with app.app_context():
        found = db.session.query(Submission).filter_by(instance_id=site.a[1]).one()
        assert found.review_state == ReviewState.APPROVED
