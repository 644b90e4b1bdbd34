"""Pairs: who helps which household, per household and per helper; create, end, reassign
(the history kept and shown), import a spreadsheet (an error per row)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for

from server.db import db
from server.models import Household
from server.models.programme import Pair
from server.problems import Problem
from server.schemas.fields import ascii_int
from server.services.paging import keyset_page
from server.services.programme import pairs as pair_service
from server.web.admin.access import (
    admin_required,
    back_on_problem,
    form_date,
    form_int,
    history,
    import_page,
    upload_file,
)
from server.web.admin.blueprint import bp
from server.web.auth import signed_in_user
from server.web.i18n import _

PAGE_SIZE = 50


def _shown(pairs: list[Pair]) -> list[dict]:
    """Pairs with their household's and helper's names, for the tables."""
    ids = {p.household_id for p in pairs}
    households = {}
    if ids:
        found = db.session.scalars(sa.select(Household).where(Household.id.in_(ids)))
        households = {h.id: h for h in found}
    rows = []
    for p in pairs:
        household = households.get(p.household_id)
        helper = pair_service.helper_of(p)
        rows.append(
            {
                "pair": p,
                "household": pair_service.household_name(household)
                if household
                else p.household_id,
                "helper": pair_service.helper_name(helper),
                "helper_ref": getattr(helper, "username", None) or helper.code,
            }
        )
    return rows


@bp.get("/pairs")
@admin_required
def pairs():
    user = signed_in_user()
    household_text = request.args.get("household", "").strip()[:100]
    helper_text = request.args.get("helper", "").strip()[:100]
    current = request.args.get("all") != "1"
    household = pair_service.find_household(user, household_text) if household_text else None
    helper = pair_service.find_helper(helper_text) if helper_text else None
    stmt = pair_service.listed(user, household=household, helper=helper, current=current)
    stmt = stmt.order_by(None)  # the page orders by id, newest first
    after = ascii_int(request.args.get("after", ""))
    page = keyset_page(stmt, Pair.id, after, PAGE_SIZE, descending=True)
    return render_template(
        "admin/pairs.html",
        rows=_shown(page.items),
        next_after=page.next_after,
        filters={"household": household_text, "helper": helper_text, "all": not current},
        household=household,
        helper=helper,
        can_pair=user.role in pair_service.PAIRERS,
    )


@bp.post("/pairs")
@admin_required
@back_on_problem
def create_pair():
    user = signed_in_user()
    household = pair_service.find_household(user, request.form.get("household", ""))
    helper = pair_service.find_helper(request.form.get("helper", ""))
    created = pair_service.pair(
        household,
        helper,
        priority=form_int("priority"),
        capacity_note=request.form.get("capacity_note", ""),
        starts_on=form_date("starts_on"),
        actor=user,
    )
    flash(
        _(
            "%(helper)s now helps %(household)s.",
            helper=pair_service.helper_name(helper),
            household=pair_service.household_name(household),
        ),
        "ok",
    )
    return redirect(url_for("web.admin.pair", pair_id=created.id))


def _chain(user, found: Pair) -> list[Pair]:
    """Every pair of the household `user` may read, oldest first: who helped it when."""
    household = db.session.get(Household, found.household_id)
    stmt = pair_service.listed(user, household=household, current=False)
    return list(reversed(list(db.session.scalars(stmt.limit(200)))))


@bp.get("/pairs/<int:pair_id>")
@admin_required
def pair(pair_id: int):
    user = signed_in_user()
    found = pair_service.readable(user, pair_id)
    chain = _chain(user, found)
    return render_template(
        "admin/pair.html",
        row=_shown([found])[0],
        chain=_shown(chain),
        running=found.ends_on is None or found.ends_on > pair_service.today(),
        can_pair=user.role in pair_service.PAIRERS,
        events=history(*chain),
    )


@bp.post("/pairs/<int:pair_id>/end")
@admin_required
@back_on_problem
def end_pair(pair_id: int):
    user = signed_in_user()
    found = pair_service.readable(user, pair_id)
    pair_service.end_pair(found, form_date("on"), request.form.get("reason", ""), actor=user)
    flash(_("The pair ends on %(day)s.", day=found.ends_on.strftime("%d/%m/%Y")), "ok")
    return redirect(url_for("web.admin.pair", pair_id=pair_id))


@bp.post("/pairs/<int:pair_id>/reassign")
@admin_required
@back_on_problem
def reassign_pair(pair_id: int):
    user = signed_in_user()
    found = pair_service.readable(user, pair_id)
    helper_text = request.form.get("helper", "")
    if not helper_text.strip():
        raise Problem("400.2", field="helper")
    helper = pair_service.find_helper(helper_text)
    new = pair_service.reassign(found, helper, user, request.form.get("reason", ""))
    flash(
        _("%(helper)s helps the household from now on.", helper=pair_service.helper_name(helper)),
        "ok",
    )
    return redirect(url_for("web.admin.pair", pair_id=new.id))


@bp.post("/pairs/import")
@admin_required
@back_on_problem
def import_pairs():
    data, filename = upload_file()
    report = pair_service.import_pairs(data, filename, signed_in_user())
    created = [(str(p.id), url_for("web.admin.pair", pair_id=p.id)) for p in report.created]
    return import_page(report, _("Import pairs"), url_for("web.admin.pairs"), created)
