"""The JSON sync protocol, version 1: the messages between a giupho client and the server.

PURE: marshmallow and the standard library only (no Flask, no SQLAlchemy), so
the server renders its answers with these schemas and the sync client builds
and reads the same messages with them. Each message is a dataclass with a
schema whose `load` returns that dataclass and whose `dump` writes the wire
JSON; `dump(load(x)) == x` for every valid message.

    POST /api/v1/sync/push    PushBatch      -> PushResponse (one PushResult per item, in order)
    GET  /api/v1/sync/pull    ?cursor&limit  -> PullPage of Change entries
    POST /api/v1/sync/digest  DigestRequest  -> DigestResponse
    GET  /api/v1/sync/time                   -> ServerTime

Answers are the JSON documents of `forms.instance.to_answers`. Readers ignore
fields they do not know (`unknown = EXCLUDE`), so either side may add fields
without breaking an older peer. Errors use `ProblemSchema`, the one JSON
error shape of the API.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

PROTOCOL_VERSION = 1

#: What the server did with a pushed item (see the sync contract, R1-R6).
RESULTS = ("accepted", "duplicate", "conflict", "invalid", "quarantined", "refused", "error")
#: Results after which the server holds the item: the client must never send it again (C2).
FINAL_RESULTS = frozenset({"accepted", "duplicate", "conflict", "invalid", "quarantined"})
#: Nothing was stored: "refused" will never be accepted as it is (too large: keep it and show
#: it to the officer); "error" was a server fault (send it again later).
RETRY_RESULTS = frozenset({"error"})
CHANGE_KINDS = ("form", "household", "assignment", "review_return", "redirect", "removal")
OPS = ("upsert", "delete")


class _Message(Schema):
    class Meta:
        unknown = EXCLUDE  # newer peers may add fields; older ones skip them


# --- errors -----------------------------------------------------------------------------


class ProblemSchema(_Message):
    """The one JSON error shape: a catalogue code, a message for people, machine details."""

    code = fields.String(required=True, metadata={"example": "413.1"})
    message = fields.String(required=True)
    details = fields.Raw(allow_none=True, load_default=None)


# --- push -------------------------------------------------------------------------------


@dataclass
class PushItem:
    """One finished form: either its JSON answers with identity, or the OpenRosa XML."""

    instance_id: str | None = None
    form_id: str | None = None
    version: str | None = None
    deprecated_id: str | None = None
    answers: dict[str, Any] | None = None
    xml: str | None = None
    device_time: dt.datetime | None = None
    clock_offset_ms: int | None = None


class PushItemSchema(_Message):
    instance_id = fields.String(allow_none=True, load_default=None)
    form_id = fields.String(allow_none=True, load_default=None)
    version = fields.String(allow_none=True, load_default=None)
    deprecated_id = fields.String(allow_none=True, load_default=None)
    # Objects are passed through as they are (JSON keys are always text): per-key fields
    # would cost more than the rest of a pull page together.
    answers = fields.Dict(allow_none=True, load_default=None)
    xml = fields.String(allow_none=True, load_default=None)
    device_time = fields.AwareDateTime(allow_none=True, load_default=None)
    clock_offset_ms = fields.Integer(
        allow_none=True,
        load_default=None,
        metadata={"description": "Device clock minus server clock at the last sync (ms)."},
    )

    @validates_schema
    def _answers_or_xml(self, data: dict, **_kwargs: Any) -> None:
        if (data.get("xml") is None) == (data.get("answers") is None):
            raise ValidationError("give either 'answers' (with 'form_id') or 'xml'")
        if data.get("answers") is not None and not data.get("form_id"):
            raise ValidationError("'form_id' is required with 'answers'", "form_id")

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> PushItem:
        return PushItem(**data)

    def dump_item(self, item: PushItem) -> dict[str, Any]:
        """The wire form of `item` without the fields it leaves empty (fewer bytes)."""
        return {key: value for key, value in self.dump(item).items() if value is not None}


@dataclass
class PushBatch:
    items: list[PushItem]


class PushBatchSchema(_Message):
    items = fields.List(fields.Nested(PushItemSchema), required=True)

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> PushBatch:
        return PushBatch(**data)


@dataclass
class Issue:
    """A validation problem of a stored submission (R6), by field path."""

    path: str
    code: str
    message: str
    message_vi: str


class IssueSchema(_Message):
    path = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)
    message_vi = fields.String(required=True)

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> Issue:
        return Issue(**data)


@dataclass
class PushResult:
    """The server's receipt for one pushed item (same order as the items)."""

    instance_id: str | None
    result: str
    status: int
    code: str | None = None
    message: str | None = None
    submission_id: int | None = None
    quarantine_id: int | None = None
    review_state: str | None = None
    received_at: dt.datetime | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def final(self) -> bool:
        """Whether the server holds the item, so the client must never send it again (C2)."""
        return self.result in FINAL_RESULTS

    @property
    def retry(self) -> bool:
        """Whether the client should send the item again later (a server fault)."""
        return self.result in RETRY_RESULTS


