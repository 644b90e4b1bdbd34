"""Every page and action of the review site, from the route map, refuses a cadre and an official
of another commune, and lets the commune's own official through (roles and scope).

The routes are read from `app.url_map`, so a new page cannot be added without
saying here what it is about: `TARGETS` names the request that points it at
commune A's records; a route missing from both `TARGETS` and `PUBLIC` fails
`test_every_site_route_is_classified`.
"""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Callable

import pytest

from server import create_app
from server.db import db
from server.models import DuplicateCase, Household, PovertyExit, Submission
from tests.integration.web.site import Site, SiteClient

#: Routes anyone may call: signing in and out, the language switch, the static files.
PUBLIC = {"web.home", "web.sign_in", "web.sign_out", "web.set_language", "web.static"}
#: Pages for anyone signed in, about their own account only (a cadre's landing page).
OWN_ACCOUNT = {"web.my_work"}


def _route_map() -> list[tuple[str, str, str]]:
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "route-map"},
        instance_path=tempfile.mkdtemp(prefix="giupho-web-routes-"),
    )
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("web."):
            methods = sorted(set(rule.methods) - {"OPTIONS", "HEAD"})
            found += [(rule.endpoint, method, rule.rule) for method in methods]
    return sorted(found)


ROUTES = _route_map()


def _commune_a(site: Site) -> dict:
    return {"commune": str(site.commune_a_id)}


def _report_of_a(site: Site) -> dict:
    return {"level": "commune", "unit": str(site.commune_a_id)}


