"""The JSON sync service: push a batch through ingest, pull pages, compare digests (P4).

Push: the batch goes through `ingest_batch.receive_batch` (the same receipts
as `ingest.receive_answers` item by item, with grouped writes) inside one
SAVEPOINT. Should anything in it fail, the savepoint is rolled back and every
item goes through `ingest.receive_answers` inside its own SAVEPOINT, so an
item that fails rolls back alone and the others of the batch are still
committed with the request's one transaction (R8 per item). Pull: see
`sync_pull` (phases and pages) and `sync_cursor` (the opaque cursor).
"""

from __future__ import annotations

import hashlib
import random
import time

import sqlalchemy as sa
from flask import current_app

from server.db import db
from server.models import Change, Device, FormMedia, FormVersion, Household, HouseholdStatus, User
from server.problems import Problem
from server.services import transactional
from server.services.forms import publishing as forms
from server.services.households import versions as households
from server.services.receiving import batch as ingest_batch
from server.services.receiving import ingest
from server.services.receiving.ingest import Receipt
from server.services.sync import changes
from server.services.sync import cursor as sync_cursor
from server.services.sync.cursor import DELTA
from server.services.sync.pull import assigned_units, fresh_state, next_page
from server.services.sync.render import HOUSEHOLD_CHANGE, ScopeView
from sync import protocol

DEFAULT_PAGE = 200
MAX_PAGE = 1000


# -- push -------------------------------------------------------------------------------

#: PostgreSQL errors after which the whole batch is run again: a deadlock (two batches
#: inserting the same instanceIDs in different orders wait on each other) and a
#: serialization failure. Rolling back frees the other batch; the rerun meets R2.
RETRY_SQLSTATES = frozenset({"40P01", "40001"})
PUSH_ATTEMPTS = 5


class _RunAgain(Exception):
    """Raised inside a batch to roll its transaction back and run it again."""


def push(
    items: list, *, user: User, device: Device | None, lang: str = "vi"
) -> list[protocol.PushResult]:
    """Receive every item of a batch in one transaction; one result per item, in order.

    A batch that loses a deadlock is rolled back and run again (with a short
    random pause), so every delivery gets an answer about its items (R7).
    """
    try:  # no writes: reading runs before the transaction (see `ingest_batch`)
        read = ingest_batch.read_batch(items, user=user, device=device, lang=lang)
    except Exception:  # a server fault: every item goes its own way, each alone
        current_app.logger.warning("push batch unreadable, item by item now", exc_info=True)
        read = None
    try:
        for attempt in range(1, PUSH_ATTEMPTS + 1):
            try:
                return _push_once(items, read, user, device, lang)
            except _RunAgain as again:
                if attempt == PUSH_ATTEMPTS:
                    raise again.__cause__ from None  # answered 503: the client retries later
                time.sleep(random.uniform(0, 0.02 * 2**attempt))
    finally:
        ingest_batch.release(read or [])
    raise AssertionError("unreachable")


@transactional
def _push_once(items: list, read: list | None, user: User, device: Device | None, lang: str):
    if db.session.connection().dialect.name == "postgresql":
        _lock_records(items)  # on SQLite, `transactional` took the write lock already
    receipts = _receive_grouped(read, user, device, lang)
    if receipts is None:  # something failed in the grouped path: item by item, each alone
        receipts = [_receive(item, user, device, lang) for item in items]
    return [_result(receipt, lang) for receipt in receipts]


def _lock_records(items: list) -> None:
    """Lock the submissions and households a batch names, all at once and in one global order.

    Two batches carrying the same submissions in different orders would each
    insert one and wait on the other's (a deadlock). Taking transaction-level
    advisory locks on every id up front, sorted, makes the second batch wait
    for the first to commit and then meet its submissions as resends (R2).
    """
    keys = sorted({_lock_key(name) for item in items for name in _record_names(item)})
    if keys:
        db.session.execute(
            sa.text(
                "SELECT count(pg_advisory_xact_lock(k)) FROM "
                "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS ordered"
            ),
            {"keys": keys},
        )


def _record_names(item) -> set[str]:
    """The submission and household ids a JSON push item touches (what it says; unchecked)."""
    if not isinstance(item, dict):
        return set()
    answers = item.get("answers") if isinstance(item.get("answers"), dict) else {}
    meta = answers.get("meta") if isinstance(answers.get("meta"), dict) else {}
    entity = meta.get("entity") if isinstance(meta.get("entity"), dict) else {}
    names = {
        f"submission:{item.get('instance_id')}",
        f"submission:{item.get('deprecated_id')}",
        f"submission:{meta.get('instanceID')}",
        f"submission:{meta.get('deprecatedID')}",
        f"household:{households.normalise_id(str(entity.get('@id') or ''))}",
    }
    return {n for n in names if not n.endswith((":None", ":"))}


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for `name` (a collision only serialises more)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _receive_grouped(read: list | None, user: User, device: Device | None, lang: str):
    """The receipts of the whole batch with grouped writes, in one SAVEPOINT; None when
    anything failed (nothing of the batch is kept then, and the caller goes item by item)."""
    if read is None:
        return None
    try:
        with db.session.begin_nested():
            return ingest_batch.receive_batch(read, user=user, device=device, lang=lang)
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES:
            raise _RunAgain from exc
        current_app.logger.warning("push batch failed, item by item now", exc_info=True)
        return None
    except Exception:
        current_app.logger.warning("push batch failed, item by item now", exc_info=True)
        return None


