"""Helpers for the review site's tests: a browser-like client and a small world to review.

`SiteClient` signs in through the sign-in form and sends every form with the
CSRF token the page gave it, as a browser does; `session_cookie` builds the
cookie of a signed-in session directly (for the route-map matrices, which
make hundreds of requests).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask

from forms.instance import to_xml
from server.db import db
from server.models import Role, Submission
from server.services.access import sessions, signin, users
from server.services.programme import units as admin_units
from server.services.receiving import ingest
from server.services.receiving.ingest import IncomingAttachment
from tests.integration.contract.submissions import household_id, instance_id, registration
from tests.integration.helpers import PASSWORD
from tests.integration.live import FormPlaces, World, shipped_world

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
PHOTO = b"\xff\xd8\xff\xe0 a photo of the house"


class SiteClient:
    """A Flask test client used the way a browser uses the site."""

    def __init__(self, app: Flask, address: str = "127.0.0.1") -> None:
        self.client = app.test_client()
        self.address = address
        self.token = ""
        self.followed = ""  # the page a redirect after a POST led to (with its messages)

    def get(self, path: str, **kwargs):
        response = self.client.get(path, environ_base={"REMOTE_ADDR": self.address}, **kwargs)
        found = TOKEN.search(response.get_data().decode("utf-8", "replace"))
        if found:
            self.token = found.group(1)
        return response

    def post(self, path: str, data: dict | None = None, *, token: str | None = None, **kwargs):
        """POST a form with the page's CSRF token (`token=""` sends none)."""
        # A file given as (bytes, name) is sent afresh each time (a stream is read once).
        data = {
            key: (io.BytesIO(value[0]), value[1])
            if isinstance(value, tuple) and isinstance(value[0], bytes)
            else value
            for key, value in (data or {}).items()
        }
        if token is None:
            token = self.token or self._fresh_token()
        if token:
            data["csrf_token"] = token
        response = self.client.post(
            path, data=data, environ_base={"REMOTE_ADDR": self.address}, **kwargs
        )
        if 300 <= response.status_code < 400:  # the browser follows, and gets the next token
            followed = self.get(response.headers["Location"])
            self.followed = followed.get_data().decode("utf-8", "replace")
        return response

    def _fresh_token(self) -> str:
        self.get("/signin")
        return self.token

    def sign_in(self, username: str, password: str = PASSWORD):
        self.get("/signin")
        response = self.post("/signin", {"username": username, "password": password})
        self.get("/review")  # a page with the session's new token (sign-in renews it)
        return response


def session_cookie(app: Flask, username: str | None, token: str = "t0ken") -> str:
    """The value of a session cookie for `username` (None: anonymous) with CSRF `token`."""
    data = {"csrf_token": token}
    with app.app_context():
        if username is not None:
            user = users.find(username)
            data |= {
                "uid": user.id,
                "fp": signin.session_fingerprint(user),
                "sid": sessions.open_session(user),
            }
        db.session.remove()
    with app.test_request_context():
        return app.session_interface.get_signing_serializer(app).dumps(data)


@dataclass
class Site:
    """The world (`tests.integration.live`), an official of commune B, and submissions to
    review: two registrations in commune A (one with a photo), one in commune B, and a
    conflicting resend of the first kept in quarantine (R3)."""

    world: World
    places: FormPlaces = field(default_factory=FormPlaces)
    a: list[str] = field(default_factory=list)  # instance ids in commune A
    b: list[str] = field(default_factory=list)  # instance ids in commune B
    households_a: list[str] = field(default_factory=list)
    quarantine_id: int = 0
    commune_a_id: int = 0
    commune_b_id: int = 0
    cases: HouseholdCases | None = None  # with `add_household_cases`
    admin: AdminCases | None = None  # with `add_admin_cases`


def build_site(app: Flask) -> Site:
    with app.app_context():
        site = populate_site()
        db.session.remove()
    return site


def populate_site() -> Site:
    """Fill an empty database with the `Site` (inside an app context)."""
    world = shipped_world()
    site = Site(world)
    official_b = [admin_units.find(site.places.commune_b)]
    users.create_user("official_b", "Official B", Role.COMMUNE_OFFICIAL, PASSWORD, official_b)
    cadre_a, cadre_b = users.find("cadre_a"), users.find("cadre_b")
    first = registration(
        head_name="Lò Văn Một",
        village="03325_01",
        house__house_location="21.35 103.02 900 5",
        house__house_photo="nha.jpg",
    )
    photo = IncomingAttachment("nha.jpg", "image/jpeg", PHOTO)
    assert ingest.receive_xml(to_xml(first), user=cadre_a, attachments=[photo]).stored
    second = registration(head_name="Quàng Thị Hai", village="03325_02")
    assert ingest.receive_xml(to_xml(second), user=cadre_a).stored
    other = registration(head_name="Vàng A Ba", village="03316_01")
    assert ingest.receive_xml(to_xml(other), user=cadre_b).stored
    first.find("head/head_name").text = "Lò Văn Khác"
    conflict = ingest.receive_xml(to_xml(first), user=cadre_a)
    assert conflict.result == "conflict"
    site.a = [instance_id(first), instance_id(second)]
    site.b = [instance_id(other)]
    site.households_a = [household_id(first), household_id(second)]
    site.quarantine_id = conflict.quarantine_id
    site.commune_a_id = admin_units.find(site.places.commune_a).id
    site.commune_b_id = official_b[0].id
    return site