class PushResultSchema(_Message):
    instance_id = fields.String(allow_none=True, required=True)
    result = fields.String(required=True, validate=validate.OneOf(RESULTS))
    status = fields.Integer(required=True, metadata={"description": "What OpenRosa answers."})
    code = fields.String(allow_none=True, load_default=None)
    message = fields.String(allow_none=True, load_default=None)
    submission_id = fields.Integer(allow_none=True, load_default=None)
    quarantine_id = fields.Integer(allow_none=True, load_default=None)
    review_state = fields.String(allow_none=True, load_default=None)
    received_at = fields.AwareDateTime(allow_none=True, load_default=None)
    issues = fields.List(fields.Nested(IssueSchema), load_default=list)

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> PushResult:
        return PushResult(**data)


@dataclass
class PushResponse:
    results: list[PushResult]
    server_time: dt.datetime


class PushResponseSchema(_Message):
    results = fields.List(fields.Nested(PushResultSchema), required=True)
    server_time = fields.AwareDateTime(required=True)

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> PushResponse:
        return PushResponse(**data)


# --- pull -------------------------------------------------------------------------------


@dataclass
class Change:
    """One thing the tablet must apply: upsert `data` under (`kind`, `id`) or delete it."""

    kind: str
    id: str
    op: str
    data: dict[str, Any] | None = None


class ChangeSchema(_Message):
    kind = fields.String(required=True, validate=validate.OneOf(CHANGE_KINDS))
    id = fields.String(required=True)
    op = fields.String(required=True, validate=validate.OneOf(OPS))
    data = fields.Dict(
        allow_none=True,
        load_default=None,
        metadata={"description": "The full current state for an upsert (see the *Data schemas)."},
    )

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> Change:
        return Change(**data)


@dataclass
class PullPage:
    changes: list[Change]
    cursor: str
    has_more: bool
    server_time: dt.datetime | None = None


class PullPageSchema(_Message):
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    cursor = fields.String(
        required=True,
        metadata={"description": "Opaque; send it back to get the changes after this page."},
    )
    has_more = fields.Boolean(required=True)
    server_time = fields.AwareDateTime(allow_none=True, load_default=None)

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> PullPage:
        return PullPage(**data)


class PullQuerySchema(_Message):
    """The query string of a pull."""

    cursor = fields.String(load_default=None, metadata={"description": "Empty: full snapshot."})
    limit = fields.Integer(
        load_default=200,
        validate=validate.Range(min=1),
        metadata={"description": "Changes per page; more than 1000 is served as 1000."},
    )


# --- the data of each change kind (documented for clients; `Change.data` carries them) ---


class MediaFileSchema(_Message):
    filename = fields.String(required=True)
    hash = fields.String(required=True, metadata={"example": "md5:0cc175b9c0f1b6a8"})
    download_url = fields.String(required=True)


class FormDataSchema(_Message):
    """kind "form": a published version the user may fill."""

    form_id = fields.String(required=True)
    version = fields.String(required=True)
    title = fields.String(required=True)
    hash = fields.String(required=True)
    entity_dataset = fields.String(allow_none=True, load_default=None)
    download_url = fields.String(required=True)
    media = fields.List(fields.Nested(MediaFileSchema), load_default=list)


class HouseholdDataSchema(_Message):
    """kind "household": the household's full current state."""

    id = fields.String(required=True)
    dataset = fields.String(required=True)
    label = fields.String(allow_none=True, load_default=None)
    version = fields.Integer(required=True)
    status = fields.String(required=True)
    properties = fields.Dict(load_default=dict)
    village = fields.String(allow_none=True, load_default=None, metadata={"example": "11/03325/01"})
    commune = fields.String(allow_none=True, load_default=None)
    updated_at = fields.AwareDateTime(allow_none=True, load_default=None)


class RedirectDataSchema(_Message):
    """kind "redirect": `id` was absorbed by a merge; use `to` from now on."""

    to = fields.String(required=True)


class RemovalDataSchema(_Message):
    """kind "removal": drop the record of `kind` with this id (it left the user's scope)."""

    kind = fields.String(required=True, validate=validate.OneOf(CHANGE_KINDS))


class ReviewReturnDataSchema(_Message):
    """kind "review_return": a reviewer sent a submission back to its cadre."""

    instance_id = fields.String(required=True)
    form_id = fields.String(required=True)
    version = fields.String(required=True)
    review_state = fields.String(required=True)
    comment = fields.String(allow_none=True, load_default=None)
    returned_at = fields.AwareDateTime(allow_none=True, load_default=None)
    # What the cadre sent, so the tablet can reopen it for correction (an edit, R4) even
    # once the outbox let it go: the household it was about and when it was filled.
    household_id = fields.String(allow_none=True, load_default=None)
    submitted_at = fields.AwareDateTime(allow_none=True, load_default=None)
    answers = fields.Dict(allow_none=True, load_default=None)


