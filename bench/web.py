"""The review site: server time per page on the demo data (target: under 200 ms each).

Seeds the demo (`giupho seed`: two communes, fifty households registered
through ingest) into a fresh SQLite file, signs in as the demo commune
official, and requests each page through the WSGI app in this process, so
the figure is the server's own CPU time (`time.process_time`), untouched by
the network or by other work on the machine. Each page is requested
`REPEAT` times after one warm-up; the row shows the median, the reference
column the fastest.

Run: `.venv/bin/python bench/web.py`.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent)]

from server import create_app  # noqa: E402
from server.db import db, upgrade_database  # noqa: E402
from server.models import DuplicateCase, Household, HouseholdVersion, Submission  # noqa: E402
from server.services.access import users  # noqa: E402
from server.services.demo import seed  # noqa: E402
from server.services.duplicates import cases as duplicates  # noqa: E402
from server.services.households import review as household_review  # noqa: E402

REPEAT = 20
TARGET_MS = 200
OFFICIAL = "xa.muongphang"  # the demo commune official (Xã Mường Phăng)
COORDINATOR = "dieuphoi"  # the demo province coordinator (Điện Biên)
PASSWORD = "demo-password"
REGISTRATION = "giupho_household_registration"


def _demo_app():
    instance = tempfile.mkdtemp(prefix="giupho-bench-web-")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance}/bench.sqlite3",
            "DEMO_PASSWORD": PASSWORD,
            "LOG_LEVEL": "WARNING",
        },
        instance_path=instance,
    )
    with app.app_context():
        upgrade_database()
        seed.seed_demo()
        first = db.session.query(Submission.instance_id).order_by(Submission.id).first()[0]
        # The official's household with the most versions, and a possible duplicate if any.
        official = users.find(OFFICIAL)
        theirs = household_review.visible(official).with_only_columns(Household.id)
        household = (
            db.session.query(HouseholdVersion.household_id)
            .filter(HouseholdVersion.household_id.in_(theirs))
            .group_by(HouseholdVersion.household_id)
            .order_by(db.func.count().desc(), HouseholdVersion.household_id)
            .first()
        )
        case = db.session.scalar(
            duplicates.cases(official).with_only_columns(DuplicateCase.id).limit(1)
        )
        ids = {"submission": first, "household": household[0], "case": case}
        db.session.remove()
    return app, ids


def _signed_in(app, username: str = OFFICIAL):
    client = app.test_client()
    page = client.get("/signin").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"username": username, "password": PASSWORD, "csrf_token": token}
    assert client.post("/signin", data=form).status_code == 302
    return client


def _cpu_ms(client, path: str) -> list[float]:
    assert client.get(path).status_code == 200, path  # warm-up: caches, templates
    times = []
    for _ in range(REPEAT):
        started = time.process_time()
        response = client.get(path)
        response.get_data()
        times.append((time.process_time() - started) * 1000)
        assert response.status_code == 200, path
    return times


def run() -> list[dict]:
    app, ids = _demo_app()
    client = _signed_in(app)
    pages = {
        "dashboard": "/review",
        "review queue": "/review/submissions",
        "review queue, filtered": f"/review/submissions?state=received&form={REGISTRATION}",
        "submission page": f"/review/submissions/{ids['submission']}",
        "quarantine": "/review/quarantine",
        "households list": "/review/households",
        "households list, filtered": "/review/households?poverty=poor&q=a",
        "household page": f"/review/households/{ids['household']}",
        "possible duplicates": "/review/duplicates?state=all",
        "poverty exits": "/review/exits",
    }  # fmt: skip
    if ids["case"] is not None:
        pages["duplicate comparison"] = f"/review/duplicates/{ids['case']}"
    # The administration pages (issue 14), as the province's coordinator: the widest scope.
    coordinator = _signed_in(app, COORDINATOR)
    admin_pages = {
        "admin: users": "/admin/users",
        "admin: pairs": "/admin/pairs",
        "admin: agencies": "/admin/agencies",
        "admin: units": "/admin/units",
        "admin: forms": "/admin/forms",
        "admin: audit log": "/admin/audit",
    }
    rows = []
    visits = [(client, name, path) for name, path in pages.items()]
    visits += [(coordinator, name, path) for name, path in admin_pages.items()]
    for signed_in, name, path in visits:
        times = _cpu_ms(signed_in, path)
        rows.append(
            {
                "name": f"site: {name}, server CPU per request (demo data, SQLite)",
                "measured": statistics.median(times),
                "unit": "ms",
                "target": f"< {TARGET_MS} ms",
                "reference": f"best {min(times):.1f} ms of {REPEAT}",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']}: {row['measured']:.1f} {row['unit']} ({row['reference']})")
