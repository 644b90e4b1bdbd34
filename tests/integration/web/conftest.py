"""Fixtures for the review site: the world to review and signed-in clients."""

from __future__ import annotations

import pytest

from server.db import db
from tests.integration.reviews.site import add_review_case
from tests.integration.web.site import (
    Site,
    SiteClient,
    add_admin_cases,
    add_household_cases,
    build_site,
)


@pytest.fixture
def site(app) -> Site:
    return build_site(app)


@pytest.fixture
def full_site(app, site) -> Site:
    """The site with the household pages' cases (`site.cases`): a conflict, a possible
    duplicate and an exit, all in commune A."""
    with app.app_context():
        add_household_cases(site)
        db.session.remove()
    return site


@pytest.fixture
def admin_site(app, full_site) -> Site:
    """The full site with what the administration pages act on (`site.admin`): cadre_a's
    tablet, a village, an agency assigned to commune A, a pair, a form of commune A."""
    with app.app_context():
        add_admin_cases(full_site)
        add_review_case(full_site)
        db.session.remove()
    return full_site


@pytest.fixture
def browser_of(app, site):
    """A `SiteClient` signed in as `username` (None: nobody)."""

    def make(username: str | None = "official_a", address: str = "127.0.0.1") -> SiteClient:
        client = SiteClient(app, address)
        if username is not None:
            response = client.sign_in(username)
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return make
