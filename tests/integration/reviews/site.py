"""The review campaign the site's tests act on: commune A's ongoing review of 2026."""

from __future__ import annotations

import datetime as dt

from server.services.access import users
from server.services.reviews import campaigns


def add_review_case(site) -> None:
    """Open commune A's campaign (as the admin) and keep its id as `site.review_id`."""
    opened = campaigns.open_campaign(users.find("admin"), site.commune_a_id, 2026, "ongoing",
                                     dt.date(2026, 1, 1), dt.date(2026, 12, 31))  # fmt: skip
    site.review_id = opened.id
