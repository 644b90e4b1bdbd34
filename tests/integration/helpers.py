"""Helpers for integration tests: the test places and credentials headers."""

from __future__ import annotations

import base64
from dataclasses import dataclass

PASSWORD = "mật-khẩu-thử"  # non-ASCII on purpose: Basic auth must carry UTF-8


@dataclass(frozen=True)
class Places:
    """Paths of the test units: Điện Biên with two communes, two villages each."""

    province: str = "11"
    commune_a: str = "11/03325"  # Xã Mường Phăng
    commune_b: str = "11/03316"  # Xã Nà Tấu
    village_a1: str = "11/03325/01"
    village_a2: str = "11/03325/02"
    village_b1: str = "11/03316/01"
    village_b2: str = "11/03316/02"


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    """Headers for HTTP Basic as `username`."""
    raw = f"{username}:{password}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}


def bearer(token: str) -> dict[str, str]:
    """Headers for a device token."""
    return {"Authorization": f"Bearer {token}"}