def _receive(item, user: User, device: Device | None, lang: str) -> Receipt | None:
    """One item in its own SAVEPOINT; None when it failed for a transient reason (the
    client sends it again).

    An item that fails for any other reason is kept in quarantine as received, in a
    SAVEPOINT of its own, and answered with a final status (400.14): it must not stay on
    the tablet forever (issue 13, finding 1). The traceback is logged for the operator.
    """
    try:
        with db.session.begin_nested():
            return ingest.receive_answers(item, user=user, device=device, lang=lang)
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES:
            raise _RunAgain from exc
        current_app.logger.exception("push item failed (user %s)", user.username)
        if _transient(exc):
            return None
    except Exception:  # a server fault on one item must not cost the rest of the batch
        current_app.logger.exception("push item failed (user %s)", user.username)
    try:
        with db.session.begin_nested():
            return ingest.keep_unprocessable(item, user=user, device=device, lang=lang)
    except Exception:
        current_app.logger.exception("push item not kept either (user %s)", user.username)
        return None


def _transient(exc: sa.exc.DBAPIError) -> bool:
    """Whether a database error may pass on its own (a lost connection, a locked SQLite
    database, a serialization failure): the item stays retryable then."""
    if exc.connection_invalidated or isinstance(
        exc, sa.exc.OperationalError | sa.exc.InterfaceError
    ):
        return True
    return getattr(exc.orig, "sqlstate", None) in RETRY_SQLSTATES


def _result(receipt: Receipt | None, lang: str) -> protocol.PushResult:
    """The wire receipt of one item."""
    if receipt is None:
        problem = Problem("500.1")
        return protocol.PushResult(
            None, "error", problem.status, problem.code, problem.message(lang)
        )
    problem = receipt.problem
    return protocol.PushResult(
        instance_id=receipt.instance_id,
        result=receipt.result,
        status=receipt.status,
        code=problem.code if problem else None,
        message=problem.message(lang) if problem else None,
        submission_id=receipt.submission_id,
        quarantine_id=receipt.quarantine_id,
        review_state=receipt.review_state,
        received_at=receipt.received_at,
        issues=[_issue(i) for i in receipt.issues],
    )


def _issue(issue: dict) -> protocol.Issue:
    return protocol.Issue(
        path=str(issue.get("path", "")),
        code=str(issue.get("code", "")),
        message=str(issue.get("message", "")),
        message_vi=str(issue.get("message_vi", "")),
    )


# -- pull -------------------------------------------------------------------------------


def pull(user: User, cursor: str | None, limit: int = DEFAULT_PAGE) -> protocol.PullPage:
    """The next page for `user` after `cursor` (none: a full snapshot of their scope)."""
    if cursor:
        state = sync_cursor.decode(cursor, user.id)
    else:
        state = fresh_state(user, assigned_units(user))
    entries, state, has_more = next_page(user, state, max(1, min(limit, MAX_PAGE)))
    return protocol.PullPage(entries, sync_cursor.encode(state), has_more)


# -- digest (P4) ------------------------------------------------------------------------


def digest(user: User, held: protocol.DigestRequest) -> protocol.DigestResponse:
    """Whether the tablet's households equal the server's for `user`'s scope.

    With an explicit list and a delta cursor, households changed after that
    cursor are left out on both sides: the tablet has not pulled them yet.
    """
    view = ScopeView.of(user)
    stmt = sa.select(Household.id, Household.version).where(
        view.household_clause(), Household.status == HouseholdStatus.ACTIVE
    )
    server = {hid: version for hid, version in db.session.execute(stmt)}
    theirs = held.digest
    if held.households is not None:
        client = dict(held.households)
        if held.cursor:
            pending = _changed_since(sync_cursor.decode(held.cursor, user.id))
            server = {k: v for k, v in server.items() if k not in pending}
            client = {k: v for k, v in client.items() if k not in pending}
        theirs = protocol.households_digest(client)
    if protocol.households_digest(server) == theirs:
        return protocol.DigestResponse(resync=False)
    fresh = fresh_state(user, assigned_units(user))
    return protocol.DigestResponse(resync=True, cursor=sync_cursor.encode(fresh))


def _changed_since(state: sync_cursor.PullState) -> set[str]:
    """Households with a logged change after a delta cursor (committed or not yet pulled)."""
    if state.phase != DELTA:
        return set()
    log = state.log
    stmt = sa.select(Change.kind, Change.entity_id).where(
        Change.kind.in_([HOUSEHOLD_CHANGE, changes.PAIR_CHANGE]),
        changes.after_clause(log),
    )
    return {
        entity if kind == HOUSEHOLD_CHANGE else changes.parse_pair_entity(entity)[1]
        for kind, entity in db.session.execute(stmt)
    }


# -- form files -------------------------------------------------------------------------


def form_version(user: User, form_id: str, version: str) -> FormVersion:
    """A form version `user` may see (Problem 404.2 otherwise, never 403)."""
    return forms.get_version(user, form_id, version)


def form_media(user: User, form_id: str, version: str, filename: str) -> FormMedia:
    """A media file of a form version `user` may see; Problem 404.1 when there is none."""
    found = forms.get_version(user, form_id, version)
    media = db.session.scalar(
        sa.select(FormMedia).where(
            FormMedia.form_version_id == found.id, FormMedia.filename == filename
        )
    )
    if media is None:
        raise Problem("404.1")
    return media