#: (endpoint, method) -> what the request carries to point at commune A: (URL values,
#: query, form data), each built from the site.
TARGETS: dict[tuple[str, str], Callable[[Site], tuple[dict, dict, dict]]] = {
    ("web.dashboard", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.queue", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.quarantine", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.submission", "GET"): lambda s: ({"instance_id": s.a[0]}, {}, {}),
    ("web.attachment", "GET"): lambda s: ({"instance_id": s.a[0], "filename": "nha.jpg"}, {}, {}),
    ("web.decide", "POST"): lambda s: (
        {"instance_id": s.a[0]}, {}, {"decision": "return", "comment": "Sửa tên chủ hộ"}
    ),
    ("web.correct", "POST"): lambda s: (
        {"instance_id": s.a[0]}, {}, {"path": "/data/head/head_name", "value": "Lò Văn Sửa"}
    ),
    ("web.quarantine_item", "GET"): lambda s: ({"item_id": str(s.quarantine_id)}, {}, {}),
    ("web.quarantine_reprocess", "POST"): lambda s: ({"item_id": str(s.quarantine_id)}, {}, {}),
    ("web.households", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.household", "GET"): lambda s: ({"household_id": s.cases.conflicted}, {}, {}),
    ("web.resolve", "POST"): lambda s: (
        {"household_id": s.cases.conflicted}, {}, {"value:income_per_person": "1300000"}
    ),
    ("web.duplicates", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.duplicate", "GET"): lambda s: ({"case_id": str(s.cases.case_id)}, {}, {}),
    ("web.decide_duplicate", "POST"): lambda s: (
        {"case_id": str(s.cases.case_id)}, {}, {"decision": "distinct"}
    ),
    ("web.exits", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.decide_exit", "POST"): lambda s: (
        {"household_id": s.cases.exited}, {},
        {"decision": "decline", "version": "2", "reason": "Thu nhập chưa ổn định"},
    ),
    ("web.reports", "GET"): lambda s: ({}, _report_of_a(s), {}),
    ("web.review_campaigns", "GET"): lambda s: ({}, _commune_a(s), {}),
    ("web.open_review", "POST"): lambda s: (
        {}, {}, {"commune": str(s.commune_a_id), "year": "2030"}),
    ("web.review_campaign", "GET"): lambda s: ({"campaign_id": str(s.review_id)}, {}, {}),
    ("web.review_lists", "GET"): lambda s: ({"campaign_id": str(s.review_id)}, {}, {}),
    ("web.review_step", "POST"): lambda s: (
        {"campaign_id": str(s.review_id), "step": "meeting"}, {},
        {"date": "2026-11-01", "attendance": "20"}),
    ("web.report_print", "GET"): lambda s: ({}, _report_of_a(s), {}),
    ("web.report_records", "GET"): lambda s: ({}, _report_of_a(s) | {"figure": "helped"}, {}),
}  # fmt: skip
#: Token-visit monitoring (issue 16): commune A's flag, shown and dismissed; the agency's stays
#: in commune A, recorded, voided and planned.
_STAY = {"agency": "DB-SNN", "visited_on": "2026-03-02", "days": "1,5", "people": "2",
         "purpose": "Họp dân"}  # fmt: skip
TARGETS |= {
    ("web.record_agency_visit", "POST"): lambda s: (
        {}, {}, _STAY | {"commune": str(s.commune_a_id)}
    ),
    ("web.void_agency_visit", "POST"): lambda s: (
        {"visit_id": str(s.admin.stay_id)}, {}, {"reason": "Nhập trùng"}
    ),
    ("web.set_agency_plan", "POST"): lambda s: ({}, {}, {
        "agency": "DB-SNN", "commune": str(s.commune_a_id), "year": "2026",
        "visits_planned": "4", "days_planned": "8"}),
    ("web.monitoring_flag", "GET"): lambda s: ({"flag_id": str(s.admin.flag_id)}, {}, {}),
    ("web.decide_flag", "POST"): lambda s: (
        {"flag_id": str(s.admin.flag_id)}, {}, {"decision": "dismiss", "comment": "Đã kiểm tra"}
    ),
}  # fmt: skip


def _admin(values: Callable[[Site], dict], data: Callable[[Site], dict] | None = None):
    """An administration page or action about commune A's records (`site.admin`)."""
    return lambda s: (values(s), {}, data(s) if data else {})


def _csv(text: str) -> tuple[bytes, str]:
    return (text.encode("utf-8"), "rows.csv")


def _new_version(s: Site) -> dict:
    from tests.integration.web.site import commune_form

    return {"file": (commune_form(uuid.uuid4().hex[:8]), "commune_a_visit.md"),
            "unit": str(s.commune_a_id)}  # fmt: skip


ADMIN_TARGETS: dict[tuple[str, str], Callable[[Site], tuple[dict, dict, dict]]] = {
    ("web.admin.form", "GET"): _admin(lambda s: {"form_id": s.admin.form_id}),
    ("web.admin.upload_form", "POST"): _admin(lambda s: {}, _new_version),
    ("web.admin.publish_form", "POST"): _admin(
        lambda s: {"form_id": s.admin.form_id, "version": "1"}),
    ("web.admin.close_form", "POST"): _admin(
        lambda s: {"form_id": s.admin.form_id, "version": "1"}),
    ("web.admin.create_user", "POST"): _admin(lambda s: {}, lambda s: {
        "username": f"cb.{uuid.uuid4().hex[:6]}", "full_name": "Lò Văn Mới", "role": "cadre",
        "unit_refs": s.places.village_a1}),
    ("web.admin.user", "GET"): _admin(lambda s: {"user_id": str(s.admin.cadre_id)}),
    ("web.admin.edit_user", "POST"): _admin(lambda s: {"user_id": str(s.admin.cadre_id)},
        lambda s: {"full_name": "Cadre_A", "role": "cadre", "unit_refs": s.places.village_a1}),
    ("web.admin.set_user_active", "POST"): _admin(
        lambda s: {"user_id": str(s.admin.cadre_id)}, lambda s: {"active": "1"}),
    ("web.admin.reset_password", "POST"): _admin(lambda s: {"user_id": str(s.admin.cadre_id)}),
    ("web.admin.import_users", "POST"): _admin(lambda s: {}, lambda s: {"file": _csv(
        f"username,full_name,role,units\ncb.{uuid.uuid4().hex[:6]},Lò Văn Nhập,cadre,"
        f"{s.places.village_a1}\n")}),
    ("web.admin.device", "GET"): _admin(lambda s: {"device_id": str(s.admin.device_id)}),
    ("web.admin.enrol_device", "POST"): _admin(
        lambda s: {"user_id": str(s.admin.cadre_id)}, lambda s: {"name": "Máy mới"}),
    ("web.admin.revoke_device", "POST"): _admin(lambda s: {"device_id": str(s.admin.device_id)}),
    ("web.admin.unit", "GET"): _admin(lambda s: {"unit_id": str(s.commune_a_id)}),
    ("web.admin.import_province", "POST"): _admin(
        lambda s: {}, lambda s: {"province": "11", "communes": "03325"}),
    ("web.admin.add_village", "POST"): _admin(
        lambda s: {}, lambda s: {"commune": str(s.commune_a_id), "name": "Bản Mới"}),
    ("web.admin.rename_village", "POST"): _admin(
        lambda s: {"village_id": str(s.admin.village_id)}, lambda s: {"name": "Bản Phăng Mới"}),
    ("web.admin.import_villages", "POST"): _admin(
        lambda s: {}, lambda s: {"file": _csv("commune,name\n03325,Bản Nhập\n")}),
    ("web.admin.create_agency", "POST"): _admin(lambda s: {}, lambda s: {
        "code": f"DB-{uuid.uuid4().hex[:6]}", "name": "Hội Nông dân", "kind": "organisation",
        "level": "province", "home_unit": str(s.admin.province_id)}),
    ("web.admin.agency", "GET"): _admin(lambda s: {"agency_id": str(s.admin.agency_id)}),
    ("web.admin.edit_agency", "POST"): _admin(lambda s: {"agency_id": str(s.admin.agency_id)},
        lambda s: {"name": "Sở Nông nghiệp Điện Biên", "kind": "agency", "level": "province",
                   "home_unit": str(s.admin.province_id), "active": "1"}),
    ("web.admin.assign_agency", "POST"): _admin(lambda s: {"agency_id": str(s.admin.agency_id)},
        lambda s: {"unit": str(s.commune_a_id), "category": "poor", "phase": "2031-2035"}),
    ("web.admin.end_assignment", "POST"): _admin(
        lambda s: {"assignment_id": str(s.admin.assignment_id)}),
    ("web.admin.create_pair", "POST"): _admin(lambda s: {}, lambda s: {
        "household": s.households_a[1], "helper": "cadre_a"}),
    ("web.admin.pair", "GET"): _admin(lambda s: {"pair_id": str(s.admin.pair_id)}),
    ("web.admin.end_pair", "POST"): _admin(lambda s: {"pair_id": str(s.admin.pair_id)}),
    ("web.admin.reassign_pair", "POST"): _admin(
        lambda s: {"pair_id": str(s.admin.pair_id)}, lambda s: {"helper": "cadre_b"}),
    ("web.admin.import_pairs", "POST"): _admin(lambda s: {}, lambda s: {
        "file": _csv(f"household,helper\n{s.households_a[1]},cadre_a\n")}),
    ("web.admin.record_support", "POST"): _admin(lambda s: {}, lambda s: {
        "kind": "rice", "household": s.households_a[1], "quantity": "10"}),
    ("web.admin.support_entry", "GET"): _admin(lambda s: {"support_id": str(s.admin.support_id)}),
    ("web.admin.void_support", "POST"): _admin(
        lambda s: {"support_id": str(s.admin.void_id)}, lambda s: {"reason": "Nhập trùng"}),
    ("web.admin.repay_support", "POST"): _admin(
        lambda s: {"support_id": str(s.admin.support_id)}, lambda s: {"amount_vnd": "1000"}),
    ("web.admin.import_support", "POST"): _admin(lambda s: {}, lambda s: {
        "file": _csv("kind,unit,quantity\nworks,11/03325,1\n")}),
    ("web.admin.create_support_kind", "POST"): _admin(lambda s: {}, lambda s: {
        "code": f"k_{uuid.uuid4().hex[:8]}", "category": "goods", "unit": "item",
        "name_vi": "Loại mới"}),
    ("web.admin.update_support_kind", "POST"): _admin(lambda s: {"kind_id": str(s.admin.kind_id)},
        lambda s: {"name_vi": "Công trình", "name_en": "Works", "active": "1"}),
    # Exports: of commune A's form, of official_a's own job, of commune A's report.
    ("web.exports.create", "POST"): _admin(lambda s: {}, lambda s: {
        "kind": "submissions", "format": "csv", "form": s.admin.form_id}),
    ("web.exports.job_file", "GET"): _admin(lambda s: {"job_id": str(s.admin.job_id)}),
    ("web.exports.report_file", "GET"): lambda s: ({"fmt": "csv"}, _report_of_a(s), {}),
}  # fmt: skip
TARGETS |= ADMIN_TARGETS

#: Actions whose request names commune A (a village to add or import there, support given to
#: it): their refusal may name it back.
NAME_THE_COMMUNE = {
    "web.admin.add_village",
    "web.admin.import_villages",
    "web.admin.import_support",
}

#: Who may do what an administration route does in commune A (else commune A's official).
ALLOWED = {
    endpoint: "coordinator"
    for endpoint in ("web.admin.upload_form", "web.admin.publish_form", "web.admin.close_form",
                     "web.admin.create_user", "web.admin.edit_user", "web.admin.set_user_active",
                     "web.admin.reset_password", "web.admin.import_users",
                     "web.admin.create_agency", "web.admin.edit_agency",
                     "web.admin.assign_agency", "web.admin.end_assignment")
} | {"web.admin.import_province": "admin", "web.admin.create_support_kind": "admin",
     "web.admin.update_support_kind": "admin"}  # fmt: skip

#: The administration lists: every administrative role sees its own area's (cadres none).
ADMIN_LISTS = {
    f"web.admin.{name}"
    for name in ("index", "audit_log", "forms", "users", "devices", "units", "agencies", "pairs",
                 "support", "support_kinds")
} | {"web.exports.page", "web.monitoring", "web.agency_visits_page", "web.monitoring_summary",
     "web.monitoring_summary_file"}  # fmt: skip

#: The path of a list whose rule has a parameter.
LIST_PATHS = {"web.monitoring_summary_file": "/monitoring/summary.csv"}

#: Words of commune A's records that must never reach anyone outside it.
MARKERS = ("Lò Văn Một", "Quàng Thị Hai", "Lò Văn Khác", "Mường Phăng", "Lường Văn Bốn",
           "Cà Văn Năm", "Lò Thị Sáu")  # fmt: skip


def test_every_site_route_is_classified():
    present = {(endpoint, method) for endpoint, method, _rule in ROUTES}
    known = PUBLIC | ADMIN_LISTS | OWN_ACCOUNT
    unclassified = {r for r in present if r not in TARGETS and r[0] not in known}
    assert unclassified == set(), "say what these routes are about in TARGETS or PUBLIC"
    assert set(TARGETS) <= present, "TARGETS lists routes that no longer exist"


def _request(site: Site, endpoint: str, method: str, rule: str):
    values, query, data = TARGETS[(endpoint, method)](site)
    path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", lambda m: values[m.group(1)], rule)
    return method, path, query, data


def _send(client: SiteClient, method: str, path: str, query: dict, data: dict):
    if method == "GET":
        return client.get(path, query_string=query)
    return client.post(path, data, query_string=query)


def _state(app, site: Site) -> tuple:
    """What a refused action must leave as it was: a submission, the households, the duplicate
    case and the exit decisions."""
    with app.app_context():
        found = db.session.query(Submission).filter_by(instance_id=site.a[0]).one()
        households = sorted(db.session.query(Household.id, Household.version, Household.status))
        case = db.session.get(DuplicateCase, site.cases.case_id)
        state = (found.review_state, found.superseded, households, case.status,
                 db.session.query(PovertyExit).count())  # fmt: skip
        db.session.remove()
    return state


TARGETED = [r for r in ROUTES if r[:2] in TARGETS]


@pytest.mark.parametrize(
    "endpoint, method, rule", TARGETED, ids=[f"{m} {r}" for _e, m, r in TARGETED]
)
def test_every_page_and_action_refuses_a_cadre_and_another_commune(
    app, admin_site, browser_of, endpoint, method, rule
):
    site = admin_site
    method, path, query, data = _request(site, endpoint, method, rule)
    before = _state(app, site)

    anonymous = _send(browser_of(None), method, path, query, data)
    assert anonymous.status_code == 401, anonymous.status_code
    # A refusal may name the commune the request named (official unit names are public).
    markers = [m for m in MARKERS if endpoint not in NAME_THE_COMMUNE or m != "Mường Phăng"]
    for username, refused in (("cadre_a", {403}), ("official_b", {403, 404})):
        response = _send(browser_of(username), method, path, query, data)
        body = response.get_data().decode("utf-8", "replace")
        where = f"{username}: {method} {path} -> {response.status_code}"
        assert response.status_code in refused, where
        assert [m for m in markers if m in body] == [], where
    assert _state(app, site) == before, "a refused action changed the record"

    allowed = _send(browser_of(ALLOWED.get(endpoint, "official_a")), method, path, query, data)
    assert allowed.status_code in (200, 302, 303), allowed.get_data(as_text=True)[:500]


LISTS = [r for r in ROUTES if r[0] in ADMIN_LISTS]


@pytest.mark.parametrize("endpoint, method, rule", LISTS, ids=[r for _e, _m, r in LISTS])
def test_administration_lists_show_only_the_viewers_area(
    admin_site, browser_of, endpoint, method, rule
):
    path = LIST_PATHS.get(endpoint, rule)
    assert browser_of(None).get(path).status_code == 401
    assert browser_of("cadre_a").get(path).status_code == 403
    other = browser_of("official_b").get(path)
    body = other.get_data().decode("utf-8", "replace")
    assert other.status_code == 200 and [m for m in MARKERS if m in body] == [], body[:500]
    assert browser_of("official_a").get(path).status_code == 200
