"""Where a submission belongs (village and commune) and whether its sender may send it.

The shipped forms answer the place with codes: `commune` is the national
commune code ("03325") and `village` is the commune code plus the village's
code under it ("03325_01", admin unit 11/03325/01), because village codes
are only unique inside their commune. An update of a household belongs where
the household is. Places the server does not know cannot be checked, so
only an admin's submission may name one.

Every submission gets a place (`resolve`): its household's, else the one its
answers name, else its sender's only place (their one village, or the one commune
all their units are in). A form that names no place sent by someone working in
several communes has none: it waits in the queue of the sender's units
(`scope.submissions`), never nowhere. A cadre may also send updates for the
households paired with them, wherever those are (`paired_households`).

The checks answer exactly what `server.services.access.scope` answers in SQL (a
test holds them together), but from each unit's chain of ancestors kept in
memory: a submission is checked on every OpenRosa POST, and the recursive
queries of the scope service cost more than the rest of ingest together.
A unit never moves to another parent and is never deleted (foreign keys
restrict it), so a unit's ancestry can be kept for the life of the app (in
`app.extensions`, so a new app, as each test builds, starts empty); only
names may go stale, and they only appear in messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from forms.tree import Node
from server.db import db
from server.models import AdminUnit, Household, Role, UnitLevel, User
from server.problems import Problem
from server.services import txcache
from server.services.access import auth, scope
from server.services.forms.loaded import LoadedForm
from server.services.memory import memory


@dataclass(frozen=True)
class Place:
    """The admin units a submission belongs to; `unknown` when its codes match no unit."""

    village_id: int | None = None
    commune_id: int | None = None
    name: str = ""
    unknown: bool = False
    household_id: str | None = None  # when the place is an existing household's
    codes: str = ""  # the codes the answers gave, when they match no unit (`unknown`)

    @property
    def unit_id(self) -> int | None:
        """The most precise unit: what scopes the record and its changes."""
        return self.village_id or self.commune_id


NOWHERE = Place()


# -- the place of a submission ---------------------------------------------------------


def _answer(root: Node, path: str | None) -> str:
    if path is None or path.count("/") < 2:
        return ""
    node = root.find(path.split("/", 2)[2])
    return node.text.strip() if node is not None and not node.children else ""


def of_answers(form: LoadedForm, root: Node) -> Place:
    """The place the answers name (village, else commune); NOWHERE when they name none."""
    commune = _answer(root, form.commune_path)
    village = _answer(root, form.village_path)
    if not commune and not village:
        return NOWHERE
    if village and "_" in village:
        prefix, _, code = village.rpartition("_")
        commune = commune or prefix
    else:
        code = village
    # (commune code, village code) -> Place, only for places that exist
    found = memory("places").get((commune, code), lambda: _lookup(commune, code))
    if found is None:
        codes = ", ".join(c for c in (village, commune) if c)
        named = [_label(form, form.village_path, village), _label(form, form.commune_path, commune)]
        return Place(name=", ".join(n for n in named if n) or codes, unknown=True, codes=codes)
    return found


def _label(form: LoadedForm, path: str | None, value: str) -> str:
    """The label the form gives option `value` of the question at `path` ("" when none)."""
    field = form.model.field(path) if path and value else None
    if field is None or field.choices is None:
        return ""
    for choice in field.choices.items:
        if choice.name == value:
            return choice.label.get("vi")
    return ""


def _lookup(commune_code: str, village_code: str) -> Place | None:
    commune = db.session.execute(
        sa.select(AdminUnit.id, AdminUnit.name).where(
            AdminUnit.level == UnitLevel.COMMUNE, AdminUnit.code == commune_code
        )
    ).first()
    if commune is None:
        return None
    if not village_code:
        return Place(commune_id=commune.id, name=commune.name)
    village = db.session.execute(
        sa.select(AdminUnit.id, AdminUnit.name).where(
            AdminUnit.level == UnitLevel.VILLAGE,
            AdminUnit.parent_id == commune.id,
            AdminUnit.code == village_code,
        )
    ).first()
    if village is None:
        return None
    return Place(village.id, commune.id, f"{village.name}, {commune.name}")


def of_household(household: Household) -> Place:
    """The place of an existing household (what an update belongs to).

    Named by its village and commune, never by the household: the name may go
    back to someone outside the household's area.
    """
    ids = [i for i in (household.village_id, household.commune_id) if i is not None]
    name = ", ".join(unit_name(i) for i in ids)
    return Place(household.village_id, household.commune_id, name, household_id=household.id)


def of_submitter(user: User) -> Place:
    """The place of a record whose form names none: the sender's one village, else the one
    commune every unit of theirs is in; NOWHERE when they work in several communes or above
    one (the record then waits in the queue of every unit of theirs)."""
    units = assigned_units(user)
    communes = set()
    for unit in units:
        level = unit_level(unit)
        if level == UnitLevel.VILLAGE:
            communes.add(ancestry(unit)[1] if len(ancestry(unit)) > 1 else None)
        elif level == UnitLevel.COMMUNE:
            communes.add(unit)
        else:
            return NOWHERE
    if len(communes) != 1 or None in communes:
        return NOWHERE
    (commune,) = communes
    if len(units) == 1 and commune not in units:
        (village,) = units
        return Place(village, commune, f"{unit_name(village)}, {unit_name(commune)}")
    return Place(commune_id=commune, name=unit_name(commune))


def resolve(form: LoadedForm, root: Node, household: Household | None, user: User) -> Place:
    """Where a submission belongs: its household's place, else the place its answers
    name, else its sender's (`of_submitter`)."""
    if household is not None:
        return of_household(household)
    place = of_answers(form, root)
    if place.unit_id is None and not place.unknown:
        return of_submitter(user)
    return place


