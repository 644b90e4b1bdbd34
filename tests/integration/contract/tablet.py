"""A tablet's local copy, filled by JSON pulls: what a client holds after applying pages.

Deliberately tiny: it applies each page as the contract describes (P1-P3),
so tests can state what a tablet ends up holding rather than inspect pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from server.db import db
from tests.integration.database import wait_for_pull_horizon
from tests.integration.helpers import bearer


def settle(app) -> None:
    """Wait until every logged change is below PostgreSQL's pull horizon (P2): see
    `database.wait_for_pull_horizon`."""
    with app.app_context():
        wait_for_pull_horizon(db.session)
        db.session.remove()


@dataclass
class Tablet:
    """Pulls with a device token and applies changes page by page."""

    client: object
    token: str
    cursor: str | None = None
    households: dict[str, dict] = field(default_factory=dict)
    forms: dict[str, dict] = field(default_factory=dict)
    pages: list[list[dict]] = field(default_factory=list)
    settle: Callable[[], None] = lambda: None

    def fetch(self, limit: int = 200, cursor: str | None = None, wait: bool = True) -> dict:
        """One page from `cursor` (default: the last applied one), not applied.

        `wait=False` pulls at once, without waiting for the pull horizon.
        """
        if wait:
            self.settle()
        cursor = self.cursor if cursor is None else cursor
        query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        response = self.client.get(
            "/api/v1/sync/pull", query_string=query, headers=bearer(self.token)
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def apply(self, page: dict) -> None:
        """Apply a page's changes and keep its cursor (the page applies as a whole: P3)."""
        for change in page["changes"]:
            self._apply(change)
        self.pages.append(page["changes"])
        self.cursor = page["cursor"]

    def _apply(self, change: dict) -> None:
        store = {"household": self.households, "form": self.forms}
        kind, key = change["kind"], change["id"]
        if kind == "removal":
            store.get(change["data"]["kind"], {}).pop(key, None)
        elif kind == "redirect":
            self.households.pop(key, None)
        elif kind in store:
            if change["op"] == "delete":
                store[kind].pop(key, None)
            else:
                store[kind][key] = change["data"]

    def sync(self, limit: int = 200, max_pages: int = 100, wait: bool = True) -> Tablet:
        """Pull and apply pages until `has_more` is false."""
        for _ in range(max_pages):
            page = self.fetch(limit, wait=wait)
            self.apply(page)
            if not page["has_more"]:
                return self
        raise AssertionError(f"still has_more after {max_pages} pages")

    def held_versions(self) -> dict[str, int]:
        return {key: data["version"] for key, data in self.households.items()}

    def form_versions(self) -> set[tuple[str, str]]:
        return {(data["form_id"], data["version"]) for data in self.forms.values()}

    def digest(self, held: dict[str, int]) -> dict:
        response = self.client.post(
            "/api/v1/sync/digest", json={"households": held}, headers=bearer(self.token)
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()
