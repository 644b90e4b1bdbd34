"""Token-visit monitoring: the overview, the flags, one flag with its evidence, and a person's
judgement (confirm, dismiss, reopen with a comment). Everyone but cadres, inside their scope
(`server.services.monitoring.view`); judges are the reviewers."""

from __future__ import annotations

from flask import Blueprint, request

from server.api import params
from server.api import programme as lookups
from server.api.auth import current_user, login_required
from server.models.monitoring import MonitoringFlag, VisitEvidence
from server.problems import Problem
from server.schemas.monitoring import (
    AgencyVisitCreateSchema,
    AgencyVisitPageSchema,
    AgencyVisitQuerySchema,
    AgencyVisitSchema,
    DecisionSchema,
    FlagDetailSchema,
    FlagPageSchema,
    FlagQuerySchema,
    OverviewQuerySchema,
    OverviewSchema,
    PlanCreateSchema,
    PlanListSchema,
    PlanQuerySchema,
)
from server.schemas.support import VoidSchema
from server.services.monitoring import agency_visits, decisions, view
from server.services.programme import agencies, today
from server.services.reports.periods import Period

bp = Blueprint("monitoring", __name__)
_ID = "<int(max=9223372036854775807):flag_id>"


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "vi"


def _args(schema) -> dict[str, str]:
    params.load(schema, request.args.to_dict())
    return {k: v for k, v in request.args.items() if v.strip()}


def shown(flag: MonitoringFlag, lang: str, instance_id: str | None = None) -> dict:
    return {
        "id": flag.id,
        "check": flag.check,
        "title": view.title(flag.check, lang),
        "reason": view.reason(flag, lang),
        "subject": flag.subject.value,
        "state": flag.state.value,
        "observed_on": flag.observed_on,
        "params": flag.params,
        "commune_id": flag.commune_id,
        "user_id": flag.user_id,
        "agency_id": flag.agency_id,
        "household_id": flag.household_id,
        "submission": instance_id,
        "comment": flag.comment,
        "decided_by_id": flag.decided_by_id,
        "decided_at": flag.decided_at,
    }


def _evidence(e: VisitEvidence | None, submission=None) -> dict | None:
    if e is None:
        return None
    names = ("started_at", "ended_at", "received_at", "duration_seconds", "form_seconds")
    names += ("clock_offset_seconds", "latitude", "longitude", "accuracy_m", "distance_m")
    out = {n: getattr(e, n) for n in names}
    return out | {"submission": submission.instance_id if submission is not None else None}


@bp.get("/monitoring")
@login_required()
def show_overview():
    """Visits, flagged visits, flags per check and per state, per commune, agency or cadre
    (`group`), in a period (year, phase or from/to); and the trend by month."""
    args = _args(OverviewQuerySchema())
    lang = _lang()
    found = view.overview(current_user(), Period.parse(args, today()), args.get("group", "commune"))
    p = found.period
    return OverviewSchema().dump(
        {
            "period": {"label": p.label, "start": p.start.isoformat(), "end": p.end.isoformat()},
            "group": found.group,
            "checks": [{"code": c, "title": view.title(c, lang)} for c in found.checks],
            "rows": [
                {
                    "id": r.key,
                    "name": r.name,
                    "visits": r.visits,
                    "flagged": r.flagged,
                    "flagged_rate": r.flagged_rate,
                    "by_check": r.by_check,
                    "states": r.states,
                }
                for r in found.rows
            ],
            "months": [{"month": m, "visits": v, "flagged": f} for m, v, f in found.months],
        }
    )


@bp.get("/monitoring/flags")
@login_required()
def list_flags():
    """The flags the caller may read, newest first, paged; filters `check`, `state`,
    `commune`, `cadre`, `agency`, `month`."""
    args = _args(FlagQuerySchema())
    after = view.parse_id(args, "after")
    limit = view.parse_id(args, "limit") or 50
    page = view.flags(current_user(), view.FlagFilter.parse(args), after, limit)
    lang = _lang()
    return FlagPageSchema().dump(
        {
            "flags": [shown(f, lang) for f in page.items],
            "next_after": None if page.next_after is None else str(page.next_after),
        }
    )


def _detail(flag_id: int) -> dict:
    page = view.flag_page(current_user(), flag_id)
    lang = _lang()
    instance = page.submission.instance_id if page.submission is not None else None
    return shown(page.flag, lang, instance) | {
        "evidence": _evidence(page.evidence, page.submission),
        "previous_visit": _evidence(page.previous, page.previous_submission),
        "compared": [
            {"name": c.name, "now": c.now, "before": c.before, "same": c.same}
            for c in page.compared
        ],
        "run": [_evidence(e, s) for e, s in page.run],
    }


