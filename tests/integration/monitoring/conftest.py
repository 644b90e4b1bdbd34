"""Fixtures of the monitoring tests: the OpenRosa world (places, shipped forms, cadres)."""

from __future__ import annotations

from tests.integration.openrosa.world import world  # noqa: F401 - fixture
