"""A read replica (`GIUPHO_DATABASE_REPLICA_URL`): every reading route works when its reads go
to a database that refuses writes, and the devices' last use still reaches the primary.

The replica is the same PostgreSQL schema reached through a role whose transactions are
read-only (`default_transaction_read_only=on`): a write sent to it fails as it would on a
hot standby, so any GET that writes through the replica answers 500 here. The routes are
the access matrix's (`test_authorization.ROUTES`), called as its roles call them.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from server import replica
from server.db import db, upgrade_database
from server.models import Device, Role, User
from server.services.access import users
from tests.integration.access import test_authorization as matrix
from tests.integration.database import (
    build_app,
    dispose_app,
    drop_postgres_schema,
    make_postgres_schema,
)
from tests.integration.live import populate_world, publish_shipped_xforms
from tests.integration.web.site import matrix_site

pytestmark = pytest.mark.postgres_only

ROLES = ("anonymous", "cadre", "commune_official", "agency_lead", "coordinator", "admin",
         "owner")  # fmt: skip
#: Reading routes whose answers must come from the replica (the issue's read-only traffic).
READ_FROM_REPLICA = (
    "openrosa.form_list",
    "openrosa.manifest",
    "api.sync.pull",
    "web.queue",
    "web.reports",
    "api.reports.show_report",
)

#: Reading routes that read no table from the replica (the probes and the health check ask
#: the primary; /readyz also asks the replica whether it answers).
NO_DATABASE = {"api.health.health", "api.openapi.openapi_document", "api.sync.server_time",
               "probes.livez", "static"}  # fmt: skip


def read_only(url: str) -> str:
    """`url` (a schema's URL) as a role whose every transaction is read-only."""
    parsed = sa.engine.make_url(url)
    options = parsed.query["options"] + " -cdefault_transaction_read_only=on"
    return parsed.update_query_dict({"options": options}).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def replicated(database, tmp_path_factory):
    """An app whose replica is read-only, on a schema of its own, with the matrix's world."""
    schema, url = make_postgres_schema("giupho_replica")
    app = build_app(
        url, str(tmp_path_factory.mktemp("replica")), DATABASE_REPLICA_URL=read_only(url),
        ALLOW_INSECURE_BASIC=True, SIGNIN_MAX_FAILURES=10_000, LAST_SEEN_FLUSH_S=0.2,
    )  # fmt: skip
    with app.app_context():
        upgrade_database()
        world = populate_world(publish_shipped_xforms)
        users.deactivate(users.create_user("former", "Former", Role.CADRE, "mật khẩu dài"))
        out = matrix._make_outside(world)
        site = matrix_site(app, out, matrix.USERS)
        db.session.remove()
    yield app, world, out, site
    dispose_app(app)
    drop_postgres_schema(schema)


def _statements_on(engine: sa.Engine) -> list[int]:
    counter = [0]

    def count(*_args) -> None:
        counter[0] += 1

    sa.event.listen(engine, "before_cursor_execute", count)
    return counter


def test_every_reading_route_works_against_a_read_only_replica(replicated):
    app, _world, out, site = replicated
    on_replica = _statements_on(replica.replica_engine_of(app))
    client = app.test_client()
    saved = dict(matrix.SITE)
    matrix.SITE.clear()
    matrix.SITE.update(site)  # the matrix's site cookies, for this app's sessions
    failures, used = [], {}
    try:
        for endpoint, method, rule in matrix.ROUTES:
            if method != "GET":
                continue
            before = on_replica[0]
            for role in ROLES:
                call = matrix.build_call(endpoint, method, rule, role, out, out.household_id)
                response = matrix.send(client, call)
                if response.status_code >= 500:
                    body = response.get_data(as_text=True)[:300]
                    failures.append(f"{role} GET {call.path} -> {response.status_code} {body}")
            used[endpoint] = on_replica[0] - before
    finally:
        matrix.SITE.clear()
        matrix.SITE.update(saved)
    assert failures == []
    assert len(used) > 90  # every reading route of the site, the API and OpenRosa
    assert {e: used[e] for e in READ_FROM_REPLICA if not used[e]} == {}
    on_primary_only = {e for e, n in used.items() if not n}
    assert on_primary_only - replica.PRIMARY_ENDPOINTS == NO_DATABASE
    assert {e: used[e] for e in replica.PRIMARY_ENDPOINTS if used.get(e)} == {}


def test_a_write_request_never_reads_from_the_replica(replicated):
    app, world, _out, _site = replicated
    on_replica = _statements_on(replica.replica_engine_of(app))
    client = app.test_client()
    token = world.tokens["cadre_a"]
    pushed = client.post("/api/v1/sync/push", json={"items": []}, headers=matrix.bearer(token))
    assert pushed.status_code == 200 and on_replica[0] == 0


def test_last_seen_reaches_the_primary_though_requests_read_the_replica(replicated):
    app, world, _out, _site = replicated
    with app.app_context():
        db.session.execute(sa.update(Device).values(last_seen_at=None))
        db.session.commit()
        cadre = db.session.scalar(sa.select(User.id).where(User.username == "cadre_a"))
        db.session.remove()
    listed = app.test_client().get(f"/key/{world.tokens['cadre_a']}/formList",
                                   headers=matrix.OPENROSA_HEADERS)  # fmt: skip
    assert listed.status_code == 200
    deadline, seen = time.monotonic() + 15, []
    while not seen and time.monotonic() < deadline:
        time.sleep(0.1)
        with app.app_context():
            seen = db.session.scalars(
                sa.select(Device.id).where(
                    Device.user_id == cadre, Device.last_seen_at.is_not(None)
                )
            ).all()
            db.session.remove()
    assert len(seen) == 1


def test_readiness_says_when_the_replica_does_not_answer(replicated, tmp_path):
    app = replicated[0]
    assert app.test_client().get("/readyz").status_code == 200
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    gone = sa.engine.make_url(url).set(database="giupho_no_such_replica")
    lost = build_app(url, str(tmp_path / "lost"),
                     DATABASE_REPLICA_URL=gone.render_as_string(hide_password=False))  # fmt: skip
    try:
        answer = lost.test_client().get("/readyz")
    finally:
        dispose_app(lost)
    assert answer.status_code == 503
    assert any("replica" in reason for reason in answer.get_json()["reasons"])