@bp.get(f"/monitoring/flags/{_ID}")
@login_required()
def show_flag(flag_id: int):
    """One flag with its evidence: the visit's times, time in the form, location and distance,
    clock offset; the previous visit's answers compared (copied); the run's other visits."""
    return FlagDetailSchema().dump(_detail(flag_id))


@bp.post(f"/monitoring/flags/{_ID}/decision")
@login_required()
def decide_flag(flag_id: int):
    """Confirm or dismiss an open flag, or reopen a decided one, with a `comment` (audited)."""
    body = params.load(DecisionSchema(), request.get_json(silent=True))
    if body["decision"] == "reopen":
        decisions.reopen(current_user(), flag_id, body["comment"])
    else:
        decisions.decide(current_user(), flag_id, body["decision"], body["comment"])
    return FlagDetailSchema().dump(_detail(flag_id))


# -- agency stays and their plan ---------------------------------------------------------------


def _stay(v) -> dict:
    return {k: getattr(v, k) for k in AgencyVisitSchema().fields}


def _year(args: dict[str, str]) -> int | None:
    year = view.parse_id(args, "year")
    if year is not None and not 2000 <= year <= 2100:
        raise Problem("400.88", field="year", reason="give a year like 2026")
    return year


@bp.get("/monitoring/agency-visits")
@login_required()
def list_agency_visits():
    """Agency stays in the caller's communes or of their agency, newest first, paged; filters
    `agency`, `commune` (ids) and `year`."""
    args = _args(AgencyVisitQuerySchema())
    page = agency_visits.listed(
        current_user(),
        view.parse_id(args, "agency"),
        view.parse_id(args, "commune"),
        _year(args),
        view.parse_id(args, "after"),
        view.parse_id(args, "limit") or 50,
    )
    return AgencyVisitPageSchema().dump(
        {
            "visits": [_stay(v) for v in page.items],
            "next_after": None if page.next_after is None else str(page.next_after),
        }
    )


@bp.post("/monitoring/agency-visits")
@login_required()
def record_agency_visit():
    """Record a stay of `agency` in `commune` (date, days, people, names, purpose, result,
    planned): 201."""
    body = params.load(AgencyVisitCreateSchema(), request.get_json(silent=True))
    stay = agency_visits.Stay(
        body["visited_on"], body["days"], body["people"], body["purpose"],
        body.get("names"), body.get("result"), body["planned"],
    )  # fmt: skip
    user, commune = current_user(), lookups.unit(body["commune"])
    made = agency_visits.record(user, agencies.visible(user, body["agency"]), commune, stay)
    return AgencyVisitSchema().dump(_stay(made)), 201


@bp.post("/monitoring/agency-visits/<int(max=9223372036854775807):visit_id>/void")
@login_required()
def void_agency_visit(visit_id: int):
    """Void a stay with a `reason`: it stops counting against the plan; the row stays."""
    body = params.load(VoidSchema(), request.get_json(silent=True))
    return AgencyVisitSchema().dump(
        _stay(agency_visits.void(current_user(), visit_id, body["reason"]))
    )


@bp.get("/monitoring/agency-plans")
@login_required()
def list_agency_plans():
    """The year's plans (`year`, this year by default) with the stays done against each."""
    args = _args(PlanQuerySchema())
    year = _year(args) or today().year
    user = current_user()
    done = agency_visits.done(user, year)
    return PlanListSchema().dump(
        {"plans": [_plan(p, done) for p in agency_visits.plans(user, year)]}
    )


def _plan(p, done: dict) -> dict:
    stays, days = done.get((p.agency_id, p.commune_id), (0, 0.0))
    names = ("id", "agency_id", "commune_id", "year", "visits_planned", "days_planned", "note")
    return {k: getattr(p, k) for k in names} | {"stays": stays, "days": days}


@bp.post("/monitoring/agency-plans")
@login_required()
def set_agency_plan():
    """Set how often and how long `agency` plans to stay in `commune` in `year`: 201."""
    body = params.load(PlanCreateSchema(), request.get_json(silent=True))
    user = current_user()
    plan = agency_visits.set_plan(
        user, agencies.visible(user, body["agency"]), lookups.unit(body["commune"]), body["year"],
        body["visits_planned"], body["days_planned"], body.get("note"),
    )  # fmt: skip
    return PlanListSchema().dump({"plans": [_plan(plan, agency_visits.done(user, plan.year))]}), 201
