"""Review decisions on submissions: approve, mark has issues, return to the cadre, reject,
and a reviewer's correction of an answer.

Each public write is one transaction with its audit row. A return is recorded
the one way pulls already read it (`server.services.sync.render`): the state
`returned`, an audit event `submission.return` carrying the reviewer's
`comment`, and a `review_return` change in the change log, so the cadre's
tablet receives it at its next pull; ODK Collect sees it in the household
list (`returned_comments`, read by `household_lists.entity_list`). Leaving
the returned state logs the change again, so the tablet drops the return.

A correction is an edit made by the server (sync contract R4): the answers
with the corrected value, a new instanceID and `deprecatedID` = the current
version, received through `ingest.receive_answers` like any edit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, undefer

from server.db import db
from server.models import AuditEvent, FormVersion, ReviewState, Submission, User, instance_is
from server.problems import N_, Problem, render
from server.services import audit, transactional
from server.services.access import scope
from server.services.forms import loaded as form_models
from server.services.households import accept as household_accept
from server.services.households.versions import normalise_id
from server.services.receiving import ingest
from server.services.sync import changes
from server.services.sync.render import RETURN_ACTION, REVIEW_RETURN_CHANGE, return_events

#: The decisions a reviewer takes, and the state each leads to.
DECISIONS: dict[str, ReviewState] = {
    "approve": ReviewState.APPROVED,
    "has_issues": ReviewState.HAS_ISSUES,
    "return": ReviewState.RETURNED,
    "reject": ReviewState.REJECTED,
}
AUDIT_ACTIONS = {
    "approve": "submission.approve",
    "has_issues": "submission.mark_issues",
    "return": RETURN_ACTION,
    "reject": "submission.reject",
}
CORRECT_ACTION = "submission.correct"
MAX_COMMENT = 2000
#: Question types a reviewer may correct (others are files, or computed by the form).
CORRECTABLE = frozenset(
    {"string", "int", "decimal", "date", "time", "dateTime", "select_one", "select_multiple",
     "geopoint", "barcode", "boolean"}
)  # fmt: skip


class ReviewRefused(Exception):
    """A decision that cannot be taken as asked; the message says what to do instead.

    `msgid` is an English message id (marked with `N_`) with `%(name)s` placeholders
    filled from `params`, rendered in the reader's language as problems are.
    """

    def __init__(self, msgid: str, **params) -> None:
        super().__init__(render(msgid, "en", params))
        self.msgid = msgid
        self.params = params

    def message(self, lang: str) -> str:
        return render(self.msgid, lang, self.params)


class CorrectionRefused(ReviewRefused):
    """A correction the form refuses: `issues` are the validation issues it made (dicts with
    `path`, `message` and `message_vi`), the same ingest finds in a submission."""

    def __init__(self, issues: list[dict]) -> None:
        self.issues = issues
        super().__init__(
            N_("The correction was not saved: %(issues)s"),
            issues="; ".join(i["message"] for i in issues),
            issues_vi="; ".join(i["message_vi"] for i in issues),
        )


def require_reviewer(user: User) -> None:
    """Raise 403.1 unless `user` reviews (commune official, coordinator, admin): not cadres."""
    scope.require_role(user, *scope.REVIEWERS)


def submission_for(user: User, instance_id: str, *, lock: bool = False) -> Submission:
    """The submission `instance_id` for a reviewer, or 404.1 when it is outside their scope
    (the same answer as for one that does not exist).

    `lock` (for a decision) locks its row until the transaction ends, read afresh after
    any wait, so two decisions on one submission run one after the other (on SQLite the
    transaction holds the write lock already: `services.write_lock_on_sqlite`).
    """
    require_reviewer(user)
    stmt = (
        scope.submissions(user)
        .where(instance_is(instance_id))
        .options(
            undefer(Submission.answers),
            undefer(Submission.issues),
            joinedload(Submission.form_version).joinedload(FormVersion.form),
        )
    )
    if lock:
        stmt = stmt.with_for_update(of=Submission).execution_options(populate_existing=True)
    found = db.session.scalar(stmt)
    if found is None:
        raise Problem("404.1")
    return found


@transactional
def decide(
    user: User, instance_id: str, decision: str, comment: str = "", seen: str | None = None
) -> Submission:
    """Take `decision` (a key of DECISIONS) on the current version of a submission.

    A return needs a comment: it is what the cadre reads on the tablet.
    The submission's row is locked first, so concurrent decisions run one after
    the other (issue 13, finding 9). `seen` is the state the reviewer saw when
    deciding (the page sends it): taking the decision the submission already has
    changes nothing and succeeds (a double click, or two reviewers agreeing), and a
    submission that another reviewer moved to another state meanwhile is refused,
    so nobody overrides a decision they have not seen. Without `seen`, a return
    taken again records the new comment.
    """
    if decision not in DECISIONS:
        raise Problem("400.3", field="decision", reason=decision)
    submission = submission_for(user, instance_id, lock=True)
    comment = (comment or "").strip()
    _check(submission, decision, comment)
    state = DECISIONS[decision]
    before = submission.review_state
    if before == state and (decision != "return" or (seen and seen != before.value)):
        return submission
    if seen and seen != before.value:
        raise ReviewRefused(
            N_(
                "Another reviewer decided this submission meanwhile (now: %(state)s). "
                "Read it again, then decide."
            ),
            state=N_(before.value),
        )
    submission.review_state = state
    details = {"from": before.value, "to": state.value}
    if comment:
        details["comment"] = comment
    audit.record(user, AUDIT_ACTIONS[decision], submission, **details)
    if state == ReviewState.APPROVED:
        # R6: a submission that broke its form changes its household once a person accepts it.
        household_accept.apply_accepted(submission)
    if ReviewState.RETURNED in (before, state):
        # The tablet learns the return (upsert) or that it is over (the renderer sends a delete).
        unit = submission.village_id or submission.commune_id
        changes.record(REVIEW_RETURN_CHANGE, str(submission.id), "upsert", unit)
    return submission


def _check(submission: Submission, decision: str, comment: str) -> None:
    if submission.superseded:
        raise ReviewRefused(
            N_("This version was replaced by a newer one: open the current version to decide.")
        )
    if decision == "return" and not comment:
        raise ReviewRefused(N_("Write a comment for the cadre: it says what to fix."))
    if len(comment) > MAX_COMMENT:
        raise ReviewRefused(
            N_("The comment is too long: at most %(limit)s characters."), limit=MAX_COMMENT
        )


# -- corrections -------------------------------------------------------------------------

_STEP = re.compile(r"^([^\[\]/]+)(?:\[(\d+)\])?$")


@dataclass(frozen=True)
class Correction:
    """What a correction made: the new version's instanceID and how ingest received it."""

    instance_id: str
    receipt: ingest.Receipt


