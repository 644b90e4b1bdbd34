"""The production entry point builds the app from the environment and tunes the process."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from server.runtime import YOUNG_THRESHOLD
from tests.integration.live import ROOT

PROBE = """
import gc, json
import server.wsgi as w
print(json.dumps({"young": gc.get_threshold()[0], "frozen": gc.get_freeze_count(),
                  "db": w.app.config["SQLALCHEMY_DATABASE_URI"]}))
"""


def test_gunicorn_entry_point_freezes_the_loaded_app_and_collects_young_objects_rarely(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIUPHO_")}
    env["GIUPHO_DATABASE_URL"] = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    env["GIUPHO_SECRET_KEY"] = "wsgi-test"
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["db"].endswith("w.sqlite3")  # built from the environment
    assert found["young"] == YOUNG_THRESHOLD
    assert found["frozen"] > 10_000  # the loaded application, out of the collector's sight