#: The CSRF token every matrix session carries.
MATRIX_TOKEN = "matrix-csrf-token"


def matrix_site(app: Flask, out, users_by_role: dict[str, str]) -> dict:
    """What `tests/integration/access/test_authorization.py` needs to call the site about Lào Cai:
    a session cookie per role (the revoked role: a deactivated account), the id of Lào
    Cai's commune, and a file attached to its submission (named `out.media`).

    Runs inside an app context on the matrix's database.
    """
    from server.models import SubmissionPayload

    stored = db.session.query(Submission).filter_by(instance_id=out.submission_id).one()
    body = db.session.get(SubmissionPayload, stored.id).body
    photo = IncomingAttachment(out.media, "image/png", b"\x89PNG a map of the village")
    again = ingest.receive_xml(body, user=users.find("cadre_other"), attachments=[photo])
    assert again.result == "duplicate" and again.attachments_added == 1, again
    name = app.config["SESSION_COOKIE_NAME"]
    roles = {"anonymous": None, "revoked": "former", **users_by_role}
    cookies = {
        role: (name, session_cookie(app, username, MATRIX_TOKEN))
        for role, username in roles.items()
    }
    # Signing out ends the server-side session: the sign-out probes get sessions of their own
    # so that the other probes' sessions live on.
    sign_out_cookies = {
        role: (name, session_cookie(app, username, MATRIX_TOKEN))
        for role, username in roles.items()
    }
    commune = admin_units.find(out.world.places.other_commune)
    return {
        "cookies": cookies,
        "sign_out_cookies": sign_out_cookies,
        "commune": str(commune.id),
        "token": MATRIX_TOKEN,
    }


def matrix_request(data: dict | None = None, *, commune: bool = False, sign_out: bool = False):
    """The REQUEST_PARTS function of a site route in the authorisation matrix: the role's
    session cookie (`session_cookie`: (name, value), which the matrix's `send` puts in the
    client's cookie jar), the CSRF token with `data` for a form, Lào Cai's commune when the
    page takes one; redirects are followed as a browser does."""

    def parts(role: str, out, probe_id: str, site: dict) -> dict:
        cookies = site["sign_out_cookies" if sign_out else "cookies"]
        kwargs = {"session_cookie": cookies[role], "follow_redirects": True}
        if commune:
            kwargs["query_string"] = {"commune": site["commune"]}
        if data is not None:
            kwargs["data"] = {"csrf_token": site["token"], **data}
        return kwargs

    return parts


@dataclass
class HouseholdCases:
    """What the household pages are about, all in commune A: a household with conflicting
    edits (two visits from the same version disagree, H3), a pair of possible duplicates
    (D2) and a household whose latest assessment takes it out of near-poverty (an exit)."""

    conflicted: str = ""  # household id
    case_id: int = 0
    twins: tuple[str, str] = ("", "")
    exited: str = ""  # household id
    visits: list[str] = field(default_factory=list)  # instance ids of the visits


def add_household_cases(site: Site) -> HouseholdCases:
    """Add the `HouseholdCases` to a populated `Site` (inside an app context)."""
    from sqlalchemy import select

    from server.models import DuplicateCase
    from tests.integration.contract.submissions import visit

    cadre = users.find("cadre_a")
    cases = HouseholdCases()

    def send(root) -> None:
        receipt = ingest.receive_xml(to_xml(root), user=cadre)
        assert receipt.stored, receipt

    home = registration(head_name="Lường Văn Bốn", village="03325_01", head__phone="0987000111")
    send(home)
    cases.conflicted = household_id(home)
    for income in ("1300000", "1400000"):  # two cadres, offline, from version 1
        sent = visit(cases.conflicted, base_version=1, income__income_per_person=income)
        send(sent)
        cases.visits.append(instance_id(sent))

    first = registration(head_name="Cà Văn Năm", village="03325_02", head__phone="0911222333")
    twin = registration(
        head_name="Cà Văn Năm", village="03325_02", head__phone="0911222333",
        place__address="Nhà số 5",
    )  # fmt: skip
    send(first)
    send(twin)
    cases.twins = (household_id(first), household_id(twin))
    found = db.session.scalar(select(DuplicateCase).where(DuplicateCase.status == "open"))
    assert found is not None, "the twin registration opened no duplicate case"
    cases.case_id = found.id

    poor = registration(head_name="Lò Thị Sáu", village="03325_01")  # near-poor at 1.2 M
    send(poor)
    cases.exited = household_id(poor)
    better = visit(
        cases.exited,
        base_version=1,
        income__income_per_person="4500000",
        support_given="yes",
        support__support_kind="livestock",
        support__support_quantity="2",
        support__support_value="6000000",
        support__support_source="business",
        support__support_giver="Ngân hàng Chính sách xã hội",
    )
    send(better)
    cases.visits.append(instance_id(better))
    db.session.commit()
    site.cases = cases
    return cases


