"""Devices: enrol ODK Collect by a QR code, list and revoke device credentials.

Enrolling gives a user a new device token (`auth.register_device`: 256 random bits, only
its SHA-256 stored) and the server URL that carries it, `<server>/key/<token>`, which
OpenRosa serves (`server.openrosa`). The QR code holds ODK Collect's own settings, as ODK
Central's app users' codes do: the JSON `{"general": {...}, "admin": {...}, "project":
{...}}` (Collect needs `general` and `admin`, even empty), zlib-compressed, then Base64.
Scanning it in Collect (*Add project → Configure with QR code*) sets the server and
nothing else to type. The token is shown at enrolment only; a lost code means a new one.

Who may enrol or revoke: `users.require_manage(..., devices=True)` (admins, coordinators
for the users they manage, commune officials for the cadres of their commune).
"""

from __future__ import annotations

import base64
import io
import json
import zlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.db import db
from server.models import Device, User
from server.problems import Problem
from server.services import transactional
from server.services.access import auth, users

#: The project as Collect shows it: giupho's name, colour and a one-letter icon.
PROJECT_NAME = "giupho"
PROJECT_COLOR = "#1f6f43"
PROJECT_ICON = "G"


@dataclass(frozen=True)
class Enrolment:
    """A new device: the token and URL (shown once), Collect's settings and the QR payload."""

    device: Device
    token: str
    url: str
    settings: dict[str, Any]
    qr_payload: str


def server_url_for(base_url: str, token: str) -> str:
    """The OpenRosa server URL of a device token under `base_url`."""
    return f"{base_url.rstrip('/')}/key/{token}"


def collect_settings(user: User, url: str) -> dict[str, Any]:
    """ODK Collect's settings for `user` on the server at `url` (a `/key/` URL: no password).

    `username` is Collect's metadata user name (forms' `username` field); forms are kept
    exactly as the server lists them, and finished forms sent on any network.
    """
    return {
        "general": {
            "server_url": url,
            "username": user.username,
            "form_update_mode": "match_exactly",
            "autosend": "wifi_and_cellular",
        },
        "admin": {},
        "project": {
            "name": f"{PROJECT_NAME} · {user.full_name}",
            "color": PROJECT_COLOR,
            "icon": PROJECT_ICON,
        },
    }


def encode_settings(settings: dict[str, Any]) -> str:
    """Collect's QR text: the settings' JSON, zlib-compressed, Base64 (what Collect reads)."""
    raw = json.dumps(settings, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode_settings(payload: str) -> dict[str, Any]:
    """The settings in a QR text (`encode_settings` reversed)."""
    return json.loads(zlib.decompress(base64.b64decode(payload)).decode("utf-8"))


def _qr(payload: str):
    import segno  # only enrolments pay for it

    # Level L, as Collect and Central use: the longest payload in the smallest code.
    return segno.make_qr(payload, error="l")


def qr_png(payload: str, scale: int = 6) -> bytes:
    """The QR code of `payload` as a PNG image."""
    out = io.BytesIO()
    _qr(payload).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def qr_svg(payload: str, scale: int = 4) -> str:
    """The QR code of `payload` as an SVG document (text), for a page to embed."""
    out = io.BytesIO()
    _qr(payload).save(out, kind="svg", scale=scale, border=4, xmldecl=False, svgns=True)
    return out.getvalue().decode("utf-8")


def qr_terminal(payload: str) -> str:
    """The QR code of `payload` drawn with block characters, for a terminal."""
    out = io.StringIO()
    _qr(payload).terminal(out=out, compact=True)
    return out.getvalue()


@transactional
def enrol(user: User, name: str, actor: User | None, server_url: str) -> Enrolment:
    """A new device for `user` named `name`, with its URL and QR settings under
    `server_url` (the public address tablets reach). Audited (by `auth.register_device`)."""
    users.require_manage_user(actor, user, devices=True)
    if not user.active:
        raise Problem("409.22", name=user.full_name)
    name = name.strip()
    if not name:
        raise Problem("400.2", field="name")
    device, token = auth.register_device(user, name[:120], actor=actor)
    url = server_url_for(server_url, token)
    settings = collect_settings(user, url)
    return Enrolment(device, token, url, settings, encode_settings(settings))


@transactional
def revoke(device: Device, actor: User | None) -> Device:
    """Revoke `device`: its token is refused at once (401.2); what it sent stays."""
    users.require_manage_user(actor, device.user, devices=True)
    auth.revoke_device(device, actor=actor)
    return device


def listed(actor: User | None, user: User | None = None) -> sa.Select:
    """The devices `actor` may see (of the users `users.listed` shows them; all for the
    system), newest first when ordered by id descending; only `user`'s when given."""
    stmt = sa.select(Device)
    if actor is not None:
        stmt = stmt.where(Device.user_id.in_(users.listed(actor).with_only_columns(User.id)))
    if user is not None:
        stmt = stmt.where(Device.user_id == user.id)
    return stmt


def visible_device(actor: User | None, device_id: int) -> Device:
    """The device `device_id` if `actor` may see it; Problem 404.11 otherwise."""
    device = None
    if 0 < device_id <= users.MAX_ID:
        device = db.session.scalar(listed(actor).where(Device.id == device_id))
    if device is None:
        raise Problem("404.11", device=str(device_id))
    return device
