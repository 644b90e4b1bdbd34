"""Factories for integration tests: places, users, credentials."""

from __future__ import annotations

import pytest

from server.models import Role
from server.services.access import auth, users
from server.services.programme import units as admin_units
from tests.integration.helpers import PASSWORD, Places


@pytest.fixture
def places(app) -> Places:
    """Import the test province and communes and add two villages under each."""
    with app.app_context():
        result = admin_units.import_province("11", ["03325", "03316"])
        for commune in result.communes:
            admin_units.add_village(commune, "Bản Một", kind="Bản")
            admin_units.add_village(commune, "Bản Hai", kind="Bản")
    return Places()


@pytest.fixture
def make_user(app):
    """Create a user working in the units at `paths`; returns the username."""

    def make(username: str, role: Role, *paths: str, password: str = PASSWORD) -> str:
        with app.app_context():
            units = [admin_units.find(path) for path in paths]
            assert all(units), paths
            users.create_user(username, username.title(), role, password, units)
        return username

    return make


@pytest.fixture
def make_device(app):
    """Register a device for `username`; returns its token."""

    def make(username: str, name: str = "Tablet") -> str:
        with app.app_context():
            _device, token = auth.register_device(users.find(username), name)
        return token

    return make
