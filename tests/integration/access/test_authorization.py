"""Authorisation, generated from the route map: nobody reaches another area's data.

Every rule of `app.url_map` (JSON API, OpenRosa with a key in the URL and
with Basic, later the web site) and each of its methods is called by every
role (cadre, commune official, agency lead, coordinator, admin, anonymous,
a revoked device or deactivated account) about resources of ANOTHER province (Lào
Cai: its forms, a household, a submission, a media file). `ACCESS` states
what each endpoint is; a new endpoint that `ACCESS` does not classify fails
`test_every_endpoint_is_classified`, so nobody can add a route without
saying who may call it.

What "refused" means: 401, 403 or 404, never 2xx, and never a word of the
other area's data in the body (its form title, household head, submission
id or unit names). The admin works everywhere, so the same request by the
admin must succeed: that proves each request names a real resource and is
refused for authorisation, not because it was malformed.

An export job (`OWN`) belongs to the user who asked for it, not to an area: Lào Cai's
coordinator's job (and its file) is refused to every other role, the admin included, and
answered to its owner, which proves the request names a real job.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa

from forms.instance import to_xml
from server import create_app
from server.db import db
from server.models import (
    AdminUnit,
    DoubleEntry,
    DuplicateCase,
    ExportJob,
    ExportStatus,
    FormMedia,
    Household,
    Role,
    User,
)
from server.services.access import auth, users
from server.services.forms import publishing as form_service
from server.services.programme import agencies, ledger, pairs
from server.services.programme import units as admin_units
from server.services.receiving import ingest, uploads
from server.services.reports import jobs
from server.services.reports.exports import ExportRequest
from server.services.reviews import campaigns as reviews
from tests.conftest import empty_tables
from tests.integration.contract.drivers import OPENROSA_HEADERS, answers_item
from tests.integration.contract.submissions import (
    household_id,
    instance_id,
    registration,
    registration_form,
    visit,
    visit_form,
)
from tests.integration.database import build_app, dispose_app
from tests.integration.helpers import PASSWORD, basic, bearer
from tests.integration.live import FormPlaces, World, populate_world, publish_shipped_xforms
from tests.integration.monitoring.view_cases import agency_stay, flag_visit
from tests.integration.web.site import matrix_form, matrix_request, matrix_site

ROLES = ("anonymous", "revoked", "cadre", "commune_official", "agency_lead", "coordinator",
         "admin")  # fmt: skip
USERS = {"cadre": "cadre_a", "commune_official": "official_a", "agency_lead": "lead_a",
         "coordinator": "coordinator", "admin": "admin",
         "owner": "coordinator_other"}  # fmt: skip
# ("owner" is no role of ROLES: Lào Cai's coordinator, who asked for its export job, `OWN`.)
GLOBAL = {"admin"}  # roles whose scope is everywhere: nothing is outside it

# What an endpoint is, for a caller asking about another province:
PUBLIC = "public"  # anyone, no credentials (health, server time, API description)
SIGNED_IN = "signed in"  # any valid credential, nothing scoped (OpenRosa HEAD preflight)
LISTING = "listing"  # signed in; answers with the caller's own scope only
TARGET = "target"  # the URL or body names another province's resource: refused
ITEM_TARGET = "item target"  # a batch: answered 200, each item about another province refused
PROBE = "probe"  # asks about another province's record: answered as for one that does not exist
# An administration page listing the caller's own scope: cadres are refused (403), the other
# signed-in roles answered with their own scope only.
ADMIN_LISTING = "admin listing"
# Another user's own record (Lào Cai's coordinator's export job): refused to every role, the
# admin included; its owner is answered.
OWN = "own"

ACCESS: dict[tuple[str, str], str] = {
    ("api.health.health", "GET"): PUBLIC,
    ("api.openapi.openapi_document", "GET"): PUBLIC,
    ("api.sync.server_time", "GET"): PUBLIC,
    # Operations: probes say nothing but up/ready; /metrics answers the machine itself or a
    # scrape token (tests/integration/operations), holds counts by route, never data.
    ("probes.livez", "GET"): PUBLIC,
    ("probes.readyz", "GET"): PUBLIC,
    ("metrics.metrics", "GET"): PUBLIC,
    ("static", "GET"): PUBLIC,
    ("api.units.list_units", "GET"): LISTING,
    ("api.forms.list_forms", "GET"): LISTING,
    ("api.forms.upload_form", "POST"): TARGET,
    ("api.forms.publish_form", "POST"): TARGET,
    ("api.forms.close_form", "POST"): TARGET,
    ("api.sync.pull", "GET"): LISTING,
    ("api.sync.push", "POST"): ITEM_TARGET,
    ("api.sync.digest", "POST"): PROBE,
    ("api.sync.download_form", "GET"): TARGET,
    ("api.sync.download_media", "GET"): TARGET,
    ("api.uploads.create_upload", "POST"): TARGET,
    ("api.uploads.upload_state", "GET"): TARGET,
    ("api.uploads.write_chunk", "PATCH"): TARGET,
    ("api.uploads.finish_upload", "POST"): TARGET,
    ("api.devices.register_device", "POST"): SIGNED_IN,
    ("api.devices.revoke_device", "POST"): TARGET,
    ("api.users.list_users", "GET"): LISTING,
    ("api.users.create_user", "POST"): TARGET,
    ("api.users.show_user", "GET"): TARGET,
    ("api.users.update_user", "PATCH"): TARGET,
    ("api.users.deactivate_user", "POST"): TARGET,
    ("api.users.activate_user", "POST"): TARGET,
    ("api.users.reset_password", "POST"): TARGET,
    ("api.users.import_users", "POST"): TARGET,
    ("api.users.list_user_devices", "GET"): TARGET,
    ("api.users.enrol_device", "POST"): TARGET,
    ("api.units.import_units", "POST"): TARGET,
    ("api.units.add_village", "POST"): TARGET,
    ("api.units.import_villages", "POST"): TARGET,
    ("api.agencies.list_agencies", "GET"): LISTING,
    ("api.agencies.create_agency", "POST"): TARGET,
    ("api.agencies.show_agency", "GET"): TARGET,
    ("api.agencies.update_agency", "PATCH"): TARGET,
    ("api.assignments.list_assignments", "GET"): LISTING,
    ("api.assignments.create_assignment", "POST"): TARGET,
    ("api.assignments.end_assignment", "POST"): TARGET,
    ("api.pairs.list_pairs", "GET"): LISTING,
    ("api.pairs.create_pair", "POST"): TARGET,
    ("api.pairs.end_pair", "POST"): TARGET,
    ("api.pairs.reassign_pair", "POST"): TARGET,
    ("api.pairs.import_pairs", "POST"): TARGET,
    ("api.quarantine.list_items", "GET"): LISTING,
    ("api.quarantine.show_item", "GET"): TARGET,
    ("api.quarantine.reprocess_item", "POST"): TARGET,
    ("api.duplicates.list_cases", "GET"): LISTING,
    ("api.duplicates.show_case", "GET"): TARGET,
    ("api.duplicates.decide_case", "POST"): TARGET,
    ("api.duplicates.list_double_entries", "GET"): LISTING,
    ("api.duplicates.decide_double_entry", "POST"): TARGET,
    ("api.households.list_households", "GET"): LISTING,
    ("api.submissions.list_submissions", "GET"): LISTING,
    ("api.households.show_household", "GET"): TARGET,
    ("api.households.resolve_conflicts", "POST"): TARGET,
    ("openrosa.form_list", "GET"): LISTING,
    ("openrosa.form_download", "GET"): TARGET,
    ("openrosa.manifest", "GET"): TARGET,
    ("openrosa.media", "GET"): TARGET,
    ("openrosa.integrity", "GET"): PROBE,
    ("openrosa.submission", "HEAD"): SIGNED_IN,
    ("openrosa.submission", "POST"): TARGET,
    # The review site (signed in with a session cookie; tests/integration/web/ has its own,
    # finer matrix: cadres and other communes).
    ("web.static", "GET"): PUBLIC,
    ("web.home", "GET"): PUBLIC,
    ("web.sign_in", "GET"): PUBLIC,
    ("web.sign_in", "POST"): PUBLIC,
    ("web.sign_out", "POST"): PUBLIC,
    ("web.set_language", "POST"): PUBLIC,
    ("web.dashboard", "GET"): TARGET,
    ("web.my_work", "GET"): LISTING,  # the caller's own account and units
    ("web.queue", "GET"): TARGET,
    ("web.quarantine", "GET"): TARGET,
    ("web.quarantine_item", "GET"): TARGET,
    ("web.quarantine_reprocess", "POST"): TARGET,
    ("web.submission", "GET"): TARGET,
    ("web.attachment", "GET"): TARGET,
    ("web.decide", "POST"): TARGET,
    ("web.correct", "POST"): TARGET,
    ("web.households", "GET"): TARGET,
    ("web.household", "GET"): TARGET,
    ("web.resolve", "POST"): TARGET,
    ("web.duplicates", "GET"): TARGET,
    ("web.duplicate", "GET"): TARGET,
    ("web.decide_duplicate", "POST"): TARGET,
    ("web.exits", "GET"): TARGET,
    ("web.review_campaigns", "GET"): TARGET,
    ("web.open_review", "POST"): TARGET,
    ("web.review_campaign", "GET"): TARGET,
    ("web.review_step", "POST"): TARGET,
    ("web.review_lists", "GET"): TARGET,
    ("web.decide_exit", "POST"): TARGET,
    # The programme's reports about Lào Cai's province (issue 15).
    ("api.reports.show_report", "GET"): TARGET,
    ("api.reports.list_records", "GET"): TARGET,
    ("web.reports", "GET"): TARGET,
    # Token-visit monitoring (issue 16): cadres see none; the others their own scope.
    ("api.monitoring.show_overview", "GET"): ADMIN_LISTING,
    ("api.monitoring.list_flags", "GET"): ADMIN_LISTING,
    ("api.monitoring.show_flag", "GET"): TARGET,
    ("api.monitoring.decide_flag", "POST"): TARGET,
    ("web.monitoring", "GET"): ADMIN_LISTING,
    ("web.monitoring_flag", "GET"): TARGET,
    ("web.decide_flag", "POST"): TARGET,
    ("api.monitoring.list_agency_visits", "GET"): ADMIN_LISTING,
    ("api.monitoring.list_agency_plans", "GET"): ADMIN_LISTING,
    ("api.monitoring.record_agency_visit", "POST"): TARGET,
    ("api.monitoring.void_agency_visit", "POST"): TARGET,
    ("api.monitoring.set_agency_plan", "POST"): TARGET,
    ("web.agency_visits_page", "GET"): ADMIN_LISTING,
    ("web.record_agency_visit", "POST"): TARGET,
    ("web.monitoring_summary", "GET"): ADMIN_LISTING,
    ("web.monitoring_summary_file", "GET"): ADMIN_LISTING,
    ("web.void_agency_visit", "POST"): TARGET,
    ("web.set_agency_plan", "POST"): TARGET,
    ("web.report_print", "GET"): TARGET,
    ("web.report_records", "GET"): TARGET,
    # The administration pages (/admin): lists for the administrative roles, and every page
    # or action about a record of Lào Cai refused (for the admin it succeeds).
    ("web.admin.index", "GET"): ADMIN_LISTING,
    ("web.admin.audit_log", "GET"): ADMIN_LISTING,
    ("web.admin.forms", "GET"): ADMIN_LISTING,
    ("web.admin.upload_form", "POST"): TARGET,
    ("web.admin.form", "GET"): TARGET,
    ("web.admin.publish_form", "POST"): TARGET,
    ("web.admin.close_form", "POST"): TARGET,
    ("web.admin.users", "GET"): ADMIN_LISTING,
    ("web.admin.create_user", "POST"): TARGET,
    ("web.admin.user", "GET"): TARGET,
    ("web.admin.edit_user", "POST"): TARGET,
    ("web.admin.set_user_active", "POST"): TARGET,
    ("web.admin.reset_password", "POST"): TARGET,
    ("web.admin.import_users", "POST"): TARGET,
    ("web.admin.devices", "GET"): ADMIN_LISTING,
    ("web.admin.device", "GET"): TARGET,
    ("web.admin.enrol_device", "POST"): TARGET,
    ("web.admin.revoke_device", "POST"): TARGET,
    ("web.admin.units", "GET"): ADMIN_LISTING,
    ("web.admin.unit", "GET"): TARGET,
    ("web.admin.import_province", "POST"): TARGET,
    ("web.admin.add_village", "POST"): TARGET,
    ("web.admin.rename_village", "POST"): TARGET,
    ("web.admin.import_villages", "POST"): TARGET,
    ("web.admin.agencies", "GET"): ADMIN_LISTING,
    ("web.admin.create_agency", "POST"): TARGET,
    ("web.admin.agency", "GET"): TARGET,
    ("web.admin.edit_agency", "POST"): TARGET,
    ("web.admin.assign_agency", "POST"): TARGET,
    ("web.admin.end_assignment", "POST"): TARGET,
    ("web.admin.pairs", "GET"): ADMIN_LISTING,
    ("web.admin.create_pair", "POST"): TARGET,
    ("web.admin.pair", "GET"): TARGET,
    ("web.admin.end_pair", "POST"): TARGET,
    ("web.admin.reassign_pair", "POST"): TARGET,
    ("web.admin.import_pairs", "POST"): TARGET,
    ("api.support.list_entries", "GET"): LISTING,
    ("api.support.record_entry", "POST"): TARGET,
    ("api.support.show_entry", "GET"): TARGET,
    ("api.support.void_entry", "POST"): TARGET,
    ("api.support.repay_entry", "POST"): TARGET,
    ("api.support.import_entries", "POST"): TARGET,
    ("api.reviews.list_campaigns", "GET"): LISTING,
    ("api.reviews.open_campaign", "POST"): TARGET,
    ("api.reviews.show_campaign", "GET"): TARGET,
    ("api.reviews.add_household", "POST"): TARGET,
    ("api.reviews.assign_reviewer", "POST"): TARGET,
    ("api.reviews.attach_assessment", "POST"): TARGET,
    ("api.reviews.record_meeting", "POST"): TARGET,
    ("api.reviews.propose", "POST"): TARGET,
    ("api.reviews.decide", "POST"): TARGET,
    ("api.reviews.download_lists", "GET"): TARGET,
    ("api.support.list_kinds", "GET"): SIGNED_IN,  # the catalogue: nobody's area
    ("api.support.create_kind", "POST"): TARGET,  # the admins' (403.41 for the others)
    ("web.admin.support", "GET"): ADMIN_LISTING,
    ("web.admin.record_support", "POST"): TARGET,
    ("web.admin.support_entry", "GET"): TARGET,
    ("web.admin.void_support", "POST"): TARGET,
    ("web.admin.repay_support", "POST"): TARGET,
    ("web.admin.import_support", "POST"): TARGET,
    ("web.admin.support_kinds", "GET"): ADMIN_LISTING,
    ("web.admin.create_support_kind", "POST"): TARGET,  # the admins'
    ("web.admin.update_support_kind", "POST"): TARGET,  # the admins'
    # Exports (issue 15): the caller's own jobs; an export of Lào Cai's form or report.
    ("api.exports.list_exports", "GET"): LISTING,  # the caller's own jobs only
    ("api.exports.create_export", "POST"): TARGET,
    ("api.exports.show_export", "GET"): OWN,
    ("api.exports.download_export", "GET"): OWN,
    ("api.exports.direct_export", "GET"): TARGET,
    ("web.exports.page", "GET"): ADMIN_LISTING,  # cadres do not export (403.60)
    ("web.exports.create", "POST"): TARGET,
    ("web.exports.job_file", "GET"): OWN,
    ("web.exports.report_file", "GET"): TARGET,
}

REFUSED = {401, 403, 404}
NOWHERE_ID = "5e0e0b2c-0000-4000-8000-000000000000"  # a household id nobody has


def _app_for_the_route_map():
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "route-map"},
        instance_path=tempfile.mkdtemp(prefix="giupho-routes-"),
    )


def routes() -> list[tuple[str, str, str]]:
    """(endpoint, method, rule) of every route; HEAD only where a view declares it."""
    found = []
    for rule in _app_for_the_route_map().url_map.iter_rules():
        methods = set(rule.methods) - {"OPTIONS"}
        if "GET" in methods:
            methods.discard("HEAD")  # Flask answers HEAD for every GET by itself
        found += [(rule.endpoint, method, rule.rule) for method in sorted(methods)]
    return sorted(found)


ROUTES = routes()


def test_every_endpoint_is_classified():
    """A route nobody classified fails here: decide who may call it, then add it to ACCESS."""
    present = {(endpoint, method) for endpoint, method, _rule in ROUTES}
    assert present - set(ACCESS) == set(), "unclassified endpoints"
    assert set(ACCESS) - present == set(), "ACCESS lists endpoints that no longer exist"


# -- another province, and everything in it ------------------------------------------------


@dataclass
class Outside:
    """Another province's resources, and the words that would betray them in a body."""

    world: World
    form_id: str = "giupho_lao_cai_visit"
    form_title: str = "Thăm hộ Lào Cai (nội bộ)"
    registration_id: str = "giupho_lao_cai_registration"
    version: str = ""
    household_id: str = ""
    head_name: str = "Sùng A Dính"
    submission_id: str = ""
    quarantine_id: int = 0  # a conflicting resend of its registration, kept (R3)
    case_id: int = 0  # a possible duplicate of its household (D2)
    double_entry_id: int = 0  # a visit of its household sent twice (D4)
    upload_id: str = ""  # the resumable upload of a photo of its submission (C3), all received
    media: str = "so-do-ban.png"
    markers: list[str] = field(default_factory=list)  # its data: never in anyone else's answer
    places: list[str] = field(default_factory=lambda: ["Lào Cai", "Bắc Hà"])  # not in listings
    spare_id: int = 0  # a Lào Cai cadre the users routes act on (shown, edited, enrolled)
    spare_b_id: int = 0  # another, deactivated and activated again
    device_id: int = 0  # a device of the spare cadre, to revoke
    commune_id: int = 0  # Xã Bắc Hà, where villages are added
    agency_id: int = 0  # Lào Cai's agency (its name says "Lào Cai": never in a listing)
    assignment_id: int = 0  # its assignment to Bắc Hà, to end
    pair_id: int = 0  # cadre_other helps the household: the pair to end
    team_pair_id: int = 0  # a Lào Cai team helps it too: the pair to reassign
    province_id: int = 0  # Lào Cai, where the administration pages add forms and agencies
    village_id: int = 0  # its village, renamed to the name it has
    loan_id: int = 0  # capital lent to its household: shown, repaid (a little each time)
    void_ids: tuple[int, int] = (0, 0)  # support to Bắc Hà, voided by the API, by the site
    kind_id: int = 0  # a kind of the catalogue (the admins' to rename)
    export_id: int = 0  # Lào Cai's coordinator's export of its visits, made (its file kept)
    flag_ids: tuple[int, int] = (0, 0)  # monitoring flags on its submission: API's, site's
    stay_ids: tuple[int, int] = (0, 0)  # its agency's stays in Bắc Hà, to void: API's, site's
    # Bắc Hà's review campaigns, one at each step (the admin takes the next one): open,
    # assessed (the meeting's), met (the proposal's), proposed (the decision's).
    review_ids: dict[str, int] = field(default_factory=dict)


