"""Submissions over OpenRosa, as ODK Collect sends them: HEAD, multipart POST, split POSTs."""

from __future__ import annotations

import io
import time

import pytest
import sqlalchemy as sa

from forms.library import REGISTRATION_VERSION
from server.db import db
from server.models import Attachment, QuarantineItem, Submission
from tests.integration.openrosa.documents import REQUIRED_HEADERS, message
from tests.integration.openrosa.world import OPENROSA, household, new_id, registration_xml


def post(client, world, xml: bytes, *attachments, username="cadre_a", incomplete=False, **headers):
    """POST a submission as Collect does: the XML part first, then one part per file."""
    data = {"xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")}
    for name, content, content_type in attachments:
        data[name] = (io.BytesIO(content), name, content_type)
    if incomplete:
        data["*isIncomplete*"] = "yes"
    return client.post(
        world.key_url(username, "/submission"), data=data, headers={**OPENROSA, **headers}
    )


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_head_submission_answers_204_with_the_openrosa_headers(client, world):
    response = client.head(world.key_url("cadre_a", "/submission"), headers=OPENROSA)

    assert response.status_code == 204
    assert all(response.headers.get(h) for h in REQUIRED_HEADERS)
    assert int(response.headers["X-OpenRosa-Accept-Content-Length"]) >= 1024 * 1024


def test_post_answers_201_then_202_for_the_resend(client, world, app):
    xml = registration_xml(household())

    first, again = post(client, world, xml), post(client, world, xml)

    assert (first.status_code, again.status_code) == (201, 202)
    for response in (first, again):
        assert response.content_type == "text/xml; charset=utf-8"
        assert all(response.headers.get(h) for h in REQUIRED_HEADERS)
        assert message(response.data)[0] == "submit_success"
    assert count(app, Submission) == 1


def test_a_conflicting_resend_answers_409_and_is_kept(client, world, app):
    home, instance_id = household(), new_id()
    post(client, world, registration_xml(home, instance_id))

    response = post(client, world, registration_xml(home, instance_id, head_name="Lò Văn Khác"))

    assert response.status_code == 409
    nature, text = message(response.data)
    assert nature == "error" and instance_id in text and "đừng gửi lại" in text
    assert count(app, QuarantineItem) == 1


def test_split_submission_accumulates_attachments_on_one_instance(client, world, app):
    xml = registration_xml(household())
    photo, sketch = b"\xff\xd8 house photo", b"\x89PNG sketch"

    first = post(client, world, xml, ("house.jpg", photo, "image/jpeg"), incomplete=True)
    last = post(client, world, xml, ("sketch.png", sketch, "image/png"))

    assert (first.status_code, last.status_code) == (201, 202)
    with app.app_context():
        stored = db.session.scalars(sa.select(Attachment).order_by(Attachment.filename)).all()
        assert [(a.filename, a.content_type, a.size) for a in stored] == [
            ("house.jpg", "image/jpeg", len(photo)),
            ("sketch.png", "image/png", len(sketch)),
        ]
    assert count(app, Submission) == 1


def test_unknown_form_version_answers_404_naming_it(client, world, app):
    xml = registration_xml(household()).replace(
        f'version="{REGISTRATION_VERSION}"'.encode(), b'version="1999"'
    )

    response = post(client, world, xml, **{"Accept-Language": "en-GB,en;q=0.8"})

    assert response.status_code == 404 and response.headers["Content-Language"] == "en"
    text = message(response.data)[1]
    assert "giupho_household_registration" in text and "'1999'" in text and "kept" in text
    assert count(app, QuarantineItem) == 1


@pytest.mark.parametrize(
    ("language", "expected", "content_language"),
    [
        ("vi-VN,vi;q=0.9", "Máy chủ đã nhận bản gửi", "vi"),
        ("en-US,en;q=0.9", "Submission received", "en"),
        (None, "Máy chủ đã nhận bản gửi", "vi"),  # the default language
    ],
)
def test_messages_follow_accept_language(client, world, language, expected, content_language):
    headers = {"Accept-Language": language} if language else {}
    response = post(client, world, registration_xml(household()), **headers)
    assert response.status_code == 201 and expected in message(response.data)[1]
    assert response.headers["Content-Language"] == content_language


