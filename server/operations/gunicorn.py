"""gunicorn settings for giupho's metrics with several workers.

Use: `PROMETHEUS_MULTIPROC_DIR=/run/giupho-metrics gunicorn -c python:server.operations.gunicorn
-w 4 --preload 'server.wsgi:app'`. prometheus_client's multiprocess mode keeps each worker's
counts in that folder; when a worker exits, its live gauges must be dropped
(`mark_process_dead`), and the folder must be emptied before gunicorn starts (done here).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def on_starting(server) -> None:
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