def _lao_cai(xform: bytes, form_id: str, old_id: str, title: str | None = None) -> bytes:
    """A shipped XForm turned into Lào Cai's own form: its id, title and place choices."""
    text = xform.decode("utf-8").replace(f'id="{old_id}"', f'id="{form_id}"')
    text = text.replace("<name>11</name>", "<name>15</name>")
    text = text.replace("<province>11</province>", "<province>15</province>")
    text = text.replace("03325", "02839")
    if title is not None:
        text = re.sub(r"<h:title>[^<]*</h:title>", f"<h:title>{title}</h:title>", text)
    return text.encode("utf-8")


def _make_outside(world: World) -> Outside:
    """Lào Cai's two forms (one with a media file), a household there and its submission."""
    out = Outside(world)
    province = admin_units.find(world.places.other_province)
    registration_xform = _lao_cai(
        registration_form().xform, out.registration_id, registration_form().form_id
    )
    visit_xform = _lao_cai(visit_form().xform, out.form_id, visit_form().form_id, out.form_title)
    for data in (registration_xform, visit_xform):
        uploaded = form_service.upload(data, "lao_cai.xml", None, province).version
        form_service.publish(None, uploaded.form.form_id, uploaded.version)
    out.version = uploaded.version
    db.session.add(FormMedia(form_version=uploaded, filename=out.media, content_type="image/png",
                             size=4, md5="0" * 32, data=b"\x89PNG"))  # fmt: skip
    db.session.commit()
    household = registration(
        village=FormPlaces.answer(world.places.other_village),
        head_name=out.head_name,
        place__province=world.places.other_province,
    )
    household.attrs["id"] = out.registration_id
    receipt = ingest.receive_xml(to_xml(household), user=users.find("cadre_other"))
    assert receipt.result == "accepted", receipt.issues
    out.household_id, out.submission_id = household_id(household), instance_id(household)
    household.find("head/head_name").text = out.head_name + " (sửa)"
    resend = ingest.receive_xml(to_xml(household), user=users.find("cadre_other"))
    assert resend.result == "conflict", resend
    out.quarantine_id = resend.quarantine_id
    out.upload_id = _upload_photo(out.submission_id)
    out.case_id, out.double_entry_id = _duplicates_of(out)
    out.markers = [out.form_title, out.head_name, out.submission_id]
    village = admin_units.find(world.places.other_village)
    spare = users.create_user("lao_cai_spare", "Vàng Seo Phủ", Role.CADRE, PASSWORD, [village])
    spare_b = users.create_user("lao_cai_spare_b", "Giàng A Lử", Role.CADRE, None, [village])
    out.spare_id, out.spare_b_id = spare.id, spare_b.id
    out.device_id = auth.register_device(spare, "Máy cũ")[0].id
    _programme_of(out)
    out.export_id = _export_of(out)
    out.flag_ids = tuple(
        flag_visit(out.submission_id, key=f"#{n}").id for n in ("api", "site")
    )  # fmt: skip
    out.stay_ids = tuple(agency_stay(out.agency_id, out.commune_id) for _ in range(2))
    return out


