"""Demo data for a laptop trial: one real province, two communes, villages, users, devices, forms.

The province and communes are real units from `vietnamadminunits` (Điện
Biên, a mountain province where the programme works); the villages and
people are invented but named the way they would be there (Thái and Hmông
names beside Kinh ones). About fifty households are registered by the
cadres with the shipped registration form, sent through ingest like any
tablet's submission, so every demo household comes from a stored
submission. The programme's structure is there too: a provincial department
(with its lead) assigned to Mường Phăng for the 2026-2030 phase, the commune's
Women's Union, and each cadre paired with the first households of their
villages in order of priority, one of them in a village that is not theirs.
Seeding only happens on an empty database.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from forms.library import REGISTRATION_FORM_ID
from server.db import db
from server.models import (
    AdminUnit,
    AgencyKind,
    AgencyLevel,
    Device,
    Form,
    FormState,
    FormVersion,
    Household,
    Pair,
    Role,
    UnitCategory,
    User,
)
from server.services import transactional
from server.services.access import auth, users
from server.services.demo import households as demo_households
from server.services.demo import monitoring as demo_monitoring
from server.services.demo import work as demo_work
from server.services.forms import loaded as form_models
from server.services.forms import publishing as forms
from server.services.programme import agencies, ledger, pairs
from server.services.programme import units as admin_units
from server.services.receiving import ingest

PROVINCE = "11"  # Tỉnh Điện Biên
VILLAGES = {
    "03325": ["Bản Phăng 1", "Bản Khá", "Bản Co Cượu", "Bản Xôm"],  # Xã Mường Phăng
    "03316": ["Bản Nà Tấu 1", "Bản Co Mỵ", "Bản Hát Lếch"],  # Xã Nà Tấu
}
# (username, full name, role, where: province, commune code or (commune code, village indexes))
PEOPLE = [
    ("quantri", "Phạm Thu Hà", Role.ADMIN, None),
    ("dieuphoi", "Trần Minh Đức", Role.COORDINATOR, PROVINCE),
    ("xa.muongphang", "Quàng Văn Thắng", Role.COMMUNE_OFFICIAL, "03325"),
    ("lo.van.hung", "Lò Văn Hùng", Role.CADRE, ("03325", [0, 1])),
    ("giang.a.su", "Giàng A Sử", Role.CADRE, ("03325", [2, 3])),
    ("nguyen.thi.hoa", "Nguyễn Thị Hoa", Role.CADRE, ("03316", [0, 1, 2])),
    ("so.nongnghiep", "Vì Văn Thành", Role.AGENCY_LEAD, None),
]
# The department the agency lead leads, helping Mường Phăng; the commune's Women's Union.
AGENCY = ("SNNMT-DB", "Sở Nông nghiệp và Môi trường tỉnh Điện Biên", "so.nongnghiep")
ORGANISATION = ("HPN-MUONGPHANG", "Hội Liên hiệp Phụ nữ xã Mường Phăng", "03325")
AGENCY_COMMUNE, AGENCY_PHASE = "03325", "2026-2030"
PAIRS_PER_CADRE = 3  # each cadre's first households, ranked 1, 2, 3
CAPACITY_NOTES = (
    "Có đất sản xuất, thiếu vốn và giống; có khả năng thoát nghèo trong 2 năm",
    "Chủ hộ ốm dài ngày, cần hỗ trợ y tế trước",
    "Có lao động trẻ, cần học nghề và việc làm",
)
DEMO_DEVICE = "Máy tính bảng demo"
DEMO_HOUSEHOLDS = 50
DEMO_RANDOM_SEED = 20261121  # the same demo households on every fresh install


@dataclass
class Login:
    """What a demo user needs to sign in: password, and for cadres a device token."""

    username: str
    full_name: str
    role: Role
    password: str | None
    token: str | None


def is_empty() -> bool:
    """Whether the database has no users yet (a fresh install)."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def _units_for(
    where, province: AdminUnit, communes: dict[str, AdminUnit], villages: dict[str, list[AdminUnit]]
) -> list[AdminUnit]:
    if where is None:
        return []
    if where == PROVINCE:
        return [province]
    if isinstance(where, str):
        return [communes[where]]
    commune, indexes = where
    return [villages[commune][i] for i in indexes]


