"""A person's judgement of a flag: confirm or dismiss it with a comment, or reopen a decided one
with a comment; each audited. A flag never hides data or blocks anything: judging it changes
the flag only.

Judges are the reviewers (commune officials, coordinators, administrators) in whose scope the
flag is; agency leads read flags but do not judge them (many flags are about their own people).
"""

from __future__ import annotations

from server.db import db
from server.models import User
from server.models.base import utcnow
from server.models.monitoring import FlagState, MonitoringFlag
from server.problems import N_, Problem
from server.services import audit
from server.services.access import scope
from server.services.monitoring import view

DECISIONS = {"confirm": FlagState.CONFIRMED, "dismiss": FlagState.DISMISSED}
MAX_COMMENT = 2000
#: A state's words in messages.
STATE_WORDS = {
    FlagState.OPEN: N_("open"),
    FlagState.CONFIRMED: N_("confirmed"),
    FlagState.DISMISSED: N_("dismissed"),
}


def _judge(user: User, flag_id: int) -> MonitoringFlag:
    flag = view.readable_flag(user, flag_id, lock=True)
    if user.role not in scope.REVIEWERS:
        raise Problem("403.86")
    return flag


def _comment(text: str | None, action: str) -> str:
    comment = (text or "").strip()
    if not comment or len(comment) > MAX_COMMENT:
        raise Problem("400.85", action=action)
    return comment


def decide(user: User, flag_id: int, decision: str, comment: str | None) -> MonitoringFlag:
    """Confirm or dismiss an open flag with a comment (one transaction, audited)."""
    flag = _judge(user, flag_id)
    if decision not in DECISIONS:
        raise Problem("400.86", decision=decision)
    text = _comment(comment, N_("confirming or dismissing"))
    if flag.state != FlagState.OPEN:
        raise Problem("409.85", state=STATE_WORDS[flag.state])
    flag.state = DECISIONS[decision]
    flag.comment, flag.decided_by_id, flag.decided_at = text, user.id, utcnow()
    audit.record(user, f"monitoring.{decision}", flag, check=flag.check, comment=text)
    db.session.commit()
    return flag


def reopen(user: User, flag_id: int, comment: str | None) -> MonitoringFlag:
    """Reopen a confirmed or dismissed flag with a comment (audited; the old decision is kept
    in the audit)."""
    flag = _judge(user, flag_id)
    text = _comment(comment, N_("reopening"))
    if flag.state == FlagState.OPEN:
        raise Problem("409.86")
    before = flag.state.value
    flag.state, flag.comment, flag.decided_by_id, flag.decided_at = (
        FlagState.OPEN,
        text,
        user.id,
        utcnow(),
    )
    audit.record(user, "monitoring.reopen", flag, check=flag.check, was=before, comment=text)
    db.session.commit()
    return flag
