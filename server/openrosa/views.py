"""The OpenRosa routes: parse the request, authenticate, call services, render XML."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC
from io import BytesIO

import multipart
from flask import Response, current_app, request, url_for
from werkzeug.http import parse_date

from server.errors import negotiate_language
from server.limits import sending_limit
from server.models.base import utcnow
from server.openrosa import render
from server.openrosa.auth import authenticate
from server.openrosa.blueprint import bp, error_response, xml_response
from server.operations import metrics
from server.problems import Problem
from server.services.forms import delivery as form_delivery
from server.services.households import lists as household_lists
from server.services.receiving import ingest
from server.services.receiving.ingest import IncomingAttachment

XML_PART = "xml_submission_file"
INCOMPLETE_FIELD = "*isIncomplete*"
VERSION_PATH = "/forms/<form_id>/versions/<version>"


def routes(rule: str, **options):
    """Register a view under `rule` and under the device-token prefix `/key/<token>`."""

    def decorate(view):
        bp.add_url_rule(f"/key/<token>{rule}", view_func=view, **options)
        bp.add_url_rule(rule, view_func=view, defaults={"token": None}, **options)
        return view

    return decorate


def external(endpoint: str, token: str | None, **values) -> str:
    """An absolute URL for a client: PUBLIC_URL when set (behind a proxy), else this host."""
    base = (current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")
    return base + url_for(f"openrosa.{endpoint}", token=token, **values)


@routes("/formList", methods=["GET"])
def form_list(token: str | None):
    """The forms the caller may fill: one `<xform>` per form, its newest published version."""
    principal = authenticate(token)
    entries = []
    for version in form_delivery.listed_versions(principal.user, request.args.get("formID")):
        ids = {"form_id": version.form.form_id, "version": version.version}
        manifest = form_delivery.has_manifest(version)
        entries.append(
            render.FormEntry(
                form_id=version.form.form_id,
                name=version.title,
                version=version.version,
                md5=version.md5,
                download_url=external("form_download", token, **ids),
                manifest_url=external("manifest", token, **ids) if manifest else None,
            )
        )
    return xml_response(render.form_list(entries))


@routes(f"{VERSION_PATH}/form.xml", methods=["GET"])
def form_download(token: str | None, form_id: str, version: str):
    """The XForm bytes (their MD5 is the hash the form list shows)."""
    principal = authenticate(token)
    found = form_delivery.version_for(principal.user, form_id, version)
    return xml_response(form_delivery.xform_bytes(found))


@routes(f"{VERSION_PATH}/manifest", methods=["GET"])
def manifest(token: str | None, form_id: str, version: str):
    """Media files and the entity lists the form reads (generated for this user's scope)."""
    principal = authenticate(token)
    found = form_delivery.version_for(principal.user, form_id, version)
    ids = {"form_id": form_id, "version": version}
    entries = [
        render.MediaEntry(m.filename, m.md5, external("media", token, filename=m.filename, **ids))
        for m in form_delivery.media(found)
    ]
    for dataset, filename in form_delivery.entity_lists_read(found):
        listed = form_delivery.entity_list_file(principal.user, found, filename, body=False)
        entries.append(
            render.MediaEntry(
                filename,
                listed.md5,
                external("media", token, filename=filename, **ids),
                entity_list=True,
                integrity_url=external("integrity", token, dataset=dataset),
            )
        )
    for filename in form_delivery.place_lists_read(found):
        data = form_delivery.place_list_file(principal.user, found, filename)
        entries.append(
            render.MediaEntry(
                filename,
                household_lists.list_hash(data),
                external("media", token, filename=filename, **ids),
            )
        )
    return xml_response(render.manifest(entries))


@routes(f"{VERSION_PATH}/media/<path:filename>", methods=["GET"])
def media(token: str | None, form_id: str, version: str, filename: str):
    """A media file, or an entity list CSV of the households in the caller's scope."""
    principal = authenticate(token)
    found = form_delivery.version_for(principal.user, form_id, version)
    listed = form_delivery.entity_list_file(principal.user, found, filename)
    if listed is not None:
        # The MD5 is the manifest's hash: a client that has these bytes gets a 304.
        if listed.md5 in request.if_none_match:
            response = Response(status=304)
        else:
            response = Response(listed.data, content_type="text/csv; charset=utf-8")
        response.set_etag(listed.md5)
        return response
    places = form_delivery.place_list_file(principal.user, found, filename)
    if places is not None:
        return Response(places, content_type="text/csv; charset=utf-8")
    stored = form_delivery.media_file(found, filename)
    if stored is None:
        raise Problem("404.1")
    return Response(stored.data, content_type=stored.content_type)


@routes("/datasets/<dataset>/integrity", methods=["GET"])
def integrity(token: str | None, dataset: str):
    """For each `?id=`, whether the tablet should drop that entity (closed or merged)."""
    principal = authenticate(token)
    if not form_delivery.may_read_dataset(principal.user, dataset):
        raise Problem("404.1")
    ids = [i.strip() for i in request.args.get("id", "").split(",") if i.strip()]
    return xml_response(render.integrity(household_lists.deleted_states(principal.user, ids)))


@routes("/submission", methods=["HEAD", "POST"])
@sending_limit
def submission(token: str | None):
    """HEAD: 204 (Collect preflight). POST: a multipart submission, or one part of a split one."""
    principal = authenticate(token)
    if request.method == "HEAD":
        return Response(status=204)
    body = _submission_body()
    device_time, offset_ms = _device_clock()
    receipt = ingest.receive_xml(
        body.xml,
        user=principal.user,
        device=principal.device,
        attachments=body.attachments,
        incomplete=body.fields.get(INCOMPLETE_FIELD, "").strip().lower() == "yes",
        device_time=device_time,
        clock_offset_ms=offset_ms,
        lang=negotiate_language(),
    )
    metrics.count_submissions("openrosa", (receipt.result,))
    return _receipt_response(receipt)


@dataclass
class SubmissionBody:
    """What a submission POST carries: the XML, the attachments and the plain form fields."""

    xml: bytes
    attachments: list[IncomingAttachment] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


def _submission_body() -> SubmissionBody:
    """The parts of the POST: multipart as Collect sends it, or plain form fields.

    Multipart bodies are read with the `multipart` package: Werkzeug's parser
    compiles regular expressions for every new boundary, which made parsing
    cost more than storing the submission.
    """
    if request.mimetype != "multipart/form-data":  # a urlencoded form has no files
        return _body_of([], request.form.items(multi=True))
    boundary = request.mimetype_params.get("boundary")
    if not boundary:
        raise Problem("400.1", reason="multipart/form-data without a boundary")
    limit = current_app.config["MAX_SUBMISSION_BYTES"]
    data = request.get_data(cache=False)  # over the limit: 413 (max_content_length)
    try:
        parts = list(
            multipart.MultipartParser(
                BytesIO(data),
                boundary,
                len(data),
                spool_limit=limit + 1,  # every part stays in memory: the body already is
                memory_limit=limit + 1,
                part_limit=1000,
            )
        )
    except multipart.MultipartError as exc:
        raise Problem("400.1", reason=f"multipart: {exc}") from None
    files = [p for p in parts if p.filename is not None]
    return _body_of(files, [(p.name, p.value) for p in parts if p.filename is None])


def _body_of(files: list[multipart.MultipartPart], fields) -> SubmissionBody:
    """The submission from its file parts and its (name, value) form fields."""
    xml, attachments = None, []
    for part in files:
        if part.name == XML_PART:
            xml = part.raw if xml is None else xml
            continue
        mimetype = (part.content_type or "").split(";")[0].strip()  # as Werkzeug gave it
        attachments.append(IncomingAttachment(part.filename or part.name, mimetype, part.raw))
    plain = {}
    for name, value in fields:
        plain.setdefault(name, value)
    if xml is None:
        if not plain.get(XML_PART):
            raise Problem("400.2", field=XML_PART)
        xml = plain[XML_PART].encode("utf-8")
    return SubmissionBody(xml, attachments, plain)


def _device_clock():
    """The device's clock from its `Date` header, and its offset from ours in ms (C5)."""
    sent = parse_date(request.headers.get("Date"))
    if sent is None:
        return None, None
    sent = sent if sent.tzinfo else sent.replace(tzinfo=UTC)
    return sent, (sent - utcnow()).total_seconds() * 1000


def _receipt_response(receipt: ingest.Receipt) -> Response:
    if receipt.problem is not None:
        return error_response(receipt.problem, receipt.status)
    errors = sum(1 for issue in receipt.issues if issue.get("severity") == "error")
    message = render.success_message(receipt.result, negotiate_language(), errors)
    response = xml_response(render.response(message, "submit_success"), receipt.status)
    return response
