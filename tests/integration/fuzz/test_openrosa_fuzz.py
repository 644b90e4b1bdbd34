"""Generated OpenRosa submissions over HTTP: every body gets an OpenRosa answer, never a 5xx.

Issue 13 (findings 2 and 4, and "a fuzz test in CI"): ODK Collect's multipart POST to
`/key/<token>/submission` with the XML of a valid registration, broken in one way:
hostile text in an answer or in meta/instanceID (long, control characters, non-BMP,
NUL as a raw byte), the document cut short, deep nesting, many elements, a DOCTYPE with
entities, or bytes that are no XML at all. The answer must be below 500 and an
OpenRosaResponse (the only error shape Collect shows to the cadre).
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

import requests
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from forms.instance import to_xml
from tests.integration.contract.submissions import registration
from tests.integration.fuzz.conftest import PUSH_EXAMPLES, FuzzServer
from tests.integration.fuzz.test_push_fuzz import _TEXTS, VILLAGE

OPENROSA_HEADERS = {"X-OpenRosa-Version": "1.0"}


def _valid() -> bytes:
    return to_xml(registration(village=VILLAGE))


def _with_instance_id(xml: bytes, value: str) -> bytes:
    start = xml.index(b"<instanceID>") + len(b"<instanceID>")
    end = xml.index(b"</instanceID>")
    return xml[:start] + escape(value).encode("utf-8", "surrogatepass") + xml[end:]


def _with_answer(xml: bytes, tag: bytes, value: str) -> bytes:
    start = xml.index(b"<" + tag + b">") + len(tag) + 2
    end = xml.index(b"</" + tag + b">")
    return xml[:start] + escape(value).encode("utf-8", "surrogatepass") + xml[end:]


def _before_close(xml: bytes, inner: bytes) -> bytes:
    """`inner` inserted just before the root's closing tag."""
    end = xml.rindex(b"</")
    return xml[:end] + inner + xml[end:]


@st.composite
def bodies(draw) -> bytes:
    xml = _valid()
    how = draw(
        st.sampled_from(
            ["valid", "instance_id", "answer", "raw", "cut", "deep", "many", "doctype", "bytes"]
        )
    )
    if how == "instance_id":
        return _with_instance_id(xml, draw(_TEXTS))
    if how == "answer":
        tag = draw(st.sampled_from([b"head_name", b"head_birth_year", b"income_per_person",
                                    b"village", b"address", b"floor_area_m2"]))  # fmt: skip
        return _with_answer(xml, tag, draw(_TEXTS))
    if how == "raw":  # control bytes and NUL as they are: not well-formed XML
        return _with_answer(xml, b"head_name", "").replace(
            b"<head_name></head_name>",
            b"<head_name>" + draw(st.binary(min_size=1, max_size=20)) + b"</head_name>",
        )
    if how == "cut":
        return xml[: draw(st.integers(min_value=0, max_value=len(xml) - 1))]
    if how == "deep":
        depth = draw(st.integers(min_value=50, max_value=3000))
        return _before_close(xml, b"<d>" * depth + b"x" + b"</d>" * depth)
    if how == "many":
        count = draw(st.integers(min_value=100, max_value=20_000))
        return _before_close(xml, b"<e/>" * count)
    if how == "doctype":
        entity = b'<!DOCTYPE data [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        return entity + xml.replace(b"</head_name>", b"&b;</head_name>", 1)
    if how == "bytes":
        return draw(st.binary(max_size=200))
    return xml


def test_every_openrosa_submission_gets_an_openrosa_answer_below_500(fuzz_server: FuzzServer):
    """Issue 13, findings 2 and 4: generated submission bodies; no 5xx, always OpenRosa."""
    session = requests.Session()
    url = f"{fuzz_server.url}/key/{fuzz_server.cadre_token}/submission"

    @settings(
        max_examples=PUSH_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(body=bodies())
    @example(body=_with_instance_id(_valid(), "uuid:" + "x" * 101))  # finding 2
    def submit(body: bytes) -> None:
        files = {"xml_submission_file": ("submission.xml", io.BytesIO(body), "text/xml")}
        answer = session.post(url, files=files, headers=OPENROSA_HEADERS, timeout=60)
        if answer.status_code >= 500:  # the server's traceback says why
            print(fuzz_server.server.log_tail(80))
        assert answer.status_code < 500, (answer.status_code, body[:300])
        assert answer.headers.get("X-OpenRosa-Version") == "1.0", answer.text[:300]
        assert answer.headers.get("Content-Type", "").startswith("text/xml"), answer.text[:300]
        assert b"OpenRosaResponse" in answer.content, answer.text[:300]

    submit()
    health = session.get(f"{fuzz_server.url}/api/v1/health", timeout=30)
    assert health.status_code == 200
