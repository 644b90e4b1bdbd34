"""The poverty review (issue 18): campaigns, their lists and steps, and the XLSX lists.

Commune officials run their commune's campaign; coordinators read their area's; a reviewer
(cadre) sees and assesses the households assigned to them (`server.services.reviews`)."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, current_app, request, send_file

from server.api import params
from server.api.auth import current_user, login_required
from server.models import ReviewCampaign, ReviewEntry, User
from server.schemas.reviews import (
    CampaignCreateSchema,
    CampaignDetailSchema,
    CampaignListSchema,
    EntryAddSchema,
    ReviewAssessSchema,
    ReviewAssignSchema,
    ReviewDecisionSchema,
    ReviewMeetingSchema,
    ReviewProposalSchema,
)
from server.services.reviews import campaigns, lists

bp = Blueprint("reviews", __name__)
_ID = "/reviews/<int:campaign_id>"


def _day(value) -> str | None:
    return value.isoformat() if value else None


def shown(campaign: ReviewCampaign) -> dict:
    return {
        "id": campaign.id, "commune_id": campaign.commune_id, "year": campaign.year,
        "kind": str(campaign.kind), "stage": str(campaign.stage),
        "opens_on": _day(campaign.opens_on), "closes_on": _day(campaign.closes_on),
        "meeting": {"date": _day(campaign.meeting_date),
                    "attendance": campaign.meeting_attendance, "note": campaign.meeting_note},
        "proposed_on": _day(campaign.proposed_on),
        "decision": {"number": campaign.decision_number, "date": _day(campaign.decision_date)},
    }  # fmt: skip


def shown_entry(entry: ReviewEntry) -> dict:
    return {
        "household_id": entry.household_id, "village_id": entry.village_id,
        "reason": str(entry.reason), "status_before": entry.status_before,
        "reviewer_id": entry.reviewer_id, "assessed_status": entry.assessed_status,
        "assessed_version": entry.assessed_version, "agreed": entry.agreed,
        "proposed_status": entry.proposed_status,
    }  # fmt: skip


def _full(user: User, campaign: ReviewCampaign) -> dict:
    return CampaignDetailSchema().dump(
        shown(campaign)
        | {
            "progress": campaigns.progress(campaign),
            "entries": [shown_entry(e) for e in campaigns.entries(user, campaign)],
        }
    )


@bp.get("/reviews")
@login_required()
def list_campaigns():
    """The review campaigns in the caller's area (a reviewer: those they review in)."""
    return CampaignListSchema().dump(
        {"campaigns": [shown(c) for c in campaigns.listed(current_user())]}
    )


@bp.post("/reviews")
@login_required()
def open_campaign():
    """Open a commune's campaign; its list is built from the households' statuses and flags."""
    body = params.load(CampaignCreateSchema(), request.get_json(silent=True))
    campaign = campaigns.open_campaign(current_user(), **body)
    return _full(current_user(), campaign), 201


@bp.get(_ID)
@login_required()
def show_campaign(campaign_id: int):
    """A campaign: its steps, progress per village and the households the caller sees."""
    user = current_user()
    return _full(user, campaigns.campaign_for(user, campaign_id))


@bp.post(f"{_ID}/households")
@login_required()
def add_household(campaign_id: int):
    """Add an applicant or a flagged household to the list."""
    body = params.load(EntryAddSchema(), request.get_json(silent=True))
    return shown_entry(campaigns.add_household(current_user(), campaign_id, **body)), 201


@bp.post(f"{_ID}/reviewers")
@login_required()
def assign_reviewer(campaign_id: int):
    """Assign a reviewer (working in the commune) to households of the list."""
    body = params.load(ReviewAssignSchema(), request.get_json(silent=True))
    return {"assigned": campaigns.assign(current_user(), campaign_id, **body)}


@bp.post(f"{_ID}/households/<household_id>/assessment")
@login_required()
def attach_assessment(campaign_id: int, household_id: str):
    """Attach the household's assessment (a submission since the campaign opened)."""
    body = params.load(ReviewAssessSchema(), request.get_json(silent=True) or {})
    entry = campaigns.attach_assessment(current_user(), campaign_id, household_id, **body)
    return shown_entry(entry)


@bp.post(f"{_ID}/meeting")
@login_required()
def record_meeting(campaign_id: int):
    """The village meeting's result: date, attendance, the households it disagreed on."""
    body = params.load(ReviewMeetingSchema(), request.get_json(silent=True))
    return shown(campaigns.record_meeting(current_user(), campaign_id, **body))


@bp.post(f"{_ID}/proposal")
@login_required()
def propose(campaign_id: int):
    """The commune's proposed list, posted on a date."""
    body = params.load(ReviewProposalSchema(), request.get_json(silent=True))
    return shown(campaigns.propose(current_user(), campaign_id, **body))


@bp.post(f"{_ID}/decision")
@login_required()
def decide(campaign_id: int):
    """The commune's decision (number, date): the households' statuses for the year."""
    body = params.load(ReviewDecisionSchema(), request.get_json(silent=True))
    return shown(campaigns.decide(current_user(), campaign_id, **body))


@bp.get(f"{_ID}/lists.xlsx")
@login_required()
def download_lists(campaign_id: int):
    """The campaign's list of households and its summary per village, as XLSX."""
    user = current_user()
    campaign = campaigns.campaign_for(user, campaign_id)
    data, name = lists.workbook(user, campaign, current_app.config.get("TIMEZONE"))
    return send_file(BytesIO(data), mimetype=lists.XLSX_TYPE, as_attachment=True,
                     download_name=name)  # fmt: skip
