"""One way to send a submission per protocol, so each rule test runs over both.

`OpenRosaDriver` posts multipart to `/key/<token>/submission` as ODK Collect
does; `JsonDriver` pushes one item to `/api/v1/sync/push` as the giupho
client does. Both return an `Outcome`: the status OpenRosa answers (the JSON
API reports the same status per item) and, for JSON, the item's result word.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET

from forms.instance import to_answers, to_xml
from forms.tree import Node
from tests.integration.contract.submissions import registration_form, visit_form
from tests.integration.helpers import bearer

OPENROSA_HEADERS = {"X-OpenRosa-Version": "1.0"}
OPENROSA_NS = "{http://openrosa.org/http/response}"
APOS = {"'": "&apos;"}

#: The statuses each result may carry (sync contract R1-R6, the wave's wire contract).
STATUSES = {
    "accepted": {201},
    "invalid": {201},
    "duplicate": {202},
    "conflict": {409},
    "quarantined": {400, 404},
}


@dataclass
class Outcome:
    """What the server answered to one submission."""

    protocol: str
    status: int
    result: str | None = None  # JSON only: accepted, duplicate, conflict, invalid, quarantined
    code: str | None = None  # JSON only: the problem code of a non-accepted result
    message: str = ""  # what the client shows the officer
    review_state: str | None = None
    submission_id: int | None = None  # JSON only: the stored submission this answer is about
    issues: list[dict] = field(default_factory=list)

    def means(self, result: str) -> bool:
        """Whether this answer is `result` as the protocol can say it.

        OpenRosa has only the status (201 covers accepted and invalid); JSON
        has both, and both must agree.
        """
        if self.status not in STATUSES[result]:
            return False
        return self.protocol == "openrosa" or self.result == result


def pretty_xml(root: Node) -> bytes:
    """The same answers as `to_xml`, written differently: indented, attributes reversed,
    another XML declaration. Written by hand because no serialiser reorders attributes."""
    out = ["<?xml version='1.0' encoding='utf-8' standalone='yes'?>\n"]

    def write(node: Node, depth: int) -> None:
        pad = "  " * depth
        attrs = "".join(f" {k}='{escape(v, APOS)}'" for k, v in reversed(node.attrs.items()))
        if node.children:
            out.append(f"{pad}<{node.name}{attrs}>\n")
            for child in node.children:
                write(child, depth + 1)
            out.append(f"{pad}</{node.name}>\n")
        else:
            text = escape(node.text)
            out.append(f"{pad}<{node.name}{attrs}>{text}</{node.name}>\n")

    write(root, 0)
    return "".join(out).encode("utf-8")


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _reversed_keys(v) for k, v in reversed(value.items())}
    if isinstance(value, list):
        return [_reversed_keys(v) for v in value]
    return value


def _form_of(root: Node):
    return visit_form() if root.attrs.get("id") == visit_form().form_id else registration_form()


class OpenRosaDriver:
    """ODK Collect: multipart POST of `xml_submission_file` plus one part per attachment."""

    name = "openrosa"

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.url = f"/key/{token}/submission"

    def submit(
        self,
        submission: Node | bytes,
        attachments: dict[str, bytes] | None = None,
        incomplete: bool = False,
    ) -> Outcome:
        xml = submission if isinstance(submission, bytes) else to_xml(submission)
        return self._post(xml, attachments, incomplete)

    def resend_reformatted(self, root: Node) -> Outcome:
        """The same answers in different whitespace, attribute order and declaration."""
        return self._post(pretty_xml(root), None, False)

    def _post(self, xml: bytes, attachments, incomplete: bool) -> Outcome:
        data: dict[str, Any] = {
            "xml_submission_file": (io.BytesIO(xml), "submission.xml", "text/xml")
        }
        for filename, content in (attachments or {}).items():
            data[filename] = (io.BytesIO(content), filename, "application/octet-stream")
        if incomplete:
            data["*isIncomplete*"] = "yes"
        response = self.client.post(
            self.url, data=data, headers=OPENROSA_HEADERS, content_type="multipart/form-data"
        )
        assert response.headers.get("X-OpenRosa-Version") == "1.0", response.data[:300]
        return Outcome("openrosa", response.status_code, message=_openrosa_message(response))


def _openrosa_message(response) -> str:
    """The message Collect shows; every answer must be an OpenRosaResponse (Collect reads no
    other shape, so a JSON or HTML error would reach the officer as a bare status)."""
    assert response.mimetype == "text/xml", (response.status_code, response.data[:300])
    element = SafeET.fromstring(response.data)
    assert element.tag == f"{OPENROSA_NS}OpenRosaResponse", response.data[:300]
    found = element.find(f"{OPENROSA_NS}message")
    return (found.text or "") if found is not None else ""


class JsonDriver:
    """The giupho client: one item per push (answers as JSON, or raw XML when given bytes)."""

    name = "json"

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.headers = bearer(token)

    def submit(
        self,
        submission: Node | bytes,
        attachments: dict[str, bytes] | None = None,
        incomplete: bool = False,
    ) -> Outcome:
        assert not incomplete, "only OpenRosa splits a submission over several requests"
        if attachments:
            raise NotImplementedError("the JSON sync API uploads attachments in chunks (C3)")
        if isinstance(submission, bytes):
            return self.push({"xml": submission.decode("utf-8")})
        return self.push(answers_item(submission))

    def resend_reformatted(self, root: Node) -> Outcome:
        """The same answers with every object's keys in reverse order."""
        item = answers_item(root)
        item["answers"] = _reversed_keys(item["answers"])
        return self.push(item)

    def push(self, item: dict) -> Outcome:
        """Push one item; a refused batch (413, 500...) is reported with the batch's status."""
        response = self.client.post(
            "/api/v1/sync/push", json={"items": [item]}, headers=self.headers
        )
        body = response.get_json(silent=True) or {}
        if response.status_code != 200:
            return Outcome(
                "json", response.status_code, code=body.get("code"), message=body.get("message", "")
            )
        (result,) = body["results"]
        return Outcome(
            "json",
            result["status"],
            result=result["result"],
            code=result.get("code"),
            message=result.get("message") or "",
            review_state=result.get("review_state"),
            submission_id=result.get("submission_id"),
            issues=result.get("issues") or [],
        )


def answers_item(root: Node, **extra: Any) -> dict:
    """A push item carrying `root` as JSON answers (the sync API's shape)."""
    meta = root.child("meta")
    deprecated = meta.child("deprecatedID") if meta is not None else None
    item = {
        "instance_id": meta.child("instanceID").text,
        "form_id": root.attrs.get("id"),
        "version": root.attrs.get("version"),
        "deprecated_id": deprecated.text if deprecated is not None else None,
        "answers": to_answers(root, _form_of(root)),
        "device_time": "2026-03-01T08:40:00+07:00",
        "clock_offset_ms": 0,
    }
    return item | extra


DRIVERS = {"openrosa": OpenRosaDriver, "json": JsonDriver}