def test_invalid_submission_is_accepted_with_a_message_for_the_officer(client, world, app):
    response = post(client, world, registration_xml(household(), q_latrine="golden"))
    assert response.status_code == 201  # stored: Collect must not send it again
    assert "1 câu trả lời cần kiểm tra" in message(response.data)[1]


def test_requests_without_the_openrosa_version_header_are_refused(client, world):
    for method, path in (("get", "/formList"), ("head", "/submission"), ("post", "/submission")):
        response = getattr(client, method)(world.key_url("cadre_a", path))
        assert response.status_code == 400, path
        assert response.headers["X-OpenRosa-Version"] == "1.0"
        if method != "head":
            assert "X-OpenRosa-Version" in message(response.data)[1]


def test_a_post_without_the_xml_part_is_refused(client, world):
    response = client.post(
        world.key_url("cadre_a", "/submission"),
        data={"photo.jpg": (io.BytesIO(b"x"), "photo.jpg", "image/jpeg")},
        headers=OPENROSA,
    )
    assert response.status_code == 400
    assert "xml_submission_file" in message(response.data)[1]


def test_a_broken_multipart_body_is_refused_with_400_and_nothing_is_stored(client, world, app):
    xml = registration_xml(household())
    body = b'--b\r\nContent-Disposition: form-data; name="xml_submission_file"\r\n\r\n' + xml
    response = client.post(  # the closing boundary never comes
        world.key_url("cadre_a", "/submission"),
        data=body,
        headers={**OPENROSA, "Content-Type": "multipart/form-data; boundary=b"},
    )

    assert response.status_code == 400
    assert "multipart" in message(response.data)[1]
    assert count(app, Submission) == count(app, QuarantineItem) == 0


def _billion_laughs(levels: int = 9) -> bytes:
    """The classic entity bomb: each level expands to ten of the previous (10**9 "lol"s)."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)
    ]
    doctype = f"<!DOCTYPE data [{''.join(entities)}]>"
    return f'<?xml version="1.0"?>{doctype}<data id="x">&lol{levels};</data>'.encode()


HOSTILE = {
    "bomb": _billion_laughs(),
    "external_entity": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM '
    b'"file:///etc/passwd">]><data id="giupho_household_registration">&x;</data>',
    "parameter_entity": b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % p SYSTEM '
    b'"file:///etc/passwd"> %p;]><data/>',
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_xml_is_refused_fast_and_nothing_is_stored(client, world, app, kind):
    started = time.perf_counter()
    response = post(client, world, HOSTILE[kind])
    elapsed = time.perf_counter() - started

    assert response.status_code == 400 and elapsed < 2
    assert b"root:" not in response.data  # never an expanded file
    assert count(app, Submission) == 0 and count(app, QuarantineItem) == 0


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(client, world, app):
    body = b"x" * (20 * 1024 * 1024)
    started = time.perf_counter()
    response = client.post(
        world.key_url("cadre_a", "/submission"),
        data=body,
        headers={**OPENROSA, "Content-Type": "multipart/form-data; boundary=zzz"},
    )

    assert response.status_code == 413 and time.perf_counter() - started < 2
    assert message(response.data)[0] == "error" and response.headers["X-OpenRosa-Version"] == "1.0"
    assert count(app, Submission) == 0 and count(app, QuarantineItem) == 0


def test_a_record_outside_the_cadre_s_area_is_kept_and_answered_403(client, world, app):
    response = post(client, world, registration_xml(household(village="03316_01")))
    assert response.status_code == 403 and "ngoài địa bàn" in message(response.data)[1]
    assert count(app, QuarantineItem) == 1 and count(app, Submission) == 0


def test_a_head_name_longer_than_a_duplicate_key_is_stored(client, world, app):
    """Issue 13 (found by the OpenRosa fuzz on PostgreSQL): a registration whose head's name
    made a duplicate-detection key longer than its column answered 500; it is stored."""
    name = "Lò Văn " + "Minh" * 40
    first = post(client, world, registration_xml(household(head_name=name)))
    assert first.status_code == 201, first.data
    assert count(app, Submission) == 1