def populate_full_site() -> Site:
    """`populate_site` with the `HouseholdCases` (inside an app context)."""
    site = populate_site()
    add_household_cases(site)
    return site


def matrix_form(make, **options):
    """`matrix_request` for a form made afresh for every call by `make(out)` (files are read
    once, names must be new): the REQUEST_PARTS of the administration pages."""

    def parts(role: str, out, probe_id: str, site: dict) -> dict:
        return matrix_request(make(out), **options)(role, out, probe_id, site)

    return parts


@dataclass
class AdminCases:
    """What the administration pages act on, in commune A: cadre_a and their tablet, a village,
    an agency assigned to the commune, a pair of a household with cadre_a, and a form of the
    commune's own (published)."""

    cadre_id: int = 0
    device_id: int = 0
    village_id: int = 0
    province_id: int = 0
    agency_id: int = 0
    assignment_id: int = 0
    pair_id: int = 0
    form_id: str = "commune_a_visit"
    support_id: int = 0  # capital lent to a household of commune A (shown, repaid)
    void_id: int = 0  # works given to commune A, to void
    kind_id: int = 0  # a kind of the support catalogue (the admins' to rename)
    job_id: int = 0  # official_a's export of the households, made (its file kept)
    flag_id: int = 0  # a monitoring flag on commune A's first submission (issue 16)
    stay_id: int = 0  # a stay of the agency in commune A, to void


COMMUNE_FORM = """
| survey   |
|          | type    | name | label::Tiếng Việt (vi) |
|          | text    | head | Chủ hộ                 |
| settings |
|          | form_id         | version   | form_title            |
|          | commune_a_visit | {version} | Thăm hộ xã Mường Phăng |
"""


def commune_form(version: str = "1") -> bytes:
    return COMMUNE_FORM.format(version=version).encode("utf-8")


def add_admin_cases(site: Site) -> AdminCases:
    """Add the `AdminCases` to a populated `Site` (inside an app context)."""
    from server.models import AdminUnit, Device, Household
    from server.services.forms import publishing
    from server.services.programme import agencies, pairs

    cases = AdminCases()
    cadre = users.find("cadre_a")
    cases.cadre_id = cadre.id
    cases.device_id = db.session.scalar(
        sa.select(Device.id).where(Device.user_id == cadre.id, Device.revoked_at.is_(None))
    )
    cases.village_id = admin_units.find(site.places.village_a1).id
    commune = db.session.get(AdminUnit, site.commune_a_id)
    province = admin_units.find(site.places.province)
    cases.province_id = province.id
    agency = agencies.create_agency("DB-SNN", "Sở Nông nghiệp Điện Biên", home_unit=province)
    cases.agency_id = agency.id
    cases.assignment_id = agencies.assign(agency, commune, "poor", phase="2026-2030").id
    household = db.session.get(Household, site.households_a[0])
    cases.pair_id = pairs.pair(household, cadre, priority=1).id
    uploaded = publishing.upload(commune_form(), "commune_a_visit.md", None, commune).version
    publishing.publish(None, cases.form_id, uploaded.version)
    db.session.commit()
    _support_and_export(cases, household, commune)
    from tests.integration.monitoring.view_cases import agency_stay, clear_monitoring, flag_visit

    clear_monitoring()  # the view's tests count hand-made evidence, not ingest's
    cases.flag_id = flag_visit(site.a[0], household_id=household.id).id
    cases.stay_id = agency_stay(cases.agency_id, commune.id)
    site.admin = cases
    return cases


def _support_and_export(cases: AdminCases, household, commune) -> None:
    """Commune A's ledger (a loan to its household, works given to the commune) and an export
    official_a asked for, made to the end."""
    from server.models import ExportJob, ExportStatus
    from server.services.programme import ledger
    from server.services.reports import jobs
    from server.services.reports.exports import ExportRequest

    ledger.load_catalogue()
    works = ledger.get_kind("works")
    cases.support_id = ledger.record(
        None, ledger.get_kind("loan_capital"), ledger.recipient(household), value_vnd=5_000_000
    ).id
    cases.void_id = ledger.record(None, works, ledger.recipient(unit=commune), quantity=1,
                                  value_vnd=1).id  # fmt: skip
    cases.kind_id = works.id
    job = jobs.create(users.find("official_a"), ExportRequest.parse("households", "csv", {}))
    jobs.run(job.id)
    done = db.session.get(ExportJob, job.id)
    assert done.status == ExportStatus.DONE and done.storage_path, done.error
    cases.job_id = job.id
