"""The OpenRosa routes: parse the request, authenticate, call services, render XML."""

from __future__ import annotations

from datetime import UTC

from flask import Response, current_app, request, url_for
from werkzeug.http import parse_date

from server.errors import negotiate_language
from server.models.base import utcnow
from server.openrosa import bp, error_response, render, xml_response
from server.openrosa.auth import authenticate
from server.problems import Problem
from server.services import form_delivery, household_lists, ingest
from server.services.ingest import IncomingAttachment

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
        listed = form_delivery.entity_list_file(principal.user, found, filename)
        entries.append(
            render.MediaEntry(
                filename,
                listed.md5,
                external("media", token, filename=filename, **ids),
                entity_list=True,
                integrity_url=external("integrity", token, dataset=dataset),
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
        return Response(listed.data, content_type="text/csv; charset=utf-8")
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
def submission(token: str | None):
    """HEAD: 204 (Collect preflight). POST: a multipart submission, or one part of a split one."""
    principal = authenticate(token)
    if request.method == "HEAD":
        return Response(status=204)
    xml = _xml_part()
    attachments = [
        IncomingAttachment(f.filename or name, f.mimetype or "", f.read())
        for name, f in request.files.items(multi=True)
        if name != XML_PART
    ]
    device_time, offset_ms = _device_clock()
    receipt = ingest.receive_xml(
        xml,
        user=principal.user,
        device=principal.device,
        attachments=attachments,
        incomplete=request.form.get(INCOMPLETE_FIELD, "").strip().lower() == "yes",
        device_time=device_time,
        clock_offset_ms=offset_ms,
        lang=negotiate_language(),
    )
    return _receipt_response(receipt)


def _xml_part() -> bytes:
    """The submission XML: a file part, or a plain form field from simpler clients."""
    part = request.files.get(XML_PART)
    if part is not None:
        return part.read()
    field = request.form.get(XML_PART)
    if field:
        return field.encode("utf-8")
    raise Problem("400.2", field=XML_PART)


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
