"""Property-based: the scope filters with literal id lists (issue 19) select exactly what the
recursive subqueries they replaced selected, on random unit trees, assignments, households
and pairs; and a change to a scope inside one transaction is seen by the next filter."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import aliased

from server.db import db
from server.models import (
    AdminUnit,
    Form,
    FormVersion,
    Household,
    Pair,
    Role,
    Submission,
    UnitLevel,
    User,
)
from server.models.people import user_scope
from server.services.access import scope


def _old_units(user: User) -> sa.Select:
    """The units below the user's, as the recursive CTE the filters used to embed."""
    roots = sa.select(user_scope.c.unit_id).where(user_scope.c.user_id == user.id)
    tree = sa.select(AdminUnit.id).where(AdminUnit.id.in_(roots)).cte(recursive=True)
    child = aliased(AdminUnit)
    return sa.select(tree.union(sa.select(child.id).where(child.parent_id == tree.c.id)).c.id)


def _old_households(user: User) -> sa.ColumnElement[bool]:
    ids = _old_units(user)
    return sa.or_(
        Household.village_id.in_(ids),
        Household.commune_id.in_(ids),
        Household.id.in_(scope.paired_household_ids(user)),
    )


def _old_submissions(user: User) -> sa.ColumnElement[bool]:
    ids = _old_units(user)
    if user.role == Role.CADRE:
        return sa.or_(Submission.village_id.in_(ids), Submission.submitter_id == user.id)
    return sa.or_(
        Submission.commune_id.in_(ids), Submission.village_id.in_(ids), scope.unplaced_from(ids)
    )


@st.composite
def worlds(draw):
    """A tree of 1-3 districts, each with 1-3 communes of 0-3 villages; 0-25 households each
    placed in a village (with its commune) or a commune only; 0-4 units assigned; 0-3 pairs."""
    districts = draw(
        st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=3), min_size=1, max_size=3)
    )
    units = [("p", None, UnitLevel.PROVINCE)]
    for d, communes in enumerate(districts):
        units.append((f"p/{d}", "p", UnitLevel.DISTRICT))
        for c, villages in enumerate(communes):
            units.append((f"p/{d}/{c}", f"p/{d}", UnitLevel.COMMUNE))
            units += [(f"p/{d}/{c}/{v}", f"p/{d}/{c}", UnitLevel.VILLAGE) for v in range(villages)]
    places = [u for u in units if u[2] in (UnitLevel.COMMUNE, UnitLevel.VILLAGE)]
    homes = draw(st.lists(st.sampled_from(places), max_size=25))
    assigned = draw(st.sets(st.sampled_from([u[0] for u in units]), max_size=4))
    paired = draw(st.sets(st.integers(0, max(0, len(homes) - 1)), max_size=3)) if homes else set()
    role = draw(st.sampled_from([Role.CADRE, Role.COMMUNE_OFFICIAL, Role.COORDINATOR]))
    return units, homes, assigned, paired, role


def _build(world, tag: str) -> User:
    units, homes, assigned, paired, role = world
    ids: dict[str, AdminUnit] = {}
    for path, parent, level in units:
        unit = AdminUnit(
            code=path, name=path, level=level, path=f"{tag}/{path}", parent=ids.get(parent)
        )
        db.session.add(unit)
        ids[path] = unit
    user = User(username=f"u{tag}", full_name="U", role=role, units=[ids[p] for p in assigned])
    form = Form(form_id=f"f{tag}", title="F")
    version = FormVersion(form=form, version="1", title="F", md5="0" * 32, xform=b"",
                          source=b"", source_filename="f.xml")  # fmt: skip
    db.session.add_all([user, form, version])
    db.session.flush()
    households = []
    for n, (path, parent, level) in enumerate(homes):
        village = ids[path] if level == UnitLevel.VILLAGE else None
        commune = ids[parent] if village is not None else ids[path]
        home = Household(id=str(uuid.uuid4()), village_id=village and village.id,
                         commune_id=commune.id, label=str(n))  # fmt: skip
        households.append(home)
        sid = Submission(instance_id=f"uuid:{uuid.uuid4()}", root_id=home.id,
                         form_version_id=version.id, canonical_hash="0", answers={},
                         village_id=home.village_id, commune_id=home.commune_id,
                         submitter_id=user.id if n % 3 == 0 else None)  # fmt: skip
        if n % 4 == 1:  # sent from nowhere in particular: it waits where its sender works
            sid.village_id = sid.commune_id = None
        db.session.add_all([home, sid])
    db.session.flush()
    for n in paired:
        db.session.add(
            Pair(
                household_id=households[n].id, helper_user_id=user.id, starts_on=dt.date(2020, 1, 1)
            )
        )
    db.session.flush()
    return user


def _ids(stmt: sa.Select) -> set:
    return set(db.session.scalars(stmt))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(world=worlds())
def test_literal_filters_select_what_the_recursive_ones_did(ctx, world):
    try:
        user = _build(world, uuid.uuid4().hex[:8])
        assert _ids(scope.unit_ids(user)) == _ids(_old_units(user))
        new = _ids(sa.select(Household.id).where(scope.households(user)))
        assert new == _ids(sa.select(Household.id).where(_old_households(user)))
        subs = scope.submissions(user).with_only_columns(Submission.id)
        assert _ids(subs) == _ids(sa.select(Submission.id).where(_old_submissions(user)))
    finally:
        db.session.rollback()
