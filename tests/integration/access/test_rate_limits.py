"""Per-sender rate limits on the sending routes (issue 13, finding 4: four big submissions
from one device token held every worker). One sender over `GIUPHO_RATE_LIMIT_SENDING` gets
429.1 with Retry-After in its protocol's shape, which the clients wait on and send again;
another sender is served meanwhile, and what the first sent before the limit is stored."""

from __future__ import annotations

import io

import sqlalchemy as sa

from server.db import db
from server.models import Submission
from tests.integration.openrosa.world import (  # noqa: F401 - fixture
    OPENROSA,
    household,
    registration_xml,
    world,
)


def _submit(client, world, username: str, xml: bytes):  # noqa: F811 - the fixture
    files = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    return client.post(world.key_url(username, "/submission"), data=files, headers=OPENROSA)


def test_one_token_over_the_limit_waits_while_another_is_served(app, client, world):  # noqa: F811
    """Issue 13, finding 4: a flood from one device token is throttled, per token."""
    app.config["RATE_LIMIT_SENDING"] = "3/minute"
    sent = [registration_xml(household(head_name=f"Lò Văn {n}")) for n in "ABCD"]
    for xml in sent[:3]:
        assert _submit(client, world, "cadre_a", xml).status_code == 201

    refused = _submit(client, world, "cadre_a", sent[3])
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["X-OpenRosa-Version"] == "1.0"
    assert b"OpenRosaResponse" in refused.data  # Collect shows the message

    # The JSON push of the same token shares the count: its tablet is the same sender.
    push = client.post(
        "/api/v1/sync/push",
        json={"items": []},
        headers={"Authorization": f"Bearer {world.tokens['cadre_a']}"},
    )
    assert push.status_code == 429 and push.json["code"] == "429.1"
    assert int(push.headers["Retry-After"]) >= 1

    # Another tablet is served meanwhile.
    other = registration_xml(household(village="03325_01", head_name="Lò Thị Other"))
    assert _submit(client, world, "cadre_b", other).status_code in (201, 403)

    with app.app_context():
        stored = db.session.scalar(sa.select(sa.func.count()).select_from(Submission))
    assert stored >= 3  # the three sent before the limit are kept


def test_reading_routes_are_not_counted(app, client, world):  # noqa: F811
    """The limit is on sending: a tablet reading its form list is never throttled by it."""
    app.config["RATE_LIMIT_SENDING"] = "1/minute"
    for _ in range(5):
        answer = client.get(world.key_url("cadre_a", "/formList"), headers=OPENROSA)
        assert answer.status_code == 200