def _export_of(out: Outside) -> int:
    """coordinator_other's export of Lào Cai's visits, made to the end (a file of Lào Cai's
    submissions, kept for its owner only)."""
    owner = users.find("coordinator_other")
    job = jobs.create(owner, ExportRequest.parse("submissions", "csv", {"form": out.form_id}))
    jobs.run(job.id)
    done = db.session.get(ExportJob, job.id)
    assert done.status == ExportStatus.DONE and done.storage_path, done.error
    return job.id


def _programme_of(out: Outside) -> None:
    """Lào Cai's agency with its teams, assigned to Bắc Hà, and two pairs of its household."""
    province = admin_units.find(out.world.places.other_province)
    commune = admin_units.find(out.world.places.other_commune)
    agency = agencies.create_agency("LC-SNN", "Sở Nông nghiệp Lào Cai", home_unit=province)
    teams = {code: agencies.create_agency(code, f"Tổ công tác {code}", kind="team",
                                          parent=agency, home_unit=province)
             for code in ("LC-T1", "LC-T2", "LC-T3", "LC-T4", "LC-T5", "LC-T6")}  # fmt: skip
    assignment = agencies.assign(agency, commune, "poor", phase="2026-2030")
    household = db.session.get(Household, out.household_id)
    ended = pairs.pair(household, users.find("cadre_other"))
    reassigned = pairs.pair(household, teams["LC-T1"])
    out.commune_id, out.agency_id, out.assignment_id = commune.id, agency.id, assignment.id
    out.pair_id, out.team_pair_id = ended.id, reassigned.id
    out.province_id = province.id
    out.village_id = admin_units.find(out.world.places.other_village).id
    _support_of(out, household, commune)
    _reviews_of(out, household, commune)