def unit_level(unit_id: int) -> UnitLevel:
    """The level of an admin unit (remembered: a unit never changes level)."""

    def read() -> UnitLevel:
        return db.session.scalar(sa.select(AdminUnit.level).where(AdminUnit.id == unit_id))

    return memory("unit_levels").get(unit_id, read)


def unit_name(unit_id: int) -> str:
    """The name of an admin unit (remembered: names only appear in messages)."""

    def read() -> str:
        return db.session.scalar(sa.select(AdminUnit.name).where(AdminUnit.id == unit_id)) or ""

    return memory("unit_names").get(unit_id, read)


# -- the places a form offers ------------------------------------------------------------

#: The list of places a form may read (`csv-external places`): generated per user, not uploaded.
PLACE_LIST = "places.csv"


def place_list(user: User) -> bytes:
    """The CSV of the places `user` may register in, as the shipped forms answer them: their
    villages ("<commune code>_<village code>"), the communes and provinces those are in, and
    every commune and village below the units they work in. Empty (only the header) for an
    administrator: the form then offers every place it has."""
    out = ["name"]
    ids = scope.readable_unit_ids(user)
    if ids is not None:
        parent = aliased(AdminUnit)
        stmt = (
            sa.select(AdminUnit.level, AdminUnit.code, parent.code)
            .outerjoin(parent, parent.id == AdminUnit.parent_id)
            .where(
                AdminUnit.id.in_(ids),
                AdminUnit.level.in_([UnitLevel.PROVINCE, UnitLevel.COMMUNE, UnitLevel.VILLAGE]),
            )
        )
        codes = set()
        for level, code, parent_code in db.session.execute(stmt):
            codes.add(f"{parent_code}_{code}" if level == UnitLevel.VILLAGE else code)
        out += sorted(codes)
    return ("\n".join(out) + "\n").encode("utf-8")


# -- who may send what -------------------------------------------------------------------


def refusal(place: Place) -> Problem:
    """Why a record for `place` is refused, naming the place (never codes alone): outside
    the sender's area (403.3), or a place the server does not know (403.30)."""
    if place.unknown:
        return Problem("403.30", what=place.name, codes=place.codes)
    return Problem("403.3", what=place.name)


def ancestry(unit_id: int) -> tuple[int, ...]:
    """`unit_id` and the ids of every unit above it, nearest first."""
    return memory("ancestry").get(unit_id, lambda: _read_ancestry(unit_id))


def _read_ancestry(unit_id: int) -> tuple[int, ...]:
    parent = db.session.scalar(sa.select(AdminUnit.parent_id).where(AdminUnit.id == unit_id))
    return (unit_id, *(ancestry(parent) if parent is not None else ()))


def assigned_units(user: User) -> frozenset[int]:
    """The units assigned to `user` (their scope is these and everything below)."""

    def read() -> frozenset[int]:
        found = auth.scope_units(user)  # read with the device token, usually
        if user.role == Role.AGENCY_LEAD:  # and their agency's units (`scope._assigned`)
            found |= frozenset(db.session.scalars(scope.agency_unit_ids(user)))
        return found

    return txcache.remember(("assigned", user.id), read)


def paired_households(user: User) -> frozenset[str]:
    """The households paired with `user` or their team today (`scope.paired_household_ids`)."""

    def read() -> frozenset[str]:
        return frozenset(db.session.scalars(scope.paired_household_ids(user)))

    return txcache.remember(("paired", user.id), read)


def allowed(user: User, place: Place) -> bool:
    """Whether `user` may send a record for `place`; nowhere in particular is allowed.

    Same answer as `scope.in_scope` on the village; a record that names only
    a commune is also allowed to a cadre working in one of its villages, and an
    update of a household paired with the sender is allowed wherever it is.
    """
    if scope.is_admin(user) or (place.unit_id is None and not place.unknown):
        return True
    if place.unknown:
        return False
    units = assigned_units(user)
    if place.village_id is not None:
        inside = not units.isdisjoint(ancestry(place.village_id))
    else:
        commune = place.commune_id
        inside = not units.isdisjoint(ancestry(commune)) or any(
            commune in ancestry(unit) for unit in units
        )
    if inside or place.household_id is None:
        return inside
    return place.household_id in paired_households(user)  # read only when it matters


def form_visible(user: User, form_unit_id: int | None) -> bool:
    """Whether `user` may see a published form bound to `form_unit_id` (as `scope.forms`)."""
    if scope.is_admin(user) or form_unit_id is None:
        return True
    units = assigned_units(user)
    above_or_at = ancestry(form_unit_id)  # the form's unit is inside one of the user's units
    return not units.isdisjoint(above_or_at) or any(
        form_unit_id in ancestry(unit)
        for unit in units  # or above one of them
    )


def may_submit(user: User, form: LoadedForm) -> bool:
    """Whether `user` may send submissions to this form version (they can see it)."""
    return form_visible(user, form.unit_id)
