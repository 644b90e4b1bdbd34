"""Where a submission belongs (village and commune) and whether its sender may send it.

The shipped forms answer the place with codes: `commune` is the national
commune code ("03325") and `village` is the commune code plus the village's
code under it ("03325_01", admin unit 11/03325/01), because village codes
are only unique inside their commune. An update of a household belongs where
the household is. Places the server does not know cannot be checked, so
only an admin's submission may name one.

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

from forms.tree import Node
from server.db import db
from server.models import AdminUnit, Household, UnitLevel, User
from server.models.people import user_scope
from server.services import txcache
from server.services.access import scope
from server.services.forms.loaded import LoadedForm
from server.services.memory import memory


@dataclass(frozen=True)
class Place:
    """The admin units a submission belongs to; `unknown` when its codes match no unit."""

    village_id: int | None = None
    commune_id: int | None = None
    name: str = ""
    unknown: bool = False

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
        return Place(name=", ".join(c for c in (village, commune) if c), unknown=True)
    return found


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
    return Place(household.village_id, household.commune_id, name)


def unit_name(unit_id: int) -> str:
    """The name of an admin unit (remembered: names only appear in messages)."""

    def read() -> str:
        return db.session.scalar(sa.select(AdminUnit.name).where(AdminUnit.id == unit_id)) or ""

    return memory("unit_names").get(unit_id, read)


# -- who may send what -------------------------------------------------------------------


def ancestry(unit_id: int) -> tuple[int, ...]:
    """`unit_id` and the ids of every unit above it, nearest first."""
    return memory("ancestry").get(unit_id, lambda: _read_ancestry(unit_id))


def _read_ancestry(unit_id: int) -> tuple[int, ...]:
    parent = db.session.scalar(sa.select(AdminUnit.parent_id).where(AdminUnit.id == unit_id))
    return (unit_id, *(ancestry(parent) if parent is not None else ()))


_ASSIGNED = sa.select(user_scope.c.unit_id).where(user_scope.c.user_id == sa.bindparam("user_id"))


def assigned_units(user: User) -> frozenset[int]:
    """The units assigned to `user` (their scope is these and everything below)."""

    def read() -> frozenset[int]:
        rows = db.session.connection().execute(_ASSIGNED, {"user_id": user.id})
        return frozenset(rows.scalars())

    return txcache.remember(("assigned", user.id), read)


def allowed(user: User, place: Place) -> bool:
    """Whether `user` may send a record for `place`; nowhere in particular is allowed.

    Same answer as `scope.in_scope` on the village; a record that names only
    a commune is also allowed to a cadre working in one of its villages.
    """
    if scope.is_admin(user) or (place.unit_id is None and not place.unknown):
        return True
    if place.unknown:
        return False
    units = assigned_units(user)
    if place.village_id is not None:
        return not units.isdisjoint(ancestry(place.village_id))
    commune = place.commune_id
    return not units.isdisjoint(ancestry(commune)) or any(
        commune in ancestry(unit) for unit in units
    )


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