@transactional
def correct(user: User, instance_id: str, path: str, value: str, comment: str = "") -> Correction:
    """Correct the answer at `path` (an indexed path such as `/data/member[2]/member_name`):
    a new version of the record, received through ingest as an edit (R4)."""
    submission = submission_for(user, instance_id)
    _check(submission, "correct", comment.strip())
    form = form_models.loaded(submission.form_version_id)
    field = form.model.field(re.sub(r"\[\d+\]", "", path))
    if field is None or field.kind != "question" or field.datatype not in CORRECTABLE:
        raise ReviewRefused(
            N_("This answer cannot be corrected here (unknown, computed or a file).")
        )
    answers = _copy(submission.answers or {})
    old = _set(answers, path, value.strip(), form.model.root_name)
    new_id = f"uuid:{uuid.uuid4()}"
    meta = answers.setdefault("meta", {})
    meta["instanceID"], meta["deprecatedID"] = new_id, submission.instance_id
    item = {
        "instance_id": new_id,
        "deprecated_id": submission.instance_id,
        "form_id": form.form_id,
        "version": form.version,
        "answers": answers,
    }
    receipt = ingest.receive_answers(item, user=user)
    if not receipt.stored:
        raise ReviewRefused(
            N_("The correction was not stored: %(problem)s"), problem=receipt.problem
        )
    made = _errors_made(submission.issues or [], receipt.issues, path)
    if made:  # raised inside the transaction: the new version is rolled back, nothing saved
        raise CorrectionRefused(made)
    details = {"path": path, "old": old, "new": value.strip(), "new_instance_id": new_id}
    if comment.strip():
        details["comment"] = comment.strip()
    audit.record(user, CORRECT_ACTION, submission, **details)
    return Correction(new_id, receipt)


