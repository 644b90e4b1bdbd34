"""Fixtures of the OpenRosa conformance suite: the world of `world.py`, parsed responses."""

from __future__ import annotations

from tests.integration.openrosa.world import world  # noqa: F401 - fixture
