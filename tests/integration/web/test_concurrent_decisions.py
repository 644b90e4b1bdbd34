"""Simultaneous decisions on one submission over real HTTP (issue 13, finding 9).

Reviewers signed in to a live server (gunicorn: 4 processes on PostgreSQL, 2
processes of 8 threads on a SQLite file) press "Approve" on the same
submission at the same moment, as the page sends it (with the state they saw).
Every one hears success, and the submission's history holds exactly one
approval: the decision locks the submission's row (PostgreSQL) or takes the
write lock (SQLite), and a decision the submission already has adds nothing.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from forms.instance import to_xml
from tests.integration.contract.submissions import instance_id, registration
from tests.integration.helpers import PASSWORD
from tests.integration.live import (  # noqa: F401  (fixtures)
    FormPlaces,
    Live,
    live_postgres,
    live_sqlite,
)

pytestmark = [pytest.mark.slow]

REVIEWERS = 6
SUBMISSIONS = 4
TIMEOUT = 60
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _signed_in(url: str) -> tuple[requests.Session, str]:
    """A browser session of official_a and the CSRF token of its pages."""
    session = requests.Session()
    token = TOKEN.search(session.get(f"{url}/signin", timeout=TIMEOUT).text).group(1)
    form = {"username": "official_a", "password": PASSWORD, "csrf_token": token}
    signed = session.post(f"{url}/signin", data=form, allow_redirects=False, timeout=TIMEOUT)
    assert signed.status_code == 302, signed.text[:300]
    return session, TOKEN.search(session.get(f"{url}/review", timeout=TIMEOUT).text).group(1)


def _approvals(database_url: str, iid: str) -> int:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(
                    "SELECT count(*) FROM audit_events WHERE action = 'submission.approve'"
                    " AND target_type = 'submissions' AND target_id = ("
                    "SELECT CAST(id AS VARCHAR(20)) FROM submissions WHERE instance_id = :iid)"
                ),
                {"iid": iid},
            ).scalar()
    finally:
        engine.dispose()


def _approve_all_at_once(live: Live) -> None:
    token = live.world.tokens["cadre_a"]
    browsers = [_signed_in(live.url) for _ in range(REVIEWERS)]
    for _ in range(SUBMISSIONS):
        home = registration(village=FormPlaces.answer(FormPlaces.village_a1))
        files = {"xml_submission_file": ("submission.xml", to_xml(home), "text/xml")}
        sent = requests.post(
            f"{live.url}/key/{token}/submission",
            files=files,
            headers={"X-OpenRosa-Version": "1.0"},
            timeout=TIMEOUT,
        )
        assert sent.status_code == 201, sent.text[:300]
        iid = instance_id(home)
        start = threading.Barrier(REVIEWERS)

        def approve(n: int, iid=iid, start=start) -> int:
            session, csrf = browsers[n]
            form = {"decision": "approve", "seen": "received", "csrf_token": csrf}
            start.wait()
            return session.post(
                f"{live.url}/review/submissions/{iid}/decision",
                data=form,
                allow_redirects=False,
                timeout=TIMEOUT,
            ).status_code

        with ThreadPoolExecutor(REVIEWERS) as pool:
            statuses = list(pool.map(approve, range(REVIEWERS)))
        assert statuses == [302] * REVIEWERS, live.server.log_tail()
        assert _approvals(live.server.database_url, iid) == 1


@pytest.mark.postgres
def test_simultaneous_approvals_on_postgresql_leave_one_approval(live_postgres):  # noqa: F811
    """Issue 13, finding 9: six reviewers approve one submission at once, on 4 workers."""
    _approve_all_at_once(live_postgres)


def test_simultaneous_approvals_on_sqlite_leave_one_approval(live_sqlite):  # noqa: F811
    """Issue 13, finding 9: six reviewers approve one submission at once, on SQLite."""
    _approve_all_at_once(live_sqlite)
