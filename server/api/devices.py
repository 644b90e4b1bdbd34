"""Devices: a client registering itself by password (the sync client's login), and revoking
a device (administration; enrolment by QR code is under the user, `server.api.users`).

    POST  /api/v1/devices                 DeviceRequest (password login) -> DeviceCredential
    POST  /api/v1/devices/<id>/revoke     -> Device (its token is refused from now on, 401.2)
"""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api.auth import current_user, login_required
from server.schemas.users import DeviceSchema
from server.services.access import auth, devices
from sync import protocol

bp = Blueprint("devices", __name__, url_prefix="/devices")


@bp.post("")
@login_required()
def register_device():
    """Register this client as a device of the signed-in user; the token is shown only once.

    Sign in with your user name and password (Basic); keep the token and send
    it as `Authorization: Bearer <token>` from then on. A coordinator can
    revoke it without touching your password.
    """
    body = params.load(protocol.DeviceRequestSchema(), request.get_json(silent=True))
    user = current_user()
    _device, token = auth.register_device(user, body["name"], actor=user)
    credential = protocol.DeviceCredential(
        token=token,
        username=user.username,
        full_name=user.full_name,
        role=user.role.value,
        device=body["name"],
    )
    return protocol.DeviceCredentialSchema().dump(credential), 201


@bp.post("/<int:device_id>/revoke")
@login_required()
def revoke_device(device_id: int):
    """Revoke a device: its token stops working at once; what it sent stays."""
    actor = current_user()
    device = devices.visible_device(actor, device_id)
    return DeviceSchema().dump(devices.revoke(device, actor))