def _reviews_of(out: Outside, household: Household, commune: AdminUnit) -> None:
    """Bắc Hà's review campaigns (issue 18), each at one step, opened by the admin."""
    admin = users.find("admin")
    days = {"open": 1, "assessed": 2, "met": 3, "proposed": 4}
    for step, day in days.items():
        opens = dt.date(2026, 1, day)
        campaign = reviews.open_campaign(admin, commune.id, 2026, "ongoing", opens,
                                         dt.date(2026, 12, 31))  # fmt: skip
        out.review_ids[step] = campaign.id
        if step == "open":
            continue
        for entry in reviews.entries(admin, campaign):
            reviews.attach_assessment(admin, campaign.id, entry.household_id)
        if step in ("met", "proposed"):
            reviews.record_meeting(admin, campaign.id, dt.date(2026, 11, 1), 30)
        if step == "proposed":
            reviews.propose(admin, campaign.id, dt.date(2026, 11, 2))


def _support_of(out: Outside, household: Household, commune: AdminUnit) -> None:
    """Lào Cai's ledger: capital lent to its household, and two gifts to Bắc Hà to void."""
    ledger.load_catalogue()
    loan = ledger.record(None, ledger.get_kind("loan_capital"), ledger.recipient(household),
                         value_vnd=10_000_000, source_name=out.head_name)  # fmt: skip
    works = ledger.get_kind("works")
    out.void_ids = tuple(
        ledger.record(None, works, ledger.recipient(unit=commune), quantity=1,
                      value_vnd=1, source_name=out.head_name).id
        for _ in range(2)
    )  # fmt: skip
    out.loan_id, out.kind_id = loan.id, works.id


def _duplicates_of(out: Outside) -> tuple[int, int]:
    """A second registration of Lào Cai's household (a possible duplicate, D2) and one visit
    of it sent twice (a double entry, D4), both by cadre_other: (case id, double entry id)."""
    other = users.find("cadre_other")
    twin = registration(village="02839_01", head_name=out.head_name, place__province="15")
    twin.attrs["id"] = out.registration_id
    assert ingest.receive_xml(to_xml(twin), user=other).result == "accepted"
    for base in (1, 2):
        again = visit(out.household_id, base_version=base, username="cadre_other")
        again.attrs["id"] = out.form_id
        assert ingest.receive_xml(to_xml(again), user=other).result == "accepted"
    case = db.session.scalar(sa.select(DuplicateCase.id))
    entry = db.session.scalar(sa.select(DoubleEntry.id))
    assert case and entry
    return case, entry


PHOTO = b"\xff\xd8\xff\xe0photo"


def _upload_photo(submission_id: str) -> str:
    """cadre_other's upload session of a photo of Lào Cai's submission, every byte received."""
    other = users.find("cadre_other")
    session, _created = uploads.create(other, None, instance_id=submission_id,
                                       filename="anh.jpg", size=len(PHOTO),
                                       sha256=hashlib.sha256(PHOTO).hexdigest())  # fmt: skip
    uploads.write(other, session.token, 0, PHOTO)
    return session.token


@pytest.fixture(scope="module")
def shared(database, tmp_path_factory):
    """One app per backend for the whole module, and a world built once into it."""
    state = {"app": None, "outside": None, "database": database,
             "instance": str(tmp_path_factory.mktemp("authz"))}  # fmt: skip
    yield state
    if state["app"] is not None:
        dispose_app(state["app"])