def _errors_made(before: list[dict], after: list[dict], path: str) -> list[dict]:
    """The errors ingest's validation (constraints, required, types, relevance, choice
    lists) found in the corrected version at the corrected answer, or anywhere the
    version before had none: those the correction made. Errors the submission already
    had elsewhere do not stop correcting one answer at a time."""
    known = {(i.get("path"), i.get("code")) for i in before if i.get("severity") == "error"}
    return [
        i
        for i in after
        if i.get("severity") == "error"
        and (i.get("path") == path or (i.get("path"), i.get("code")) not in known)
    ]


def _copy(value):
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _set(answers: dict, path: str, value: str, root_name: str) -> str | None:
    """Set the answer at indexed `path` in the JSON answers; returns the old value."""
    steps = [s for s in path.split("/") if s]
    if not steps or steps[0] != root_name:
        raise ReviewRefused(N_("Unknown answer path."))
    node = answers
    for i, step in enumerate(steps[1:], start=1):
        match = _STEP.match(step)
        if match is None:
            raise ReviewRefused(N_("Unknown answer path."))
        name, index = match.group(1), match.group(2)
        last = i == len(steps) - 1
        if last and index is None:
            old = node.get(name)
            node[name] = value
            return old if isinstance(old, str) else None
        child = node.get(name)
        if isinstance(child, list):
            position = int(index or 1) - 1
            if not 0 <= position < len(child):
                raise ReviewRefused(N_("Unknown answer path."))
            child = child[position]
        elif child is None:
            child = node[name] = {}
        if not isinstance(child, dict):
            raise ReviewRefused(N_("Unknown answer path."))
        node = child
    raise ReviewRefused(N_("Unknown answer path."))


# -- reading -----------------------------------------------------------------------------


def history(submission: Submission) -> list[AuditEvent]:
    """Every audit event about the versions of this record (its edit chain), oldest first."""
    ids = db.session.scalars(
        sa.select(Submission.id).where(Submission.root_id == submission.root_id)
    )
    stmt = (
        sa.select(AuditEvent)
        .where(
            AuditEvent.target_type == Submission.__tablename__,
            AuditEvent.target_id.in_([str(i) for i in ids]),
        )
        .order_by(AuditEvent.id)
    )
    return list(db.session.scalars(stmt))


def versions(submission: Submission) -> list[Submission]:
    """The versions of this record (the edit chain), oldest first."""
    stmt = (
        sa.select(Submission)
        .where(Submission.root_id == submission.root_id)
        .order_by(Submission.received_at, Submission.id)
    )
    return list(db.session.scalars(stmt))


def returned_comments(
    household_ids: Iterable[str], commune_ids: Iterable[int | None] = ()
) -> dict[str, str]:
    """The reviewer's comment of each household's returned submission, by household id.

    For the entity list ODK Collect downloads: a cadre using Collect sees on
    the household what the reviewer asked to fix (the JSON sync client gets
    the `review_return` change instead). `commune_ids`, when given, limits the search to
    the households' communes.
    """
    wanted = set(household_ids)
    if not wanted:
        return {}
    stmt = (
        sa.select(Submission.id, Submission.answers)
        .where(Submission.review_state == ReviewState.RETURNED, Submission.superseded.is_(False))
        .order_by(Submission.id)
    )
    communes = {c for c in commune_ids if c is not None}
    if communes:
        stmt = stmt.where(Submission.commune_id.in_(sorted(communes)))
    by_submission: dict[int, str] = {}
    for sid, answers in db.session.execute(stmt):
        entity = ((answers or {}).get("meta") or {}).get("entity")
        hid = entity.get("@id") if isinstance(entity, dict) else None
        if isinstance(hid, str) and normalise_id(hid) in wanted:
            by_submission[sid] = normalise_id(hid)
    if not by_submission:
        return {}
    events = return_events(list(by_submission))
    return {
        hid: (events[sid].details or {}).get("comment") or ""
        for sid, hid in by_submission.items()
        if sid in events
    }
