"""gunicorn settings for giupho: the application loaded once, then shared by the workers.

Use: `gunicorn -c python:server.operations.gunicorn -w 4 'server.wsgi:app'` (with
`PROMETHEUS_MULTIPROC_DIR=/run/giupho-metrics` for metrics over several workers).

Memory (issue 19): the master imports the application (`preload_app`), moves every object
alive then out of the cyclic collector's sight (`gc.freeze`, in `server.wsgi` and again just
before each fork) and forks. The workers then share those pages with the master until they
write to them; a collector pass over a frozen object would write to it and copy its page
into every worker. What a worker holds of its own is what it builds while serving. Heavy
modules only exports and form uploads use (openpyxl, pyxform) are imported on first use, so
a worker that only receives submissions never holds them. Measure with PSS (proportional:
a shared page counted once over its sharers), not RSS, which counts it in every worker
(`bench/ingest.py` prints both).

After the fork each worker drops what it must not share with the master or its siblings:
the database connections of the pools, primary and replica (`post_fork`: two processes on
one socket would interleave their messages). Threads do not survive a fork: the in-process
job runner and the last-seen writer start theirs on first use, in the worker.

prometheus_client's multiprocess mode keeps each worker's counts in
`PROMETHEUS_MULTIPROC_DIR`; when a worker exits, its live gauges must be dropped
(`mark_process_dead`), and the folder must be emptied before gunicorn starts (done here).
Values are created per process id, so the master's import creates none a worker writes to.
"""

from __future__ import annotations

import gc
import os
import shutil
from pathlib import Path

preload_app = True


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def pre_fork(server, worker) -> None:
    gc.freeze()  # what the master made since `server.wsgi` froze the app: shared, not copied


def post_fork(server, worker) -> None:
    after_fork(server.app.wsgi())


def after_fork(app) -> None:
    """Give a freshly forked worker its own database connections (primary and replica).
    Threads (the in-process job runner's, the last-seen writer) start on first use, so none
    is made in the master."""
    from server.db import db
    from server.replica import replica_engine_of

    with app.app_context():
        # close=False: the master's connections are its own; closing them here would
        # send a goodbye on a socket the master (or a sibling) may still use.
        db.engine.dispose(close=False)
        replica = replica_engine_of(app)
        if replica is not None:
            replica.dispose(close=False)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