def _world_is_there(app) -> bool:
    with app.app_context():
        found = db.session.scalar(sa.select(User.id).where(User.username == "former"))
        db.session.remove()
    return found is not None


@pytest.fixture
def outside(shared) -> Outside:
    """The world and Lào Cai, rebuilt (in a fresh app) when another test emptied the tables.

    Refused requests change nothing, and the admin's successful ones only add
    (a version, a visit) or close a form no other request uses, so the tests
    of this module can share one world.
    """
    if shared["app"] is None or not _world_is_there(shared["app"]):
        if shared["app"] is not None:
            dispose_app(shared["app"])  # its caches name rows that are gone
        # The deactivated account's many refused sign-ins would lock it out (429): this
        # module is about who reaches what, the lock-out has its own tests.
        app = shared["app"] = build_app(
            shared["database"],
            shared["instance"],
            ALLOW_INSECURE_BASIC=True,
            SIGNIN_MAX_FAILURES=10_000,
        )
        with app.app_context():
            empty_tables()
            world = populate_world(publish_shipped_xforms)
            former = users.create_user("former", "Former", Role.CADRE, PASSWORD)
            users.deactivate(former)
            shared["outside"] = _make_outside(world)
            SITE.update(matrix_site(app, shared["outside"], USERS))
            db.session.remove()
    return shared["outside"]


# -- requests --------------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    path: str
    kwargs: dict


def _credentials(role: str, out: Outside, key_in_url: bool) -> tuple[str | None, dict]:
    """(token for a /key/ URL, headers) of `role`."""
    tokens = out.world.tokens
    if key_in_url:
        token = {"anonymous": "no-such-token-" + "x" * 20, "revoked": out.world.revoked_token}
        return token.get(role) or tokens[USERS[role]], {}
    if role == "anonymous":
        return None, {}
    if role == "revoked":
        return None, basic("former")  # a deactivated account
    return None, basic(USERS[role])


def _bearer(role: str, out: Outside) -> dict:
    if role == "anonymous":
        return {}
    token = out.world.revoked_token if role == "revoked" else out.world.tokens[USERS[role]]
    return bearer(token)


def _other_visit(out: Outside, role: str):
    """A visit of Lào Cai's household, as `role`'s tablet would send it."""
    return visit(out.household_id, base_version=1, username=USERS.get(role, role))


def _path(rule: str, values: dict[str, str]) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule)


def _integrity_query(role: str, out: Outside, probe_id: str) -> dict:
    return {"query_string": {"id": probe_id}}


def _digest_body(role: str, out: Outside, probe_id: str) -> dict:
    return {"json": {"households": {probe_id: 1}}}


def _push_body(role: str, out: Outside, probe_id: str) -> dict:
    return {"json": {"items": [answers_item(_other_visit(out, role))]}}


def _submission_body(role: str, out: Outside, probe_id: str) -> dict:
    xml = to_xml(_other_visit(out, role))
    return {
        "data": {"xml_submission_file": (io.BytesIO(xml), "s.xml", "text/xml")},
        "content_type": "multipart/form-data",
    }


def _upload_body(role: str, out: Outside, probe_id: str) -> dict:
    """A new version of Lào Cai's visit form, for Lào Cai."""
    form = visit_form()
    newer = form.xform.replace(
        f'version="{form.version}"'.encode(), f'version="{uuid.uuid4().int % 10**9}"'.encode()
    )
    data = _lao_cai(newer, out.form_id, form.form_id, out.form_title)
    unit = out.world.places.other_province
    return {
        "data": {"file": (io.BytesIO(data), "lao_cai.xml"), "unit": unit},
        "content_type": "multipart/form-data",
    }


def _upload_create_body(role: str, out: Outside, probe_id: str) -> dict:
    """An upload session for a photo of Lào Cai's submission."""
    photo = {"instance_id": out.submission_id, "filename": "anh.jpg", "size": len(PHOTO),
             "sha256": hashlib.sha256(PHOTO).hexdigest()}  # fmt: skip
    return {"json": photo, "headers": _bearer(role, out)}


def _chunk_body(role: str, out: Outside, probe_id: str) -> dict:
    """An empty chunk at the end of Lào Cai's upload (asks where it stands, changes nothing)."""
    headers = _bearer(role, out) | {"Upload-Offset": str(len(PHOTO))}
    return {"data": b"", "headers": headers}


def _device_body(role: str, out: Outside, probe_id: str) -> dict:
    return {"json": {"name": "Máy tính bảng"}, "headers": _bearer(role, out)}


def _new_user_body(role: str, out: Outside, probe_id: str) -> dict:
    """A new cadre working in Lào Cai."""
    user = {"username": f"lc-{uuid.uuid4().hex[:12]}", "full_name": "Thào A Chứ", "role": "cadre",
            "units": [out.world.places.other_village]}  # fmt: skip
    return {"json": user}


def _users_file_body(role: str, out: Outside, probe_id: str) -> dict:
    """A spreadsheet (CSV) of one new cadre working in Lào Cai."""
    row = f"lc-{uuid.uuid4().hex[:12]},Thào A Chứ,cán bộ,{out.world.places.other_village}"
    data = f"username,full_name,role,units\n{row}\n".encode()
    return {"data": {"file": (io.BytesIO(data), "users.csv")},
            "content_type": "multipart/form-data"}  # fmt: skip


def _sheet(text: str) -> dict:
    return {"data": {"file": (io.BytesIO(text.encode()), "sheet.csv")},
            "content_type": "multipart/form-data"}  # fmt: skip


def _new_agency_body(role: str, out: Outside, probe_id: str) -> dict:
    """A new agency at home in Lào Cai."""
    code = f"LC-{uuid.uuid4().hex[:8]}"
    return {"json": {"code": code, "name": "Hội Phụ nữ", "home_unit": "15"}}


