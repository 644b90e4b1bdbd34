"""When devices and site sessions were last used, written off the requests' path.

Every authenticated request refreshes when its device (`devices.last_seen_at`) or site
session (`web_sessions.seen_at`) was last used, coarsely: only when the stored time is more
than a minute old. Writing it in the request would make every reading request a writing
one (a GET could not be served by a read replica, and an OpenRosa form list would take the
write lock on SQLite). Instead `note_device` and `note_session` keep the latest time in
memory, and a thread of each process writes what was noted to the primary every
`LAST_SEEN_FLUSH_S` seconds, and once more when the process exits, in one transaction:
`UPDATE ... WHERE id = ? AND (time IS NULL OR time < ?)`, so a late batch never moves a
time back. A batch that fails (the database restarting) is logged and kept for the next.

What is lost: the notes of a process killed without exiting (at most one interval's). The
idle limit of a site session (`WEB_SESSION_IDLE_MINUTES`, two hours) is far longer than an
interval, so a session in use is never ended for want of a write.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading

import sqlalchemy as sa
from flask import Flask, current_app

from server.db import db
from server.models import Device, WebSession

log = logging.getLogger(__name__)
_EXTENSION = "giupho_seen"

_DEVICES = Device.__table__
_SESSIONS = WebSession.__table__
_STATEMENTS = {
    "device": sa.update(_DEVICES)
    .where(
        _DEVICES.c.id == sa.bindparam("key"),
        sa.or_(_DEVICES.c.last_seen_at.is_(None), _DEVICES.c.last_seen_at < sa.bindparam("at")),
    )
    .values(last_seen_at=sa.bindparam("at")),
    "session": sa.update(_SESSIONS)
    .where(_SESSIONS.c.id_hash == sa.bindparam("key"), _SESSIONS.c.seen_at < sa.bindparam("at"))
    .values(seen_at=sa.bindparam("at")),
}


class SeenTimes:
    """The times noted by one process's requests, and the thread that writes them."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.interval = float(app.config["LAST_SEEN_FLUSH_S"])
        self.lock = threading.Lock()
        self.pending: dict[tuple[str, object], dt.datetime] = {}
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid = None

    def note(self, kind: str, key: object, at: dt.datetime) -> None:
        with self.lock:
            held = self.pending.get((kind, key))
            if held is None or held < at:
                self.pending[(kind, key)] = at
            self._start()

    def _start(self) -> None:
        """The writer thread of this process (started on first use: a forked worker has none)."""
        import os

        if self.thread is not None and self.pid == os.getpid():
            return
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._loop, name="giupho-last-seen", daemon=True)
        self.thread.start()
        atexit.register(self.flush)

    def _loop(self) -> None:
        while not self.wake.wait(self.interval):
            self.flush()

    def flush(self) -> int:
        """Write what was noted to the primary; returns how many times were written."""
        with self.lock:
            taken, self.pending = self.pending, {}
        if not taken:
            return 0
        batches: dict[str, list[dict]] = {}
        for (kind, key), at in taken.items():
            batches.setdefault(kind, []).append({"key": key, "at": at})
        try:
            with self.app.app_context(), db.engine.begin() as connection:
                for kind, rows in batches.items():
                    connection.execute(_STATEMENTS[kind], rows)
        except Exception:  # kept for the next batch; a lasting failure shows in every log line
            log.warning("last-seen times not written (%s kept)", len(taken), exc_info=True)
            with self.lock:
                for item, at in taken.items():
                    if self.pending.get(item) is None or self.pending[item] < at:
                        self.pending[item] = at
            return 0
        return len(taken)

    def stop(self) -> None:
        """Write what is noted and stop the thread (an app being disposed of)."""
        self.wake.set()
        atexit.unregister(self.flush)
        self.flush()


def _times() -> SeenTimes:
    app = current_app._get_current_object()
    found = app.extensions.get(_EXTENSION)
    if found is None:
        found = app.extensions[_EXTENSION] = SeenTimes(app)
    return found


def note_device(device_id: int, at: dt.datetime) -> None:
    _times().note("device", device_id, at)


def note_session(id_hash: str, at: dt.datetime) -> None:
    _times().note("session", id_hash, at)


def flush() -> int:
    """Write the current app's noted times now (tests, and a command about to exit)."""
    return _times().flush()


def stop(app: Flask) -> None:
    """Write `app`'s noted times and stop its writer thread."""
    found = app.extensions.pop(_EXTENSION, None)
    if found is not None:
        found.stop()
