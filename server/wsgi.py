"""The WSGI application for production servers:
`gunicorn -c python:server.operations.gunicorn 'server.wsgi:app'`.

Built from the environment (`server.settings`), then the process is tuned
for serving (`server.runtime.tune_gc`); those settings preload the app, so that happens
once in the master and every worker inherits it.
"""

from __future__ import annotations

from server import create_app
from server.runtime import tune_gc

app = create_app()
tune_gc()