PROGRAMME_PARTS = {
    ("api.units.import_units", "POST"): lambda *_: {
        "json": {"province": "15", "communes": ["02839"]}},
    ("api.units.add_village", "POST"): lambda *_: {"json": {"name": "Bản Mới", "kind": "Bản"}},
    ("api.units.import_villages", "POST"): lambda *_: _sheet("commune,name\n15/02839,Bản Nhập\n"),
    ("api.agencies.create_agency", "POST"): _new_agency_body,
    ("api.agencies.update_agency", "PATCH"): lambda *_: {
        "json": {"name": "Sở Nông nghiệp Lào Cai"}},
    ("api.assignments.create_assignment", "POST"): lambda *_: {
        "json": {"agency": "LC-SNN", "unit": "15/02839", "phase": "2031-2035"}},
    ("api.pairs.create_pair", "POST"): lambda role, out, probe_id: {
        "json": {"household": out.household_id, "helper": "LC-T3"}},
    ("api.pairs.reassign_pair", "POST"): lambda *_: {"json": {"helper": "LC-T2"}},
    ("api.pairs.import_pairs", "POST"): lambda role, out, probe_id: _sheet(
        f"household,helper\n{out.household_id},LC-T4\n"),
    ("api.reviews.open_campaign", "POST"): lambda role, out, probe_id: {
        "json": {"commune_id": out.commune_id, "year": 2027}},
    ("api.reviews.add_household", "POST"): lambda role, out, probe_id: {
        "json": {"household_id": out.household_id}},
    ("api.reviews.assign_reviewer", "POST"): lambda role, out, probe_id: {
        "json": {"reviewer_id": out.spare_id, "household_ids": [out.household_id]}},
    ("api.reviews.record_meeting", "POST"): lambda *_: {
        "json": {"date": "2026-11-05", "attendance": 25}},
    ("api.reviews.propose", "POST"): lambda *_: {"json": {"date": "2026-11-06"}},
    ("api.reviews.decide", "POST"): lambda *_: {
        "json": {"number": "12/QĐ-UBND", "date": "2026-11-07"}},
    ("api.support.record_entry", "POST"): lambda role, out, probe_id: {
        "json": {"kind": "rice", "household": out.household_id, "quantity": 10}},
    ("api.support.void_entry", "POST"): lambda *_: {"json": {"reason": "Nhập trùng"}},
    ("api.support.repay_entry", "POST"): lambda *_: {"json": {"amount_vnd": 1000}},
    ("api.support.import_entries", "POST"): lambda *_: _sheet(
        "kind,unit,quantity\nworks,15/02839,1\n"),
    ("api.support.create_kind", "POST"): lambda *_: {
        "json": {"code": f"k_{uuid.uuid4().hex[:8]}", "category": "goods", "unit": "item",
                 "name_vi": "Loại mới"}},
}  # fmt: skip


#: What a request carries besides its URL, by (endpoint, method).
def _resolution_body(role: str, out: Outside, probe_id: str) -> dict:
    """A reviewer's choice for a property of Lào Cai's household."""
    return {"json": {"values": {"income_per_person": "1"}}}


#: The site's session cookies by role and Lào Cai's commune, made with the world (`outside`).
SITE: dict = {}


def _site(data: dict | None = None, *, commune: bool = False, sign_out: bool = False):
    parts = matrix_request(data, commune=commune, sign_out=sign_out)
    return lambda role, out, probe_id: parts(role, out, probe_id, SITE)


def _admin(make):
    """An administration page's form about Lào Cai, made afresh for each call by `make(out)`."""
    parts = matrix_form(make)
    return lambda role, out, probe_id: parts(role, out, probe_id, SITE)


def _file(text: str, name: str = "rows.csv") -> tuple:
    return (io.BytesIO(text.encode("utf-8")), name)


def _new_name() -> str:
    return f"lc.{uuid.uuid4().hex[:8]}"


ADMIN_PARTS = {
    ("web.admin.upload_form", "POST"): _admin(lambda out: {
        "file": _upload_body("", out, "")["data"]["file"], "unit": str(out.province_id)}),
    ("web.admin.publish_form", "POST"): _admin(lambda out: {}),
    ("web.admin.close_form", "POST"): _admin(lambda out: {}),
    ("web.admin.create_user", "POST"): _admin(lambda out: {
        "username": _new_name(), "full_name": "Hầu A Lềnh", "role": "cadre",
        "unit_refs": out.world.places.other_village}),
    ("web.admin.edit_user", "POST"): _admin(lambda out: {
        "full_name": "Vàng Seo Phủ", "role": "cadre",
        "unit_refs": out.world.places.other_village}),
    ("web.admin.set_user_active", "POST"): _admin(lambda out: {"active": "1"}),
    ("web.admin.reset_password", "POST"): _admin(lambda out: {}),
    ("web.admin.import_users", "POST"): _admin(lambda out: {"file": _file(
        f"username,full_name,role,units\n{_new_name()},Lý A Sử,cadre,"
        f"{out.world.places.other_village}\n")}),
    ("web.admin.enrol_device", "POST"): _admin(lambda out: {"name": "Máy tính bảng"}),
    ("web.admin.revoke_device", "POST"): _admin(lambda out: {}),
    ("web.admin.import_province", "POST"): _admin(lambda out: {
        "province": "15", "communes": "02839"}),
    ("web.admin.add_village", "POST"): _admin(lambda out: {
        "commune": str(out.commune_id), "name": "Bản Trang Mới"}),
    ("web.admin.rename_village", "POST"): _admin(lambda out: {"name": "Bản 1"}),
    ("web.admin.import_villages", "POST"): _admin(lambda out: {
        "file": _file("commune,name\n15/02839,Bản Nhập Trang\n")}),
    ("web.admin.create_agency", "POST"): _admin(lambda out: {
        "code": f"LC-{uuid.uuid4().hex[:8]}", "name": "Hội Nông dân", "kind": "organisation",
        "level": "province", "home_unit": str(out.province_id)}),
    ("web.admin.edit_agency", "POST"): _admin(lambda out: {
        "name": "Sở Nông nghiệp Lào Cai", "kind": "agency", "level": "province",
        "home_unit": str(out.province_id), "active": "1"}),
    ("web.admin.assign_agency", "POST"): _admin(lambda out: {
        "unit": str(out.commune_id), "category": "poor", "phase": "2036-2040"}),
    ("web.admin.end_assignment", "POST"): _admin(lambda out: {}),
    ("web.admin.create_pair", "POST"): _admin(lambda out: {
        "household": out.household_id, "helper": "LC-T5"}),
    ("web.admin.end_pair", "POST"): _admin(lambda out: {"reason": "Thoát nghèo"}),
    ("web.admin.reassign_pair", "POST"): _admin(lambda out: {"helper": "LC-T2"}),
    ("web.admin.import_pairs", "POST"): _admin(lambda out: {
        "file": _file(f"household,helper\n{out.household_id},LC-T6\n")}),
    ("web.admin.record_support", "POST"): _admin(lambda out: {
        "kind": "rice", "household": out.household_id, "quantity": "10"}),
    ("web.admin.void_support", "POST"): _admin(lambda out: {"reason": "Nhập trùng"}),
    ("web.admin.repay_support", "POST"): _admin(lambda out: {"amount_vnd": "1000"}),
    ("web.admin.import_support", "POST"): _admin(lambda out: {
        "file": _file("kind,unit,quantity\nworks,15/02839,1\n")}),
    ("web.admin.create_support_kind", "POST"): _admin(lambda out: {
        "code": f"k_{uuid.uuid4().hex[:8]}", "category": "goods", "unit": "item",
        "name_vi": "Loại mới"}),
    ("web.admin.update_support_kind", "POST"): _admin(lambda out: {
        "name_vi": "Công trình", "name_en": "Works", "active": "1"}),
}  # fmt: skip


def _report_query(out, **more: str) -> dict:
    """The report of Lào Cai's province for this year (and a figure's records)."""
    return {"level": "province", "unit": str(out.province_id), "year": "2026", **more}