@transactional
def seed_demo() -> bool:
    """Create the demo data on an empty database; returns False (and changes nothing) otherwise."""
    if not is_empty():
        return False
    imported = admin_units.import_province(PROVINCE, list(VILLAGES))
    communes = {unit.code: unit for unit in imported.communes}
    villages = {
        code: [admin_units.add_village(communes[code], name, kind="Bản") for name in names]
        for code, names in VILLAGES.items()
    }
    password = current_app.config["DEMO_PASSWORD"]
    tablets: dict[int, tuple[User, Device]] = {}  # village id -> the cadre working there
    for username, full_name, role, where in PEOPLE:
        units = _units_for(where, imported.province, communes, villages)
        user = users.create_user(username, full_name, role, password, units)
        if role == Role.CADRE:
            device, _ = auth.register_device(user, DEMO_DEVICE, token=auth.demo_token(username))
            tablets.update({unit.id: (user, device) for unit in units})
    forms.load_library()
    _register_households(imported.province, villages, tablets)
    _programme(imported.province, communes, tablets)
    ledger.load_catalogue()  # the migration made it; a database emptied since lacks it
    _support_visits(tablets)
    _agency_support(communes, villages)
    demo_monitoring.seed_monitoring(tablets, AGENCY[0], communes[AGENCY_COMMUNE])
    demo_work.add_review_work(tablets)
    return True


# Support the demo's visits carry (each paired household gets one set, in turn), several
# kinds and sources, so the ledger and its reports show something after `make run`.
DEMO_SUPPORT = (
    [
        {"support_kind": "cattle", "support_quantity": "1", "support_value": "15000000",
         "support_source": "agency", "support_giver": AGENCY[1]},
        {"support_kind": "rice", "support_quantity": "30", "support_value": "600000",
         "support_source": "cadre", "support_date": "2026-02-10"},
    ],
    [
        {"support_kind": "books", "support_quantity": "2", "support_value": "300000",
         "support_source": "organisation", "support_giver": ORGANISATION[1],
         "support_pupils": "2"},
        {"support_kind": "notebooks", "support_quantity": "20", "support_value": "160000",
         "support_source": "organisation", "support_giver": ORGANISATION[1],
         "support_pupils": "2"},
        {"support_kind": "bicycle", "support_quantity": "1", "support_value": "1800000",
         "support_source": "donor", "support_giver": "Nhà hảo tâm Lê Văn Bình",
         "support_pupils": "1"},
    ],
    [
        {"support_kind": "loan_capital", "support_value": "20000000",
         "support_source": "local_government", "support_giver": "UBND xã"},
        {"support_kind": "seedlings", "support_quantity": "200", "support_value": "2000000",
         "support_source": "business", "support_giver": "Công ty Cà phê Điện Biên"},
        {"support_kind": "cash", "support_value": "1000000", "support_source": "cadre",
         "support_date": "2026-01-25"},
    ],
)  # fmt: skip


def _support_visits(tablets: dict[int, tuple[User, Device]]) -> None:
    """A visit by each pair's cadre to the households they help, with support (ingest)."""
    model = demo_work.visit_model()
    if model is None:
        return  # the shipped visit form is not in this build
    devices = {user.id: (user, device) for user, device in tablets.values()}
    helped = db.session.execute(
        sa.select(Pair.household_id, Pair.helper_user_id, Household.version)
        .join(Household, Household.id == Pair.household_id)
        .where(Pair.helper_user_id.is_not(None))
        .order_by(Pair.helper_user_id, Pair.priority, Pair.household_id)
    ).all()
    for turn, (household_id, helper_id, version) in enumerate(helped):
        if helper_id not in devices:
            continue
        user, device = devices[helper_id]
        answers = demo_households.visit_answers(
            model, household_id, version, income=1_400_000 + 100_000 * turn,
            username=user.username,
        )  # fmt: skip
        answers["support_given"] = "yes"
        answers["support"] = [dict(item) for item in DEMO_SUPPORT[turn % len(DEMO_SUPPORT)]]
        xml = demo_households.to_submission_xml(model, answers)
        receipt = ingest.receive_xml(xml, user=user, device=device)
        if receipt.result != "accepted":
            raise RuntimeError(f"demo visit refused: {receipt.result} {receipt.problem}")


def _agency_support(communes: dict[str, AdminUnit], villages: dict[str, list[AdminUnit]]) -> None:
    """What the demo agency gave the commune it helps: a road, lights, a production model."""
    lead = users.find(AGENCY[2])
    commune = communes[AGENCY_COMMUNE]
    village = villages[AGENCY_COMMUNE][0]
    for code, to, quantity, value, day, description in (
        ("works", commune, 1, 850_000_000, dt.date(2026, 3, 20),
         "Đường bê tông nội bản, 1,2 km"),
        ("equipment", commune, 40, 120_000_000, dt.date(2026, 4, 2),
         "Đèn chiếu sáng năng lượng mặt trời"),
        ("production_model", village, 1, 250_000_000, dt.date(2026, 5, 15),
         "Mô hình nuôi vịt bầu theo chuỗi"),
        ("training", commune, 3, 45_000_000, dt.date(2026, 6, 10),
         "Tập huấn kỹ thuật trồng cà phê"),
    ):  # fmt: skip
        ledger.record(
            lead,
            ledger.get_kind(code),
            ledger.recipient(unit=to),
            quantity=quantity,
            value_vnd=value,
            given_on=day,
            description=description,
        )


