"""A cadre who signs in to the review site (issue 20, point 6) lands on a page that says what
they can do (collect on the tablet or with giupho-sync) and which units and households are
theirs, not on a refusal; a review page they open still refuses them, with a way back to it."""

from __future__ import annotations

from tests.integration.web.site import Site, SiteClient


def test_a_cadre_signing_in_lands_on_their_own_page(app, full_site: Site, browser_of):
    client = SiteClient(app)
    answer = client.sign_in("cadre_a")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/me")
    page = client.get("/me")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "giupho-sync login" in body and "ODK Collect" in body
    units = body.split('id="my-units"')[1]
    assert units.split("</ul>")[0].count("<li>") == 2  # their two villages
    # cadre_a works in commune A's two villages: the six households of the full site there.
    assert '<strong id="my-households">6</strong>' in units
    assert 'href="/review"' not in body  # no menu entry that would only refuse them


def test_a_review_page_refuses_a_cadre_with_a_link_to_their_page(full_site: Site, browser_of):
    refused = browser_of("cadre_a").get("/review/submissions")
    body = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert 'href="/me"' in body.split("<main")[1]
    assert 'href="/review"' not in body.split("<main")[1]


def test_other_roles_still_land_on_their_pages_and_may_read_their_own(app, full_site, browser_of):
    assert SiteClient(app).sign_in("official_a").headers["Location"].endswith("/review")
    assert SiteClient(app).sign_in("lead_a").headers["Location"].endswith("/admin/")
    assert browser_of(None).get("/me").status_code == 401
    official = browser_of("official_a").get("/me").get_data(as_text=True)
    assert "giupho-sync login" not in official