def _report_page(**more: str):
    """A report page of the site about Lào Cai, with the role's session."""
    site = _site()
    return lambda role, out, probe_id: (
        site(role, out, probe_id) | {"query_string": _report_query(out, **more)}
    )


REQUEST_PARTS = {
    # Exports of Lào Cai's visit form, and of its province's report.
    ("api.exports.create_export", "POST"): lambda role, out, _id: {
        "json": {"kind": "submissions", "format": "csv", "form": out.form_id}
    },
    ("api.exports.direct_export", "GET"): lambda role, out, _id: {
        "query_string": {"form": out.form_id}
    },
    ("web.exports.page", "GET"): _site(),
    ("web.exports.job_file", "GET"): _site(),
    ("web.exports.create", "POST"): _admin(
        lambda out: {"kind": "submissions", "format": "csv", "form": out.form_id}
    ),
    ("web.exports.report_file", "GET"): _report_page(),
    ("api.reports.show_report", "GET"): lambda role, out, _id: {"query_string": _report_query(out)},
    ("api.reports.list_records", "GET"): lambda role, out, _id: {
        "query_string": _report_query(out, figure="helped")
    },
    ("web.reports", "GET"): _report_page(),
    ("web.report_print", "GET"): _report_page(),
    ("web.report_records", "GET"): _report_page(figure="helped"),
    ("api.monitoring.decide_flag", "POST"): lambda *_: {
        "json": {"decision": "dismiss", "comment": "Đã kiểm tra tại hộ"}
    },
    ("web.monitoring", "GET"): _site(),
    ("api.monitoring.record_agency_visit", "POST"): lambda *_: {
        "json": {
            "agency": "LC-SNN",
            "commune": "15/02839",
            "visited_on": "2026-03-02",
            "days": 2,
            "purpose": "Họp dân",
        }
    },
    ("api.monitoring.void_agency_visit", "POST"): lambda *_: {"json": {"reason": "Nhập trùng"}},
    ("api.monitoring.set_agency_plan", "POST"): lambda *_: {
        "json": {
            "agency": "LC-SNN",
            "commune": "15/02839",
            "year": 2026,
            "visits_planned": 4,
            "days_planned": 8,
        }
    },
    ("web.agency_visits_page", "GET"): _site(),
    ("web.monitoring_summary", "GET"): _site(),
    ("web.monitoring_summary_file", "GET"): _site(),
    ("web.record_agency_visit", "POST"): _admin(
        lambda out: {
            "agency": "LC-SNN",
            "commune": str(out.commune_id),
            "visited_on": "2026-03-02",
            "days": "2",
            "people": "3",
            "purpose": "Họp dân",
        }
    ),
    ("web.void_agency_visit", "POST"): _site({"reason": "Nhập trùng"}),
    ("web.set_agency_plan", "POST"): _admin(
        lambda out: {
            "agency": "LC-SNN",
            "commune": str(out.commune_id),
            "year": "2026",
            "visits_planned": "4",
            "days_planned": "8",
        }
    ),
    ("web.monitoring_flag", "GET"): _site(),
    ("web.decide_flag", "POST"): _site({"decision": "dismiss", "comment": "Đã kiểm tra"}),
    ("web.home", "GET"): _site(),
    ("web.my_work", "GET"): _site(),
    ("web.static", "GET"): _site(),
    ("web.sign_in", "GET"): _site(),
    ("web.sign_in", "POST"): _site({"username": "nobody", "password": "wrong"}),
    ("web.sign_out", "POST"): _site({}, sign_out=True),
    ("web.set_language", "POST"): _site({"lang": "en"}),
    ("web.dashboard", "GET"): _site(commune=True),
    ("web.queue", "GET"): _site(commune=True),
    ("web.quarantine", "GET"): _site(commune=True),
    ("web.quarantine_item", "GET"): _site(),
    ("web.quarantine_reprocess", "POST"): _site({}),
    ("web.submission", "GET"): _site(),
    ("web.attachment", "GET"): _site(),
    ("web.decide", "POST"): _site({"decision": "approve"}),
    ("web.correct", "POST"): _site({"path": "/data/nowhere", "value": "x"}),
    ("web.households", "GET"): _site(commune=True),
    ("web.household", "GET"): _site(),
    ("web.resolve", "POST"): _site({"value:income_per_person": "1"}),
    ("web.duplicates", "GET"): _site(commune=True),
    ("web.duplicate", "GET"): _site(),
    ("web.decide_duplicate", "POST"): _site({"decision": "distinct"}),
    ("web.exits", "GET"): _site(commune=True),
    ("web.review_campaigns", "GET"): _site(commune=True),
    ("web.open_review", "POST"): lambda role, out, probe_id: _site(
        {"commune": str(out.commune_id), "year": "2031"}
    )(role, out, probe_id),
    ("web.review_campaign", "GET"): _site(),
    ("web.review_step", "POST"): _site({"date": "2026-11-05", "attendance": "25"}),
    ("web.review_lists", "GET"): _site(),
    ("web.decide_exit", "POST"): _site({"decision": "certify", "version": "1"}),
    ("api.uploads.create_upload", "POST"): _upload_create_body,
    ("api.uploads.write_chunk", "PATCH"): _chunk_body,
    ("api.devices.register_device", "POST"): _device_body,
    ("api.users.create_user", "POST"): _new_user_body,
    ("api.users.update_user", "PATCH"): lambda *_: {"json": {"full_name": "Vàng Seo Phủ"}},
    ("api.users.import_users", "POST"): _users_file_body,
    ("api.users.enrol_device", "POST"): lambda *_: {"json": {"name": "Máy tính bảng mới"}},
    ("openrosa.integrity", "GET"): _integrity_query,
    ("api.sync.digest", "POST"): _digest_body,
    ("api.sync.push", "POST"): _push_body,
    ("openrosa.submission", "POST"): _submission_body,
    ("api.forms.upload_form", "POST"): _upload_body,
    ("api.households.resolve_conflicts", "POST"): _resolution_body,
    ("api.duplicates.decide_case", "POST"): lambda *_: {"json": {"decision": "distinct"}},
    ("api.duplicates.decide_double_entry", "POST"): lambda *_: {"json": {"status": "confirmed"}},
}


def _headers(endpoint: str, rule: str, role: str, out: Outside) -> tuple[str | None, dict]:
    """(token for a /key/ URL, headers) of `role` calling `rule`."""
    if endpoint.startswith("api."):
        return None, _bearer(role, out)
    token, headers = _credentials(role, out, "<token>" in rule)
    if endpoint.startswith("openrosa."):
        headers = headers | OPENROSA_HEADERS
    return token, headers


