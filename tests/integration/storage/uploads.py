"""A tablet's resumable upload of a photo, as the storage tests drive it: a registration
sent over OpenRosa, then its photo opened as an upload and sent in chunks."""

from __future__ import annotations

import hashlib
import io

from tests.integration.helpers import bearer
from tests.integration.openrosa.world import OPENROSA, household, new_id, registration_xml

PHOTO = bytes(range(256)) * 40 + b"\xff\xd9"  # 10,242 bytes


def open_upload(client, token: str) -> tuple[str, str]:
    """Send a registration, open the upload of its photo; (instance id, upload id)."""
    instance_id = new_id()
    xml = registration_xml(household(), instance_id)
    sent = client.post(
        f"/key/{token}/submission",
        data={"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")},
        headers=OPENROSA,
    )
    assert sent.status_code == 201, sent.data
    opened = client.post(
        "/api/v1/uploads",
        json={"instance_id": instance_id, "filename": "nha.jpg", "size": len(PHOTO),
              "sha256": hashlib.sha256(PHOTO).hexdigest(), "content_type": "image/jpeg"},
        headers=bearer(token),
    )  # fmt: skip
    assert opened.status_code == 201, opened.data
    return instance_id, opened.get_json()["id"]


def send_chunk(client, token: str, upload: str, offset: int, data: bytes):
    """PATCH one chunk of the upload at `offset`."""
    return client.patch(
        f"/api/v1/uploads/{upload}", data=data, content_type="application/offset+octet-stream",
        headers=bearer(token) | {"Upload-Offset": str(offset)},
    )  # fmt: skip
