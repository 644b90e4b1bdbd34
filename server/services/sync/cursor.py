"""The pull cursor: where a tablet is in its pull, as an opaque, signed token.

A pull goes through phases: `removal` (only after the user's scope changed:
what the tablet must drop), `snapshot` (the scope's current state, section by
section, in key order) and `delta` (the change log after a position). The
token carries the phase, the position inside it, the change-log position
(`server.services.sync.changes.Cursor`) and the admin units the pages were
computed for, so a later pull notices that the scope changed.

The token is signed with the secret key: a client cannot forge the unit list
(which decides what removals it is told about) nor reuse another user's cursor.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from server.problems import Problem
from server.services.sync.changes import Cursor

REMOVAL, SNAPSHOT, DELTA = "removal", "snapshot", "delta"
_FORMAT = 1
_SALT = "giupho.sync.pull-cursor"


@dataclass(frozen=True)
class PullState:
    """A decoded pull cursor.

    `units` are the user's assigned admin units the pages were computed for
    (None: an admin, who sees everything). `log` is the change-log position:
    in the snapshot and removal phases, the position from which the delta
    phase will replay what changed while the snapshot was being read.
    `dropped`: units whose households the tablet may still hold and must be
    told to drop (removal phase).
    """

    user_id: int
    units: tuple[int, ...] | None
    log: Cursor
    phase: str = SNAPSHOT
    section: int = 0
    key: str = ""
    dropped: tuple[int, ...] = field(default=())

    def next_section(self) -> PullState:
        return replace(self, section=self.section + 1, key="")

    def at(self, key: str) -> PullState:
        return replace(self, key=key)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def encode(state: PullState) -> str:
    """The opaque text of `state` that the client keeps."""
    units = None if state.units is None else list(state.units)
    payload = [
        _FORMAT,
        state.user_id,
        units,
        state.log.txid,
        state.log.id,
        state.phase,
        state.section,
        state.key,
        list(state.dropped),
    ]
    return _serializer().dumps(payload)


def decode(text: str, user_id: int) -> PullState:
    """The state behind a client's cursor; Problem 400.3 unless it is ours and theirs."""
    try:
        payload = _serializer().loads(text)
        fmt, owner, units, txid, row, phase, section, key, dropped = payload
    except (BadSignature, ValueError, TypeError):
        raise Problem("400.3", field="cursor", reason="not a cursor from this server") from None
    if fmt != _FORMAT or phase not in (REMOVAL, SNAPSHOT, DELTA):
        raise Problem("400.3", field="cursor", reason="unknown cursor format")
    if owner != user_id:
        raise Problem("400.3", field="cursor", reason="this cursor belongs to another user")
    return PullState(
        user_id=owner,
        units=None if units is None else tuple(units),
        log=Cursor(int(txid), int(row)),
        phase=phase,
        section=int(section),
        key=str(key),
        dropped=tuple(dropped),
    )