def build_call(endpoint: str, method: str, rule: str, role: str, out: Outside, probe_id: str):
    """The request `role` makes to `endpoint` about Lào Cai (or about `probe_id` for a probe)."""
    token, headers = _headers(endpoint, rule, role, out)
    # Publishing and closing use the registration form: no other request reads it.
    changes_state = endpoint.endswith(("publish_form", "close_form"))
    form_id = out.registration_id if changes_state else out.form_id
    version = registration_form().version if changes_state else out.version
    filename = "robots.txt" if endpoint == "static" else out.media
    # (De)activation acts on a cadre of its own: the other user routes keep theirs active.
    user_id = out.spare_b_id if "activate" in endpoint else out.spare_id
    values = {"token": token or "", "form_id": form_id, "version": version,
              "filename": filename, "dataset": "households",
              "item_id": str(out.quarantine_id), "upload_id": out.upload_id,
              "household_id": out.household_id, "case_id": str(out.case_id),
              "entry_id": str(out.double_entry_id),
              "instance_id": out.submission_id, "device_id": str(out.device_id),
              "user_id": str(user_id)}  # fmt: skip
    pair_id = out.team_pair_id if "reassign" in endpoint else out.pair_id
    values |= {"unit_id": str(out.commune_id), "agency_id": str(out.agency_id),
               "assignment_id": str(out.assignment_id), "pair_id": str(pair_id),
               "village_id": str(out.village_id)}  # fmt: skip
    values |= {"job_id": str(out.export_id), "kind": "submissions", "fmt": "csv"}
    step = {"record_meeting": "assessed", "propose": "met", "decide": "proposed",
            "review_step": "assessed"}  # fmt: skip
    review = step.get(endpoint.rsplit(".", 1)[-1], "open")
    values |= {"step": "meeting"}
    values |= {"campaign_id": str(out.review_ids.get(review, 0))}
    voided = out.void_ids[0] if endpoint.startswith("api.") else out.void_ids[1]
    side = 0 if endpoint.startswith("api.") else 1
    values |= {"flag_id": str(out.flag_ids[side]), "visit_id": str(out.stay_ids[side])}
    values |= {"support_id": str(voided if "void" in endpoint else out.loan_id),
               "kind_id": str(out.kind_id)}  # fmt: skip
    parts = (
        REQUEST_PARTS.get((endpoint, method))
        or PROGRAMME_PARTS.get((endpoint, method))
        or ADMIN_PARTS.get((endpoint, method))
    )
    if parts is None and endpoint.startswith("web.admin."):
        parts = _site()  # pages: the role's session
    kwargs = {"headers": headers} | (parts(role, out, probe_id) if parts else {})
    return Call(method, _path(rule, values), kwargs)


def send(client, call: Call):
    kwargs = dict(call.kwargs)
    cookie = kwargs.pop("session_cookie", None)  # the review site's session (web.* routes)
    if cookie is not None:
        client.set_cookie(*cookie)
    return client.open(call.path, method=call.method, **kwargs)


# -- the matrix ------------------------------------------------------------------------------


def _leaks(body: str, out: Outside, kind: str) -> list[str]:
    """The other province's words found in `body`.

    Official unit names are public; a listing must still not include the
    other province's units, but a refusal may name the unit the caller asked for.
    """
    markers = out.markers + (out.places if kind in (LISTING, ADMIN_LISTING) else [])
    return [marker for marker in markers if marker in body]


def _essence(response) -> tuple:
    """What a probe answer says, without what changes from call to call or echoes the request."""
    body = response.get_data().decode("utf-8", "replace")
    data = response.get_json(silent=True)
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k not in ("server_time", "cursor")}
        body = json.dumps(data, sort_keys=True)
    return response.status_code, body


@pytest.mark.parametrize("endpoint, method, rule", ROUTES, ids=[f"{m} {r}" for _e, m, r in ROUTES])
def test_no_role_reaches_another_provinces_data(shared, outside, endpoint, method, rule):
    kind = ACCESS[(endpoint, method)]
    client = shared["app"].test_client()
    for role in ROLES:  # the admin last: its successful writes must not change the others' answers
        call = build_call(endpoint, method, rule, role, outside, outside.household_id)
        response = send(client, call)
        status, body = response.status_code, response.get_data().decode("utf-8", "replace")
        where = f"{role}: {call.method} {call.path} -> {status} {body[:300]}"
        if role not in GLOBAL:
            assert _leaks(body, outside, kind) == [], where
        signed_in = role not in ("anonymous", "revoked")
        if kind == PUBLIC:
            assert status < 500, where
        elif not signed_in:
            assert status == 401, where
        elif kind == ADMIN_LISTING and role == "cadre":
            assert status == 403, where
        elif kind == OWN:
            assert status in REFUSED, where
        elif kind in (SIGNED_IN, LISTING, ADMIN_LISTING) or role in GLOBAL:
            assert 200 <= status < 300, where
            if kind == ITEM_TARGET:
                assert [r["status"] for r in response.get_json()["results"]] == [201], where
        elif kind == TARGET:
            assert status in REFUSED, where
        elif kind == ITEM_TARGET:
            assert status == 200, where
            (item,) = response.get_json()["results"]
            assert item["status"] in REFUSED and item["result"] == "quarantined", where
        elif kind == PROBE:
            nowhere = send(client, build_call(endpoint, method, rule, role, outside, NOWHERE_ID))
            masked = _essence(response)[1].replace(outside.household_id, NOWHERE_ID)
            assert (status, masked) == _essence(nowhere), where
    if kind == OWN:  # its owner reads it: the others were refused a real job
        owned = send(client, build_call(endpoint, method, rule, "owner", outside, ""))
        assert owned.status_code == 200, owned.get_data(as_text=True)[:300]


#: Each kind of export, asked about Lào Cai where the request can name it.
EXPORT_KINDS = {
    "submissions": lambda out: {"form": out.registration_id},  # its household's head named
    "households": lambda out: {},
    "ledger": lambda out: {},
    "report": lambda out: _report_query(out),
    "monitoring": lambda out: {"year": "2026"},  # its commune's row
}


def _export_text(response) -> str:
    """An export's words: a CSV, or the CSV files of a zip (a form's repeats, a report)."""
    data = response.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(archive.read(n).decode("utf-8-sig") for n in archive.namelist())
    return data.decode("utf-8-sig", "replace")


@pytest.mark.parametrize("kind", EXPORT_KINDS)
def test_no_export_holds_another_provinces_data(shared, outside, kind):
    """Every kind of export: Lào Cai's rows for the admin (so the check can fail), and for
    every other role a file of its own area's rows or a refusal, never a word of Lào Cai."""
    client = shared["app"].test_client()
    path, query = f"/api/v1/exports/{kind}.csv", EXPORT_KINDS[kind](outside)
    for role in ROLES:
        response = client.get(path, query_string=query, headers=_bearer(role, outside))
        status, text = response.status_code, _export_text(response)
        where = f"{role}: GET {path} {query} -> {status} {text[:300]}"
        if role in GLOBAL:
            assert status == 200 and _leaks(text, outside, LISTING), where
        elif 200 <= status < 300:
            assert _leaks(text, outside, LISTING) == [], where
        else:
            assert status in REFUSED and _leaks(text, outside, TARGET) == [], where
