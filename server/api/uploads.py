"""Resumable attachment uploads (C3).

    POST  /api/v1/uploads                 UploadCreate -> UploadState (201 new, 200 found again)
    GET   /api/v1/uploads/<id>            -> UploadState, header Upload-Offset (HEAD too)
    PATCH /api/v1/uploads/<id>            chunk bytes at header Upload-Offset -> UploadState
    POST  /api/v1/uploads/<id>/finish     verify SHA-256, attach -> UploadState

Views parse and render; `server.services.receiving.uploads` decides who may touch a
session and owns the transactions.
"""

from __future__ import annotations

from flask import Blueprint, g, request

from server.api import params
from server.api.auth import current_user, login_required
from server.limits import sending_limit
from server.problems import Problem
from server.schemas.fields import ascii_int
from server.services.receiving import uploads as service
from sync import protocol

bp = Blueprint("uploads", __name__, url_prefix="/uploads")
OFFSET_HEADER = "Upload-Offset"


def _json_body(schema) -> dict:
    return params.load(schema, request.get_json(silent=True))


def _state(session) -> tuple[dict, dict]:
    state = protocol.UploadState(
        id=session.token,
        instance_id=session.instance_id,
        filename=session.filename,
        size=session.size,
        offset=session.offset,
        sha256=session.sha256,
        complete=session.completed_at is not None,
    )
    return protocol.UploadStateSchema().dump(state), {OFFSET_HEADER: str(session.offset)}


@bp.post("")
@login_required()
def create_upload():
    """Open the upload session of one attachment of a submission you pushed.

    Push the submission first. Asking again for the same file (instance_id,
    filename, sha256) returns the same session with the bytes already held
    (`offset`), so an interrupted upload resumes where it stopped.
    """
    body = _json_body(protocol.UploadCreateSchema())
    session, created = service.create(current_user(), g.principal.device, **body)
    data, headers = _state(session)
    return data, 201 if created else 200, headers


@bp.get("/<upload_id>")
@login_required()
def upload_state(upload_id: str):
    """Where an upload stands: `offset` (also the Upload-Offset header) bytes are held."""
    data, headers = _state(service.get(current_user(), upload_id))
    return data, 200, headers


@bp.patch("/<upload_id>")
@sending_limit
@login_required()
def write_chunk(upload_id: str):
    """Send the next chunk: the body's bytes go at `Upload-Offset`, which must be the offset held.

    A wrong offset answers 400 with the server's `offset` in `details`:
    continue from there. Chunks are limited in size (413).
    """
    offset = ascii_int(request.headers.get(OFFSET_HEADER))
    if offset is None:
        raise Problem("400.3", field=OFFSET_HEADER, reason="give the byte offset of this chunk")
    length = request.content_length
    if length is not None and length > service.max_chunk():
        raise Problem("413.1", limit=service.max_chunk())
    data = request.get_data(cache=False)
    session = service.write(current_user(), upload_id, offset, data)
    body, headers = _state(session)
    return body, 200, headers


@bp.post("/<upload_id>/finish")
@login_required()
def finish_upload(upload_id: str):
    """Finish an upload: the server checks size and SHA-256 and attaches the file.

    On a checksum mismatch the bytes are discarded and the answer (400) says
    to send the file again from offset 0. Finishing twice is harmless.
    """
    data, headers = _state(service.finish(current_user(), upload_id))
    return data, 200, headers
