"""A small programme for the programme tests: Điện Biên's two communes with villages, the
people who manage them, an agency with a team, and households in each commune."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from server.db import db
from server.models import Household, Role, User
from server.models.programme import Agency, AgencyKind
from server.services.access import users
from server.services.programme import agencies
from server.services.programme import units as admin_units
from tests.integration.helpers import PASSWORD


@dataclass
class Programme:
    admin: User
    coordinator: User  # province 11
    official_a: User  # commune 11/03325
    official_b: User  # commune 11/03316
    lead: User  # agency lead of `agency`
    cadre: User  # a cadre of commune A, member of `agency`
    cadre_b: User  # a cadre of commune B, no agency
    outsider: User  # coordinator of another province (12)
    agency: Agency  # the provincial agency (home unit 11)
    team: Agency  # its team
    household_a: Household  # in village 11/03325/01
    household_a2: Household  # in village 11/03325/02
    household_b: Household  # in village 11/03316/01


def household(village_path: str, label: str, code: str | None = None) -> Household:
    village = admin_units.find(village_path)
    found = Household(
        id=str(uuid.uuid4()),
        label=label,
        properties={"head_name": label, "household_code": code or ""},
        village_id=village.id,
        commune_id=village.parent_id,
    )
    db.session.add(found)
    db.session.commit()
    return found


def user(username: str, role: Role, *paths: str, agency: Agency | None = None) -> User:
    units = [admin_units.find(p) for p in paths]
    made = users.create_user(username, username.replace(".", " ").title(), role, PASSWORD, units)
    if agency is not None:
        made.agency_id = agency.id
        db.session.commit()
    return made


def build() -> Programme:
    """The programme, in the caller's application context."""
    for commune in admin_units.import_province("11", ["03325", "03316"]).communes:
        admin_units.add_village(commune, "Bản Một", kind="Bản")
        admin_units.add_village(commune, "Bản Hai", kind="Bản")
    admin_units.import_province("12", ["03390"])
    province = admin_units.find("11")
    agency = agencies.create_agency("SYT", "Sở Y tế", home_unit=province)
    team = agencies.create_agency(
        "SYT-T1", "Tổ công tác số 1", kind=AgencyKind.TEAM, parent=agency, home_unit=province
    )
    lead = user("lead", Role.AGENCY_LEAD, agency=agency)
    agencies.update_agency(agency, actor=None, lead=lead)
    return Programme(
        admin=user("admin", Role.ADMIN),
        coordinator=user("coordinator", Role.COORDINATOR, "11"),
        official_a=user("official.a", Role.COMMUNE_OFFICIAL, "11/03325"),
        official_b=user("official.b", Role.COMMUNE_OFFICIAL, "11/03316"),
        lead=lead,
        cadre=user("cadre", Role.CADRE, "11/03325/01", agency=agency),
        cadre_b=user("cadre.b", Role.CADRE, "11/03316/01"),
        outsider=user("outsider", Role.COORDINATOR, "12"),
        agency=agency,
        team=team,
        household_a=household("11/03325/01", "Lò Văn Một", "MP-001"),
        household_a2=household("11/03325/02", "Lò Thị Hai", "MP-002"),
        household_b=household("11/03316/01", "Quàng Văn Ba", "NT-001"),
    )