# --- digest and time -----------------------------------------------------------------------


def households_digest(held: Mapping[str, int]) -> str:
    """The digest of a set of (household id, version): hex SHA-256 of sorted "id:version" lines.

    Client and server compute it the same way, so a tablet with thousands of
    households can send 64 characters instead of its whole list.
    """
    lines = "".join(f"{key}:{int(version)}\n" for key, version in sorted(held.items()))
    return hashlib.sha256(lines.encode("utf-8")).hexdigest()


@dataclass
class DigestRequest:
    """What the tablet holds: every household id with its version, or only their digest.

    With the explicit list, `cursor` (the tablet's last pull position) lets the
    server leave out households changed after it: the tablet has simply not
    pulled them yet, which is no divergence. A bare digest is compared as is,
    so send it right after a pull that ended with `has_more: false`.
    """

    households: dict[str, int] | None = None
    digest: str | None = None
    cursor: str | None = None


class DigestRequestSchema(_Message):
    households = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(strict=True),
        allow_none=True,
        load_default=None,
    )
    digest = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Regexp(r"^[0-9a-f]{64}$"),
        metadata={"description": "households_digest() of the held households."},
    )
    cursor = fields.String(allow_none=True, load_default=None)

    @validates_schema
    def _one_of(self, data: dict, **_kwargs: Any) -> None:
        if (data.get("households") is None) == (data.get("digest") is None):
            raise ValidationError("give either 'households' or 'digest'")

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> DigestRequest:
        return DigestRequest(**data)

    def digest_of(self, request: DigestRequest) -> str:
        """The digest the request stands for."""
        if request.digest is not None:
            return request.digest
        return households_digest(request.households or {})


@dataclass
class DigestResponse:
    """`resync`: the tablet's copy differs; drop it and pull from `cursor` (a fresh snapshot)."""

    resync: bool
    cursor: str | None = None
    server_time: dt.datetime | None = None


class DigestResponseSchema(_Message):
    resync = fields.Boolean(required=True)
    cursor = fields.String(allow_none=True, load_default=None)
    server_time = fields.AwareDateTime(allow_none=True, load_default=None)

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> DigestResponse:
        return DigestResponse(**data)


class ServerTimeSchema(_Message):
    server_time = fields.AwareDateTime(required=True)


# --- resumable attachment uploads (C3) ---------------------------------------------------------


class UploadCreateSchema(_Message):
    """Open (or find again) the upload session of one attachment of a pushed submission."""

    instance_id = fields.String(required=True, metadata={"example": "uuid:..."})
    filename = fields.String(required=True, metadata={"example": "1732150000.jpg"})
    size = fields.Integer(required=True, strict=True, validate=validate.Range(min=0))
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-fA-F]{64}$"))
    content_type = fields.String(allow_none=True, load_default=None)


@dataclass
class UploadState:
    """Where an upload stands: `offset` bytes of `size` are on the server."""

    id: str
    instance_id: str
    filename: str
    size: int
    offset: int
    sha256: str
    complete: bool = False


class UploadStateSchema(_Message):
    id = fields.String(required=True, metadata={"description": "The session's opaque handle."})
    instance_id = fields.String(required=True)
    filename = fields.String(required=True)
    size = fields.Integer(required=True)
    offset = fields.Integer(
        required=True, metadata={"description": "Bytes the server holds: send the next from here."}
    )
    sha256 = fields.String(required=True)
    complete = fields.Boolean(load_default=False)

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> UploadState:
        return UploadState(**data)


# --- device credentials (login) -----------------------------------------------------------------


class DeviceRequestSchema(_Message):
    """Register this client as a device of the signed-in user (password login)."""

    name = fields.String(
        load_default="giupho-sync",
        validate=[
            validate.Length(min=1, max=120),
            validate.Regexp(r"^[^\x00-\x1f\x7f]*$", error="remove control characters"),
        ],
        metadata={"example": "Tablet 7"},
    )


@dataclass
class DeviceCredential:
    """A new device token: shown once, sent as `Authorization: Bearer <token>` from then on."""

    token: str
    username: str
    full_name: str
    role: str
    device: str


class DeviceCredentialSchema(_Message):
    token = fields.String(required=True)
    username = fields.String(required=True)
    full_name = fields.String(required=True)
    role = fields.String(required=True)
    device = fields.String(required=True)

    @post_load
    def _make(self, data: dict, **_kwargs: Any) -> DeviceCredential:
        return DeviceCredential(**data)
