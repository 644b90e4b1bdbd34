"""GET /api/v1/openapi.json: the OpenAPI 3 document of the whole JSON API.

Generated with apispec from the same marshmallow schemas that render the
answers, so the document cannot drift from the wire. Every `/api/` route
needs an entry in `OPERATIONS` (a test walks the URL map and fails on a route
that has none); the summary and description come from the view's docstring.
The document is built once per application, on first request.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, current_app
from marshmallow import Schema, fields, validate

from server.models import FormState
from server.schemas import AdminUnitSchema, FormSchema, FormVersionSchema, HealthSchema, quarantine
from server.schemas import duplicates as dup
from server.schemas import exports as ex
from server.schemas import households as hh
from server.schemas import monitoring as mo
from server.schemas import programme as pg
from server.schemas import reports as rp
from server.schemas import reviews as rv
from server.schemas import submissions as subs
from server.schemas import support as sp
from server.schemas import users as us
from sync import protocol

bp = Blueprint("openapi", __name__)

API_PREFIX = "/api/"
_EXTENSION_KEY = "giupho.openapi"


class FormListSchema(Schema):
    forms = fields.List(fields.Nested(FormSchema))


class FormListQuerySchema(Schema):
    state = fields.String(validate=validate.OneOf([s.value for s in FormState]))


class UnitListSchema(Schema):
    units = fields.List(fields.Nested(AdminUnitSchema))


@dataclass(frozen=True)
class Operation:
    """How one route is documented: its bodies, parameters and the problems it can answer."""

    tag: str
    response: type[Schema] | None = None
    status: int = 200
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    public: bool = False
    errors: tuple[int, ...] = ()
    content: dict[str, Any] | None = None  # a non-JSON request body (multipart upload)
    produces: str | None = None  # a non-JSON success body (XForm, media file)


_UPLOAD = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary"},
                "unit": {"type": "string", "description": 'Admin unit path, e.g. "11/03325".'},
            },
        }
    }
}

_USERS_FILE = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {
                    "type": "string",
                    "format": "binary",
                    "description": "XLSX or CSV: username, full_name, role, units (';'), "
                    "agency, password.",
                }
            },
        }
    }
}

_CHUNK = {
    "application/offset+octet-stream": {
        "schema": {
            "type": "string",
            "format": "binary",
            "description": "The bytes of the file from the `Upload-Offset` request header on.",
        }
    }
}

_SHEET = {
    "multipart/form-data": {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {
                    "type": "string",
                    "format": "binary",
                    "description": "An XLSX or CSV file; its first row names the columns.",
                }
            },
        }
    }
}

#: Every JSON API route by endpoint name. A new route without an entry fails the tests.
OPERATIONS: dict[str, Operation] = {
    "api.health.health": Operation("system", HealthSchema, public=True, errors=(503,)),
    "api.openapi.openapi_document": Operation("system", public=True, produces="application/json"),
    "api.forms.upload_form": Operation(
        "forms", FormVersionSchema, 201, content=_UPLOAD, errors=(400, 403, 404, 409, 413)
    ),
    "api.forms.publish_form": Operation("forms", FormVersionSchema, errors=(403, 404, 409)),
    "api.forms.close_form": Operation("forms", FormVersionSchema, errors=(403, 404, 409)),
    "api.forms.list_forms": Operation("forms", FormListSchema, query=FormListQuerySchema),
    "api.units.list_units": Operation("units", UnitListSchema),
    "api.units.import_units": Operation(
        "units",
        pg.ProvinceImportResultSchema,
        201,
        body=pg.ProvinceImportSchema,
        errors=(400, 403, 404, 409),
    ),
    "api.units.add_village": Operation(
        "units", AdminUnitSchema, 201, body=pg.VillageCreateSchema, errors=(400, 403, 404, 409)
    ),
    "api.units.import_villages": Operation(
        "units", pg.ImportReportSchema, 201, content=_SHEET, errors=(400, 403)
    ),
    "api.agencies.list_agencies": Operation(
        "agencies", pg.AgencyPageSchema, query=pg.PageQuerySchema, errors=(400,)
    ),
    "api.agencies.create_agency": Operation(
        "agencies",
        pg.AgencySchema,
        201,
        body=pg.AgencyCreateSchema,
        errors=(400, 403, 404, 409),
    ),
    "api.agencies.show_agency": Operation("agencies", pg.AgencySchema, errors=(404,)),
    "api.agencies.update_agency": Operation(
        "agencies", pg.AgencySchema, body=pg.AgencyUpdateSchema, errors=(400, 403, 404)
    ),
    "api.assignments.list_assignments": Operation(
        "assignments",
        pg.AssignmentPageSchema,
        query=pg.AssignmentQuerySchema,
        errors=(400, 404),
    ),
    "api.assignments.create_assignment": Operation(
        "assignments",
        pg.AssignmentSchema,
        201,
        body=pg.AssignmentCreateSchema,
        errors=(400, 403, 404, 409),
    ),
    "api.assignments.end_assignment": Operation(
        "assignments", pg.AssignmentSchema, body=pg.EndSchema, errors=(400, 403, 404, 409)
    ),
    "api.pairs.list_pairs": Operation(
        "pairs", pg.PairPageSchema, query=pg.PairQuerySchema, errors=(400, 404)
    ),
    "api.pairs.create_pair": Operation(
        "pairs", pg.PairSchema, 201, body=pg.PairCreateSchema, errors=(400, 403, 404, 409)
    ),
    "api.pairs.end_pair": Operation(
        "pairs", pg.PairSchema, body=pg.EndSchema, errors=(400, 403, 404, 409)
    ),
    "api.pairs.reassign_pair": Operation(
        "pairs", pg.PairSchema, 201, body=pg.ReassignSchema, errors=(400, 403, 404, 409)
    ),
    "api.pairs.import_pairs": Operation(
        "pairs", pg.ImportReportSchema, 201, content=_SHEET, errors=(400, 403)
    ),
    "api.support.list_entries": Operation(
        "support", sp.EntryPageSchema, query=sp.EntryQuerySchema, errors=(400, 404)
    ),
    "api.support.record_entry": Operation(
        "support", sp.EntrySchema, 201, body=sp.EntryCreateSchema, errors=(400, 403, 404)
    ),
    "api.support.show_entry": Operation("support", sp.EntrySchema, errors=(404,)),
    "api.support.void_entry": Operation(
        "support", sp.EntrySchema, body=sp.VoidSchema, errors=(400, 403, 404, 409)
    ),
    "api.support.repay_entry": Operation(
        "support", sp.RepaymentSchema, 201, body=sp.RepayCreateSchema, errors=(400, 403, 404, 409)
    ),
    "api.support.list_kinds": Operation("support", sp.KindListSchema),
    "api.support.create_kind": Operation(
        "support", sp.KindSchema, 201, body=sp.KindCreateSchema, errors=(400, 403, 409)
    ),
    "api.support.import_entries": Operation(
        "support", pg.ImportReportSchema, 201, content=_SHEET, errors=(400, 403)
    ),
    "api.sync.push": Operation(
        "sync",
        protocol.PushResponseSchema,
        body=protocol.PushBatchSchema,
        errors=(400, 413, 415),
    ),
    "api.sync.pull": Operation(
        "sync", protocol.PullPageSchema, query=protocol.PullQuerySchema, errors=(400,)
    ),
    "api.sync.digest": Operation(
        "sync", protocol.DigestResponseSchema, body=protocol.DigestRequestSchema, errors=(400,)
    ),
    "api.sync.server_time": Operation("sync", protocol.ServerTimeSchema, public=True),
    "api.quarantine.list_items": Operation(
        "quarantine",
        quarantine.QuarantinePageSchema,
        query=quarantine.QuarantineQuerySchema,
        errors=(400,),
    ),
    "api.quarantine.show_item": Operation(
        "quarantine", quarantine.QuarantineDetailSchema, errors=(404,)
    ),
    "api.quarantine.reprocess_item": Operation(
        "quarantine", quarantine.ReprocessSchema, errors=(403, 404)
    ),
    "api.sync.download_form": Operation("sync", errors=(404,), produces="text/xml"),
    "api.sync.download_media": Operation(
        "sync", errors=(404,), produces="application/octet-stream"
    ),
    "api.submissions.list_submissions": Operation(
        "submissions",
        subs.SubmissionPageSchema,
        query=subs.SubmissionQuerySchema,
        errors=(400, 404),
    ),
    "api.exports.create_export": Operation(
        "exports", ex.ExportJobSchema, 202, body=ex.ExportRequestSchema, errors=(400, 403, 404)
    ),
    "api.exports.list_exports": Operation("exports", ex.ExportJobListSchema),
    "api.exports.show_export": Operation("exports", ex.ExportJobSchema, errors=(404,)),
    "api.reviews.list_campaigns": Operation("reviews", rv.CampaignListSchema, errors=(403,)),
    "api.reviews.open_campaign": Operation(
        "reviews",
        rv.CampaignDetailSchema,
        201,
        body=rv.CampaignCreateSchema,
        errors=(400, 403, 404, 409),
    ),
    "api.reviews.show_campaign": Operation("reviews", rv.CampaignDetailSchema, errors=(404,)),
    "api.reviews.add_household": Operation(
        "reviews", rv.ReviewEntrySchema, 201, body=rv.EntryAddSchema, errors=(400, 403, 404, 409)
    ),
    "api.reviews.assign_reviewer": Operation(
        "reviews", rv.AssignedSchema, body=rv.ReviewAssignSchema, errors=(400, 403, 404, 409)
    ),
    "api.reviews.attach_assessment": Operation(
        "reviews", rv.ReviewEntrySchema, body=rv.ReviewAssessSchema, errors=(403, 404, 409)
    ),
    "api.reviews.record_meeting": Operation(
        "reviews", rv.CampaignSchema, body=rv.ReviewMeetingSchema, errors=(400, 403, 404, 409)
    ),
    "api.reviews.propose": Operation(
        "reviews", rv.CampaignSchema, body=rv.ReviewProposalSchema, errors=(400, 403, 404, 409)
    ),
    "api.reviews.decide": Operation(
        "reviews", rv.CampaignSchema, body=rv.ReviewDecisionSchema, errors=(400, 403, 404, 409)
    ),
    "api.reviews.download_lists": Operation(
        "reviews",
        produces="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        errors=(404,),
    ),
    "api.exports.download_export": Operation(
        "exports", produces="application/octet-stream", errors=(404, 409)
    ),
    "api.exports.direct_export": Operation(
        "exports",
        query=ex.ExportQuerySchema,
        produces="application/octet-stream",
        errors=(400, 403, 404, 409),
    ),
    "api.households.list_households": Operation(
        "households", hh.HouseholdPageSchema, query=hh.HouseholdQuerySchema, errors=(400, 404)
    ),
    "api.households.show_household": Operation(
        "households", hh.HouseholdDetailSchema, errors=(404,)
    ),
    "api.households.resolve_conflicts": Operation(
        "households", hh.HouseholdDetailSchema, body=hh.ResolutionSchema, errors=(400, 403, 404)
    ),
    "api.duplicates.list_cases": Operation(
        "duplicates", dup.CasePageSchema, query=dup.CaseQuerySchema, errors=(400, 404)
    ),
    "api.duplicates.show_case": Operation("duplicates", dup.CaseDetailSchema, errors=(404,)),
    "api.duplicates.decide_case": Operation(
        "duplicates", dup.CaseDetailSchema, body=dup.DecisionSchema, errors=(400, 403, 404, 409)
    ),
    "api.duplicates.list_double_entries": Operation(
        "duplicates", dup.DoubleEntryPageSchema, query=dup.DoubleEntryQuerySchema, errors=(400,)
    ),
    "api.duplicates.decide_double_entry": Operation(
        "duplicates",
        dup.DoubleEntrySchema,
        body=dup.DoubleEntryDecisionSchema,
        errors=(400, 403, 404),
    ),
    "api.uploads.create_upload": Operation(
        "uploads",
        protocol.UploadStateSchema,
        201,
        body=protocol.UploadCreateSchema,
        errors=(400, 404, 413),
    ),
    "api.uploads.upload_state": Operation("uploads", protocol.UploadStateSchema, errors=(404,)),
    "api.uploads.write_chunk": Operation(
        "uploads", protocol.UploadStateSchema, content=_CHUNK, errors=(400, 404, 413)
    ),
    "api.uploads.finish_upload": Operation(
        "uploads", protocol.UploadStateSchema, errors=(400, 404)
    ),
    "api.users.list_users": Operation(
        "users", us.UserPageSchema, query=us.UserQuerySchema, errors=(400, 404)
    ),
    "api.users.create_user": Operation(
        "users", us.UserSchema, 201, body=us.UserCreateSchema, errors=(400, 403, 409)
    ),
    "api.users.show_user": Operation("users", us.UserSchema, errors=(404,)),
    "api.users.update_user": Operation(
        "users", us.UserSchema, body=us.UserUpdateSchema, errors=(400, 403, 404, 409)
    ),
    "api.users.deactivate_user": Operation("users", us.UserSchema, errors=(403, 404, 409)),
    "api.users.activate_user": Operation("users", us.UserSchema, errors=(403, 404)),
    "api.users.reset_password": Operation("users", us.PasswordResetSchema, errors=(403, 404)),
    "api.users.import_users": Operation(
        "users", us.ImportResultSchema, 201, content=_USERS_FILE, errors=(400, 403, 413)
    ),
    "api.users.list_user_devices": Operation("devices", us.DeviceListSchema, errors=(404,)),
    "api.users.enrol_device": Operation(
        "devices", us.EnrolmentSchema, 201, body=us.EnrolRequestSchema, errors=(400, 403, 404, 409)
    ),
    "api.monitoring.show_overview": Operation(
        "monitoring", mo.OverviewSchema, query=mo.OverviewQuerySchema, errors=(400, 403)
    ),
    "api.monitoring.list_flags": Operation(
        "monitoring", mo.FlagPageSchema, query=mo.FlagQuerySchema, errors=(400, 403)
    ),
    "api.monitoring.show_flag": Operation("monitoring", mo.FlagDetailSchema, errors=(403, 404)),
    "api.monitoring.decide_flag": Operation(
        "monitoring", mo.FlagDetailSchema, body=mo.DecisionSchema, errors=(400, 403, 404, 409)
    ),
    "api.monitoring.list_agency_visits": Operation(
        "monitoring", mo.AgencyVisitPageSchema, query=mo.AgencyVisitQuerySchema, errors=(400, 403)
    ),
    "api.monitoring.record_agency_visit": Operation(
        "monitoring",
        mo.AgencyVisitSchema,
        201,
        body=mo.AgencyVisitCreateSchema,
        errors=(400, 403, 404),
    ),
    "api.monitoring.void_agency_visit": Operation(
        "monitoring", mo.AgencyVisitSchema, body=sp.VoidSchema, errors=(400, 403, 404, 409)
    ),
    "api.monitoring.list_agency_plans": Operation(
        "monitoring", mo.PlanListSchema, query=mo.PlanQuerySchema, errors=(400, 403)
    ),
    "api.monitoring.set_agency_plan": Operation(
        "monitoring", mo.PlanListSchema, 201, body=mo.PlanCreateSchema, errors=(400, 403, 404)
    ),
    "api.reports.show_report": Operation(
        "reports", rp.ReportSchema, query=rp.ReportQuerySchema, errors=(400, 403, 404)
    ),
    "api.reports.list_records": Operation(
        "reports", rp.RecordsSchema, query=rp.RecordsQuerySchema, errors=(400, 403, 404)
    ),
    "api.devices.revoke_device": Operation("devices", us.DeviceSchema, errors=(403, 404)),
    "api.devices.register_device": Operation(
        "auth",
        protocol.DeviceCredentialSchema,
        201,
        body=protocol.DeviceRequestSchema,
        errors=(400,),
    ),
}

#: Schemas that travel inside `Change.data`; listed so clients find them in the document.
DATA_SCHEMAS = (
    protocol.FormDataSchema,
    protocol.HouseholdDataSchema,
    protocol.RedirectDataSchema,
    protocol.RemovalDataSchema,
    protocol.ReviewReturnDataSchema,
)


def openapi_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: `<conv:name>` becomes `{name}`."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _docstring(view: Any) -> tuple[str, str]:
    doc = inspect.cleandoc(view.__doc__ or "")
    summary, _, rest = doc.partition("\n")
    return summary.strip(), rest.strip()


def _responses(op: Operation) -> dict[str, Any]:
    if op.produces:
        ok: dict[str, Any] = {"content": {op.produces: {"schema": {}}}}
    elif op.response is not None:
        ok = {"content": {"application/json": {"schema": op.response}}}
    else:
        ok = {}
    responses: dict[str, Any] = {str(op.status): {"description": "Success", **ok}}
    statuses = set(op.errors) | ({500} if op.public else {401, 500})
    for status in sorted(statuses):
        responses[str(status)] = "Problem"
    return responses


def _operation(op: Operation, view: Any, arguments: set[str]) -> dict[str, Any]:
    summary, description = _docstring(view)
    doc: dict[str, Any] = {
        "tags": [op.tag],
        "summary": summary,
        "responses": _responses(op),
        "parameters": [
            {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
            for name in sorted(arguments)
        ],
    }
    if description:
        doc["description"] = description
    if op.query is not None:
        doc["parameters"].append({"in": "query", "schema": op.query})
    if op.body is not None:
        doc["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body}},
        }
    elif op.content is not None:
        doc["requestBody"] = {"required": True, "content": op.content}
    doc["security"] = [] if op.public else [{"deviceToken": []}, {"password": []}]
    return doc


def _new_spec(api_version: str) -> APISpec:
    spec = APISpec(
        title="giupho JSON API",
        version=api_version,
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        info={
            "description": "Forms, admin units and the JSON sync protocol (push, pull, digest). "
            "Errors are problems from one catalogue, in Vietnamese or English by "
            "Accept-Language."
        },
    )
    spec.components.security_scheme("deviceToken", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme("password", {"type": "http", "scheme": "basic"})
    spec.components.schema("Problem", schema=protocol.ProblemSchema)
    spec.components.response(
        "Problem",
        {
            "description": "A problem from the catalogue (see `code`).",
            "content": {"application/json": {"schema": "Problem"}},
        },
    )
    for schema in DATA_SCHEMAS:
        spec.components.schema(schema.__name__.removesuffix("Schema"), schema=schema)
    return spec


def build_document(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of every documented `/api/` route of `app`."""
    try:
        spec = _new_spec(version("giupho"))
    except PackageNotFoundError:
        spec = _new_spec("unknown")
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        op = OPERATIONS.get(rule.endpoint)
        if not rule.rule.startswith(API_PREFIX) or op is None:
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = _operation(
                op, view, set(rule.arguments)
            )
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI 3 document of this API (no login needed)."""
    document = current_app.extensions.get(_EXTENSION_KEY)
    if document is None:
        document = current_app.extensions[_EXTENSION_KEY] = build_document(current_app)
    return document