def _programme(
    province: AdminUnit, communes: dict[str, AdminUnit], tablets: dict[int, tuple[User, Device]]
) -> None:
    """The agency, its assignment, the Women's Union and the demo pairs."""
    code, name, lead = AGENCY
    agency = agencies.create_agency(code, name, home_unit=province, lead=users.find(lead))
    users.update_user(users.find(lead), actor=None, agency=agency)
    agencies.assign(
        agency, communes[AGENCY_COMMUNE], UnitCategory.SPECIAL_DIFFICULTY, phase=AGENCY_PHASE
    )
    code, name, commune = ORGANISATION
    union = agencies.create_agency(
        code, name, AgencyKind.ORGANISATION, AgencyLevel.COMMUNE, home_unit=communes[commune]
    )
    cadres = {user.id: user for user, _ in tablets.values()}
    for cadre in cadres.values():
        village_ids = [unit.id for unit in cadre.units]
        first = db.session.scalars(
            sa.select(Household)
            .where(Household.village_id.in_(village_ids))
            .order_by(Household.label, Household.id)
            .limit(PAIRS_PER_CADRE)
        )
        for rank, household in enumerate(first, start=1):
            pairs.pair(household, cadre, rank, CAPACITY_NOTES[rank - 1])
    # A household of a village that is not Lò Văn Hùng's, helped by him (his tablet lists
    # it too), and one helped by the Women's Union.
    hung = users.find("lo.van.hung")
    unpaired = (
        sa.select(Household)
        .where(Household.id.not_in(sa.select(Pair.household_id)))
        .where(Household.commune_id == communes[AGENCY_COMMUNE].id)
        .order_by(Household.label, Household.id)
    )
    outside = db.session.scalars(
        unpaired.where(Household.village_id.not_in([u.id for u in hung.units])).limit(1)
    ).first()
    if outside is not None:
        pairs.pair(outside, hung, PAIRS_PER_CADRE + 1, CAPACITY_NOTES[0])
    helped = db.session.scalars(unpaired.limit(1)).first()
    if helped is not None:
        pairs.pair(helped, union, 1, CAPACITY_NOTES[2])


def _register_households(
    province: AdminUnit,
    villages: dict[str, list[AdminUnit]],
    tablets: dict[int, tuple[User, Device]],
) -> None:
    """Register the demo households: each by the cadre of its village, through ingest."""
    version_id = db.session.scalar(
        sa.select(FormVersion.id)
        .join(Form)
        .where(Form.form_id == REGISTRATION_FORM_ID, FormVersion.state == FormState.PUBLISHED)
        .order_by(FormVersion.id.desc())
    )
    if version_id is None:
        return  # the shipped registration form is not in this build
    model = form_models.loaded(version_id).model
    by_code = {
        f"{commune}_{village.code}": village
        for commune, units in villages.items()
        for village in units
    }
    places = [(province.code, code.split("_")[0], code) for code in sorted(by_code)]
    rng = random.Random(DEMO_RANDOM_SEED)
    for household in demo_households.generate(rng, places, DEMO_HOUSEHOLDS):
        user, device = tablets[by_code[household.village].id]
        answers = demo_households.registration_answers(
            model, household, username=user.username, rng=rng
        )
        xml = demo_households.to_submission_xml(model, answers)
        receipt = ingest.receive_xml(xml, user=user, device=device)
        if receipt.result != "accepted":
            raise RuntimeError(f"demo registration refused: {receipt.result} {receipt.problem}")


def demo_logins() -> list[Login]:
    """The demo users still present, with the demo password and token where they still work.

    A password or token somebody changed or revoked is reported as None,
    so `run` never prints a credential that does not work.
    """
    password = current_app.config["DEMO_PASSWORD"]
    logins = []
    for username, _name, role, _where in PEOPLE:
        user = users.find(username)
        if user is None:
            continue
        token = auth.demo_token(username) if role == Role.CADRE else None
        if token is not None:
            device = db.session.scalar(
                sa.select(Device).where(Device.token_hash == auth.token_hash(token))
            )
            token = token if device is not None and device.revoked_at is None else None
        logins.append(
            Login(
                username,
                user.full_name,
                user.role,
                password if auth.verify_password(user.password_hash, password) else None,
                token,
            )
        )
    return logins
