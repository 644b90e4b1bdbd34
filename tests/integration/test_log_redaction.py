"""No secret in any log line: device tokens, credentials, cookies, passwords.

Issue 13, finding 7.
"""

from __future__ import annotations

import io
import logging

import pytest

from server import create_app, logs
from server.services.receiving import ingest
from tests.integration.helpers import PASSWORD, basic, bearer
from tests.integration.web.site import SiteClient, build_site

SUBMISSION = b'<data id="x"><meta><instanceID>uuid:1</instanceID></meta></data>'


def _broken(*_args, **_kwargs):
    raise RuntimeError("simulated bug")


@pytest.fixture
def world(app):
    app.testing = False
    app.config["PROPAGATE_EXCEPTIONS"] = False  # the error handlers log and answer, as served
    return build_site(app).world


def test_an_unhandled_error_on_a_token_path_logs_no_token(app, world, monkeypatch, caplog):
    """Issue 13, finding 7: `unhandled error on POST /key/<token>/submission` logged the
    device token in full. Neither the records (caplog) nor the app's own handler's formatted
    output hold it, nor any other credential sent with the request."""
    token = world.tokens["cadre_a"]
    monkeypatch.setattr(ingest, "receive_xml", _broken)  # a bug inside the project
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # a server's handler on the root logger
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logs.install(app)  # the filter goes on the handlers present, as at start-up
    client = app.test_client()
    with caplog.at_level(logging.INFO):
        response = client.post(
            f"/key/{token}/submission?token={token}",
            data={"xml_submission_file": (io.BytesIO(SUBMISSION), "submission.xml")},
            headers={"X-OpenRosa-Version": "1.0", "Cookie": f"giupho_session={token}"},
        )
        assert response.status_code == 500
        listed = client.get(
            f"/api/v1/households?access_token={token}",
            headers=bearer(token),
        )
        assert listed.status_code < 500
    logging.getLogger().removeHandler(handler)
    records = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert records, "the error was not logged"
    assert "/key/[redacted]/submission" in records[0].getMessage()
    assert "simulated bug" in caplog.text  # the traceback is still there for the operator
    assert token not in caplog.text
    for record in caplog.records:
        assert token not in record.getMessage() and token not in (record.exc_text or "")
    assert "unhandled error" in stream.getvalue()  # the server's handler wrote it ...
    assert token not in stream.getvalue()  # ... without the token


def test_an_unhandled_error_on_the_site_logs_no_password_nor_cookie(app, world, monkeypatch):
    """Issue 13, finding 7: a bug while a person signs in logs neither the password nor the
    session cookie, even when the bug's own message holds them."""
    from server.services.access import signin

    def leaky(*args, **_kwargs):
        raise RuntimeError(f"bad state: password={PASSWORD} Authorization: Basic abc")

    monkeypatch.setattr(signin, "sign_in", leaky)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logging.getLogger().addHandler(handler)
    logs.install(app)  # the filter goes on the handlers present, as at start-up
    try:
        site = SiteClient(app)
        site.get("/signin")
        response = site.post("/signin", {"username": "official_a", "password": PASSWORD})
    finally:
        logging.getLogger().removeHandler(handler)
    assert response.status_code == 500
    written = stream.getvalue()
    assert "unhandled error on POST /signin" in written
    assert PASSWORD not in written and "Basic abc" not in written


def test_server_access_logs_are_redacted_too():
    """Issue 13, finding 7: gunicorn's access log and Werkzeug's request log hold paths; the
    app installs the filter on their loggers when it is created."""
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    for name in ("gunicorn.access", "werkzeug"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            logger.info(
                '%(h)s "%(r)s" %(s)s',
                {"h": "127.0.0.1", "r": "GET /key/SeCrEtToKeN123/formList HTTP/1.1", "s": "200"},
            )
            logger.info("%s", "POST /signin password=hunter2&username=a Cookie: giupho_session=z")
        finally:
            logger.removeHandler(handler)
    written = stream.getvalue()
    assert written.count("/key/[redacted]/formList") == 2
    assert "SeCrEtToKeN123" not in written and "hunter2" not in written
    assert "giupho_session=z" not in written


def test_redact_masks_every_kind_of_secret():
    text = logs.redact(
        "GET /key/abc123/submission?token=t1&access_token=t2 "
        "{'Authorization': 'Bearer b1', 'Cookie': 'giupho_session=c1'} password=p1"
    )
    for secret in ("abc123", "t1", "t2", "b1", "c1", "p1"):
        assert secret not in text
    assert basic("a", "b")["Authorization"] not in logs.redact(str(basic("a", "b")))
