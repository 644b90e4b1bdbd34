"""The in-process runner: a small thread pool in the process that defers (SQLite, laptop).

Behind the same `defer()` as the queue, so the code that defers does not know which runs
it. Nothing survives the process, which one laptop serving one commune does not need; a
failure is logged with its traceback (the task itself records what the user should see).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from flask import Flask

from server.jobs.registry import Runner, perform

log = logging.getLogger(__name__)


class InProcessRunner(Runner):
    kind = "inprocess"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._pending: set[Future] = set()

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:  # created on first use: a forked process must not share it
            if self._pool is None:
                self._pool = ThreadPoolExecutor(
                    max_workers=self.app.config["JOBS_THREADS"], thread_name_prefix="giupho-job"
                )
            return self._pool

    def defer(self, name: str, args: dict) -> None:
        future = self._executor().submit(self._run, name, args)
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future) -> None:
        with self._lock:
            self._pending.discard(future)

    def _run(self, name: str, args: dict) -> None:
        try:
            perform(self.app, name, args)
        except Exception:
            log.exception("job %s %r failed", name, args)

    def depth(self) -> dict[str, int]:
        with self._lock:
            running = sum(1 for f in self._pending if f.running())
            return {"todo": len(self._pending) - running, "doing": running}

    def wait(self, timeout: float | None = None) -> None:
        """Wait until every job deferred so far has finished (commands and tests)."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            future.exception(timeout=timeout)
