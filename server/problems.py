"""The problem catalogue: every error giupho can answer with, numbered like ODK Central's.

A code is `<HTTP status>.<n>`; the number after the dot is stable once
published, so clients and tests may rely on it. Each entry has one English
message template, its gettext message id: its Vietnamese is in the server's
catalogue (`server/translations/vi/LC_MESSAGES/messages.po`, see
`server.i18n`). Messages are written for the person who will read them (a
cadre in Collect, a form author, an operator) and say what to do.

Raise `Problem("404.2", form_id=..., version=...)` anywhere below the HTTP
layer; each protocol renders it in its own shape (JSON for the API, the
OpenRosa XML envelope for Collect, an HTML page for the browser), in the
language it names: `message(lang)` reads the catalogue of `lang`, not the
request's, so it also works outside any request.

A param with words of its own is translated too when it is marked with
`N_` from this module: `Problem("409.10", what=N_("Duplicate case %(case_id)s"),
case_id=7, state=N_("merged"), action=N_("merged"))` renders the words in the
message's language, formatted with the problem's params. Older callers pass
their own Vietnamese as `<name>_vi` (`reason=..., reason_vi=...`): the
Vietnamese message uses it in place of `<name>`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from server import i18n
from server.i18n import N_, Words

__all__ = ["CATALOGUE", "N_", "Problem", "ProblemType", "Words", "placeholders", "render"]


@dataclass(frozen=True)
class ProblemType:
    code: str
    status: int
    message: str  # the English template and message id, with %(name)s placeholders

    @property
    def message_vi(self) -> str:
        """The Vietnamese template, from the catalogue."""
        return i18n.gettext(self.message, "vi")


# Issue 15 and 17 add their problems in these blocks (each its own, so work done side by side
# merges without a conflict).

# -- support ledger: 400.40-49, 403.40-44, 404.40-44, 409.40-44
_LEDGER: tuple[ProblemType, ...] = (
    ProblemType(
        "400.40",
        400,
        N_("The kind of support '%(kind)s' is no longer used: choose another from the catalogue."),
    ),
    ProblemType(
        "400.41", 400, N_("The quantity %(quantity)s is not valid: it must be more than 0.")
    ),
    ProblemType("400.42", 400, N_("The value %(value)s is not valid: it cannot be negative.")),
    ProblemType(
        "400.43",
        400,
        N_("The date %(date)s is not valid: give a date from 2000-01-01 to today (%(today)s)."),
    ),
    ProblemType(
        "400.44",
        400,
        N_("Support goes to a household, a commune or a village: %(given)s is none of these."),
    ),
    ProblemType("400.45", 400, N_("Give the quantity or the value in VND of the support.")),
    ProblemType(
        "400.46", 400, N_("Repayments are recorded only for loans: %(kind)s is not a loan.")
    ),
    ProblemType("400.47", 400, N_("'%(unit)s' is not a unit: use one of %(units)s.")),
    ProblemType("400.48", 400, N_("Say why the entry is voided: the reason is required.")),
    ProblemType(
        "400.49",
        400,
        N_("The repayment of %(amount)s đ is more than the %(outstanding)s đ still owed."),
    ),
    ProblemType(
        "403.40",
        403,
        N_(
            "Support is recorded by administrators, coordinators, commune officials and agency "
            "leads; cadres record it in the visit form."
        ),
    ),
    ProblemType("403.41", 403, N_("Only an administrator changes the catalogue of support kinds.")),
    ProblemType(
        "403.42",
        403,
        N_(
            "%(agency)s is not assigned to %(place)s today: an agency lead records support only "
            "where their agency helps, and only their agency's."
        ),
    ),
    ProblemType("404.40", 404, N_("No support entry %(entry)s in your area of work.")),
    ProblemType("404.41", 404, N_("No kind of support '%(kind)s' in the catalogue.")),
    ProblemType("409.40", 409, N_("Entry %(entry)s was already voided on %(date)s.")),
    ProblemType("409.41", 409, N_("The kind of support '%(kind)s' already exists.")),
)

# The reports' and the exports' periods and levels.

# -- reports: 400.50-54, 403.50-54, 404.50-54
_REPORTS: tuple[ProblemType, ...] = (
    ProblemType("400.50", 400, N_("The period is not valid: %(reason)s")),
    ProblemType(
        "400.51", 400, N_("Give '%(field)s': the id of the unit or agency the report is about.")
    ),
    ProblemType("400.52", 400, N_("'%(field)s' must be a whole number id, not '%(value)s'.")),
    ProblemType("400.53", 400, N_("The level '%(level)s' is not known: choose one of %(levels)s.")),
    ProblemType(
        "400.54",
        400,
        N_(
            "%(unit)s is a %(actual)s, not a %(level)s: choose the level %(actual)s for it, or "
            "another unit."
        ),
    ),
    ProblemType(
        "403.50",
        403,
        N_("Reports are for coordinators, commune officials, agency leads and administrators."),
    ),
    # No name: a refusal does not tell whether a unit outside the reader's area exists.
    ProblemType("403.51", 403, N_("That unit is outside your area: choose a unit in your area.")),
    ProblemType(
        "403.52", 403, N_("You cannot read the report of %(agency)s: choose your own agency.")
    ),
    ProblemType("404.50", 404, N_("There is no commune, district or province %(unit)s.")),
    ProblemType("404.51", 404, N_("There is no agency %(agency)s.")),
    ProblemType(
        "404.52",
        404,
        N_("The figure '%(figure)s' has no records to list: choose one of %(figures)s."),
    ),
)

# Exports: what to export, in which format, and the file made in the background.

# -- exports: 400.60-64, 403.60-64, 404.60-64, 409.60-64
_EXPORTS: tuple[ProblemType, ...] = (
    ProblemType("400.60", 400, N_("The export cannot be made: %(reason)s")),
    ProblemType(
        "403.60",
        403,
        N_(
            "Exports are for administrators, coordinators, commune officials and agency "
            "leads; ask one of them for the file."
        ),
    ),
    ProblemType("404.60", 404, N_("Form '%(form)s' was not found among the forms you may export.")),
    ProblemType("404.61", 404, N_("Export %(job)s was not found among your exports.")),
    ProblemType(
        "404.62",
        404,
        N_("The file of export %(job)s has expired and was removed; ask for the export again."),
    ),
    ProblemType(
        "409.60",
        409,
        N_("Export %(job)s is not ready (%(status)s); download it when it is done."),
    ),
    ProblemType(
        "409.61",
        409,
        N_(
            "This export holds %(rows)s rows, more than %(limit)s sent at once; ask for it "
            "to be made in the background (Exports page or POST /api/v1/exports)."
        ),
    ),
)

# Duplicate households: groups and the reviewer's decisions on them.

# -- duplicates (issue 17): 400.70-74, 404.70-74, 409.70-74
_MONITORING_CHECKS: tuple[ProblemType, ...] = (
    ProblemType(
        "400.80",
        400,
        N_("The checks run for a commune, and %(unit)s is not one: give a commune's code."),
    ),
)

_DUPLICATES: tuple[ProblemType, ...] = (
    ProblemType(
        "400.70",
        400,
        N_(
            "Household %(household)s is not in duplicate case %(case_id)s: choose one of "
            "%(households)s."
        ),
    ),
    ProblemType(
        "409.70",
        409,
        N_(
            "Duplicate case %(case_id)s has only two households: to separate them, mark them "
            "as two different households."
        ),
    ),
)


# -- token-visit monitoring (issue 16): 400.85-89, 403.85-89, 404.85-89, 409.85-89
_MONITORING: tuple[ProblemType, ...] = (
    ProblemType(
        "400.85",
        400,
        N_("Say why in a comment: %(action)s a flag needs one (at most 2000 characters)."),
    ),
    ProblemType("400.86", 400, N_("The decision '%(decision)s' is not one of: confirm, dismiss.")),
    ProblemType("400.87", 400, N_("The agency stay is not valid: %(reason)s")),
    ProblemType("400.88", 400, N_("The filter %(field)s is not valid: %(reason)s")),
    ProblemType(
        "403.85",
        403,
        N_(
            "Monitoring is for commune officials, agency leads, coordinators and "
            "administrators: cadres cannot see it."
        ),
    ),
    ProblemType(
        "403.86",
        403,
        N_(
            "Only commune officials, coordinators and administrators judge flags: agency "
            "leads read them."
        ),
    ),
    ProblemType(
        "403.87",
        403,
        N_(
            "You cannot record stays of %(agency)s in %(commune)s: only its lead, the "
            "commune's officials and the coordinators there can."
        ),
    ),
    ProblemType("404.85", 404, N_("There is no flag %(flag_id)s that you can see.")),
    ProblemType("404.86", 404, N_("There is no agency stay %(visit_id)s that you can see.")),
    ProblemType(
        "409.85",
        409,
        N_("The flag is %(state)s: only an open flag can be judged; reopen it first."),
    ),
    ProblemType("409.86", 409, N_("The flag is already open.")),
    ProblemType("409.87", 409, N_("The agency stay %(visit_id)s is already voided.")),
)

_ENTRIES = (
    ProblemType("400.1", 400, N_("The request could not be read: %(reason)s")),
    ProblemType("400.2", 400, N_("The required field '%(field)s' is missing.")),
    ProblemType("400.3", 400, N_("The value of '%(field)s' is not valid: %(reason)s")),
    ProblemType(
        "400.4",
        400,
        N_(
            "The form cannot be used: %(count)s problem(s) found. Fix them in the file and "
            "upload it again."
        ),
    ),
    ProblemType(
        "400.5",
        400,
        N_(
            "'%(filename)s' is not a form file. Upload an XLSForm (.xlsx, .xls, .csv, .md) "
            "or an XForm (.xml)."
        ),
    ),
    ProblemType("400.6", 400, N_("The submission could not be read: %(reason)s")),
    ProblemType(
        "400.7",
        400,
        N_(
            "The submission could not be read: %(reason)s It was kept for an administrator "
            "to look at; do not send it again."
        ),
    ),
    ProblemType(
        "400.8",
        400,
        N_(
            "This address speaks OpenRosa 1.0: the request must carry the header "
            "'X-OpenRosa-Version: 1.0'. Use ODK Collect, Enketo or another OpenRosa client."
        ),
    ),
    ProblemType("400.9", 400, N_("The submission was refused: %(reason)s")),
    ProblemType(
        "400.10",
        400,
        N_(
            "%(field)s is too long: %(length)s characters, at most %(limit)s. The submission "
            "was kept for an administrator to look at; do not send it again, and tell your "
            "supervisor which tablet or app made it."
        ),
    ),
    ProblemType(
        "400.11",
        400,
        N_(
            "%(field)s contains a control character (such as NUL) that cannot be stored. The "
            "submission was kept for an administrator to look at; do not send it again."
        ),
    ),
    ProblemType(
        "400.12",
        400,
        N_(
            "%(field)s is outside %(low)s to %(high)s: set the tablet's date and time "
            "correctly. The submission was kept for an administrator to look at; do not send "
            "it again."
        ),
    ),
    ProblemType(
        "400.13",
        400,
        N_(
            "%(field)s holds a number outside %(low)s to %(high)s. The submission was kept for "
            "an administrator to look at; do not send it again."
        ),
    ),
    ProblemType(
        "400.14",
        400,
        N_(
            "The server could not process this submission. It was kept for an administrator "
            "to look at, and the fault was logged; do not send it again."
        ),
    ),
    ProblemType(
        "400.15",
        400,
        N_(
            "The parameter '%(parameter)s' holds a control character (such as NUL). "
            "Send it as plain text."
        ),
    ),
    ProblemType(
        "400.16",
        400,
        N_(
            "The parameter '%(parameter)s' is longer than %(limit)s characters. "
            "Send a shorter value."
        ),
    ),
    ProblemType(
        "400.20",
        400,
        N_("'%(role)s' is not a role. Use one of: %(roles)s."),
    ),
    ProblemType(
        "400.21",
        400,
        N_(
            "There is no admin unit '%(unit)s'. Give its path (such as 11/03325) or its "
            "commune code, as the unit list shows it."
        ),
    ),
    ProblemType(
        "400.22",
        400,
        N_("There is no agency with the code '%(agency)s'. Check the code in the agency list."),
    ),
    ProblemType(
        "400.23",
        400,
        N_(
            "The file has %(count)s error(s) and nothing was imported. Fix the rows listed "
            "and send the whole file again."
        ),
    ),
    ProblemType(
        "400.24",
        400,
        N_(
            "'%(name)s' cannot be a user name: use lower-case letters a-z, digits, '.', '_' "
            "or '-' (at most 80), starting with a letter or digit."
        ),
    ),
    ProblemType(
        "400.30",
        400,
        N_(
            "'%(phase)s' is not a phase: write two years, the first not after the second, "
            "such as 2021-2025."
        ),
    ),
    ProblemType(
        "400.31",
        400,
        N_("%(unit)s is not a commune or village: agencies are assigned to communes and villages."),
    ),
    ProblemType(
        "400.32",
        400,
        N_(
            "%(helper)s cannot help households: a helper is an active cadre, an active member "
            "of an agency, or an active team or organisation."
        ),
    ),
    ProblemType(
        "400.33",
        400,
        N_("The end (%(ends_on)s) must not be before the start (%(starts_on)s)."),
    ),
    ProblemType(
        "400.34",
        400,
        N_("The dates %(starts_on)s to %(ends_on)s are outside the phase %(phase)s."),
    ),
    ProblemType(
        "401.1", 401, N_("Sign in required: give your username and password or a device token.")
    ),
    ProblemType(
        "401.2",
        401,
        N_("This device's access has been revoked. Ask your coordinator for a new link."),
    ),
    ProblemType("403.1", 403, N_("Your account is not allowed to do this.")),
    ProblemType("403.2", 403, N_("%(what)s is outside your area of work.")),
    ProblemType(
        "403.3",
        403,
        N_(
            "This record is for %(what)s, which is outside your area of work. Your data was "
            "kept for the commune to review; do not send it again."
        ),
    ),
    ProblemType(
        "403.4",
        403,
        N_(
            "Form '%(form_id)s' is not available to your account. Your data was kept for "
            "review; do not send it again."
        ),
    ),
    ProblemType(
        "403.10",
        403,
        N_("Only an administrator or a coordinator can manage users. Ask your coordinator."),
    ),
    ProblemType(
        "403.11",
        403,
        N_("Only an administrator can give the role %(role)s or manage its users."),
    ),
    ProblemType(
        "403.12",
        403,
        N_(
            "%(name)s also works in %(units)s, outside your area of work: ask an "
            "administrator or that area's coordinator."
        ),
    ),
    ProblemType(
        "403.13",
        403,
        N_(
            "Give %(name)s at least one commune or village inside your area of work, or "
            "nobody but an administrator could manage them."
        ),
    ),
    ProblemType(
        "403.14",
        403,
        N_("The agency %(agency)s belongs outside your area of work."),
    ),
    ProblemType(
        "403.15",
        403,
        N_(
            "A commune official manages only the devices of the cadres of their commune, "
            "not those of %(name)s."
        ),
    ),
    ProblemType(
        "403.16",
        403,
        N_(
            "The file lists %(count)s row(s) you may not import (roles or places outside "
            "what you manage); nothing was imported. Remove or fix those rows."
        ),
    ),
    ProblemType(
        "403.17",
        403,
        N_(
            "%(name)s works in no commune or village yet, so only an administrator can "
            "manage them: ask an administrator to give them their first place of work."
        ),
    ),
    ProblemType(
        "403.20",
        403,
        N_("Only an administrator can import a province's official units."),
    ),
    ProblemType(
        "403.21",
        403,
        N_(
            "%(helper)s is not a member of %(agency)s: an agency lead pairs households only "
            "with their agency's members, teams and organisations."
        ),
    ),
    ProblemType(
        "403.22",
        403,
        N_(
            "%(agency)s is not assigned to %(place)s now: an agency lead pairs households only "
            "in the communes and villages their agency is assigned to."
        ),
    ),
    ProblemType(
        "403.30",
        403,
        N_(
            "This record is for %(what)s (code %(codes)s), a place the server does not know. "
            "Choose a village of your area, or ask your coordinator to add this place. Your "
            "data was kept for review; do not send it again."
        ),
    ),
    ProblemType("404.1", 404, N_("Nothing was found at this address.")),
    ProblemType("404.2", 404, N_("Form '%(form_id)s' version '%(version)s' was not found.")),
    ProblemType("404.3", 404, N_("Form '%(form_id)s' was not found.")),
    ProblemType(
        "404.4",
        404,
        N_(
            "The record this edit replaces (%(deprecated_id)s) is not on the server. Your "
            "data was kept for review; there is no need to send it again."
        ),
    ),
    ProblemType(
        "404.5",
        404,
        N_(
            "The server does not have form '%(form_id)s' version '%(version)s'. Your data "
            "was kept and will be processed when that form version is loaded."
        ),
    ),
    ProblemType("404.6", 404, N_("The admin unit '%(unit)s' was not found.")),
    ProblemType("404.10", 404, N_("There is no user '%(name)s' you can see.")),
    ProblemType("404.11", 404, N_("There is no device %(device)s you can see.")),
    ProblemType("404.20", 404, N_("No agency has the code or number '%(agency)s'.")),
    ProblemType("404.21", 404, N_("Agency assignment %(assignment)s was not found.")),
    ProblemType("404.22", 404, N_("Pair %(pair)s was not found.")),
    ProblemType(
        "404.23",
        404,
        N_("No household has the id or code '%(household)s' in your area of work."),
    ),
    ProblemType("404.24", 404, N_("No user or agency is called '%(helper)s'.")),
    ProblemType("405.1", 405, N_("This address does not accept the %(method)s method.")),
    ProblemType(
        "409.1",
        409,
        N_(
            "Form '%(form_id)s' version '%(version)s' already exists with different "
            "content. Change the version in the settings sheet and upload again."
        ),
    ),
    ProblemType(
        "409.2",
        409,
        N_("Form '%(form_id)s' version '%(version)s' is %(state)s: it cannot be %(action)s."),
    ),
    ProblemType(
        "409.3",
        409,
        N_(
            "A different submission with the same ID (%(instance_id)s) was already "
            "received. Your data was kept for review; do not send it again."
        ),
    ),
    ProblemType(
        "409.4",
        409,
        N_(
            "This edit replaces a version of the record (%(deprecated_id)s) that was "
            "already edited. Your data was kept for review."
        ),
    ),
    ProblemType("409.5", 409, N_("%(what)s '%(name)s' already exists.")),
    ProblemType(
        "409.30",
        409,
        N_(
            "%(agency)s is already assigned to %(unit)s for %(period)s: end that assignment "
            "or choose a period that does not overlap it."
        ),
    ),
    ProblemType("409.31", 409, N_("%(what)s already ended on %(ends_on)s.")),
    ProblemType(
        "409.32",
        409,
        N_(
            "Household %(household)s was merged into household %(survivor)s: pair "
            "%(survivor)s instead."
        ),
    ),
    ProblemType(
        "409.33",
        409,
        N_("Household %(household)s is closed (moved away or dissolved): it cannot be paired."),
    ),
    ProblemType(
        "409.34",
        409,
        N_("%(helper)s already helps household %(household)s (since %(starts_on)s)."),
    ),
    ProblemType(
        "409.35",
        409,
        N_(
            "%(province)s was already imported %(layout)s: import it the same way, or ask an "
            "administrator to empty it first."
        ),
    ),
    ProblemType(
        "409.10",
        409,
        N_(
            "%(what)s is %(state)s, so it cannot be %(action)s. Reload it to see its current state."
        ),
    ),
    ProblemType(
        "409.20",
        409,
        N_("You cannot deactivate your own account: ask another administrator."),
    ),
    ProblemType(
        "409.21",
        409,
        N_("You cannot change your own role: ask another administrator."),
    ),
    ProblemType(
        "409.22",
        409,
        N_("%(name)s is deactivated: activate the account before enrolling a device."),
    ),
    ProblemType("413.1", 413, N_("The request is too large: the limit is %(limit)s bytes.")),
    ProblemType(
        "413.4",
        413,
        N_(
            "The submission has too many elements: the limit is %(limit)s. It was refused; "
            "split the data over several submissions."
        ),
    ),
    ProblemType(
        "413.5",
        413,
        N_(
            "The submission nests its elements too deeply: the limit is %(limit)s levels. "
            "It was refused."
        ),
    ),
    ProblemType(
        "413.2",
        413,
        N_(
            "A value in the submission is too large: %(reason)s Your data was kept for "
            "review; do not send it again."
        ),
    ),
    ProblemType(
        "413.3",
        413,
        N_(
            "Too many items in one batch: %(count)s sent, the limit is %(limit)s. Send them "
            "in smaller batches."
        ),
    ),
    ProblemType("415.1", 415, N_("Content type '%(content_type)s' is not accepted here.")),
    ProblemType("429.1", 429, N_("Too many requests. Wait a moment and try again.")),
    ProblemType(
        "429.2",
        429,
        N_(
            "Too many failed sign-ins for this user name. Try again after %(time)s, or ask "
            "your coordinator to check your password."
        ),
    ),
    ProblemType(
        "500.1",
        500,
        N_("Something went wrong on the server. It was logged; please try again later."),
    ),
    ProblemType(
        "503.1", 503, N_("The server cannot reach its database right now. Please try again later.")
    ),
)

# -- operations (issue 19): 400.110-114, 403.110-114, 409.110-114
_OPERATIONS: tuple[ProblemType, ...] = (
    ProblemType(
        "403.110",
        403,
        N_(
            "Metrics are for the operator's Prometheus: send the token set in "
            "GIUPHO_METRICS_TOKEN as 'Authorization: Bearer <token>', or read them from the "
            "server itself."
        ),
    ),
)

# The poverty review (issue 18): campaigns, their lists, meeting, proposal and decision.

# -- reviews: 400.95-99, 403.95-99, 404.95-99, 409.95-99
_REVIEWS: tuple[ProblemType, ...] = (
    ProblemType("400.95", 400, N_("'%(field)s' is not valid: %(hint)s")),
    ProblemType(
        "400.96",
        400,
        N_("The date %(date)s is before %(earlier)s, the step it follows: give a later date."),
    ),
    ProblemType(
        "400.97",
        400,
        N_(
            "Household %(household)s is not in the campaign's commune: add only households of "
            "%(commune)s."
        ),
    ),
    ProblemType(
        "400.98",
        400,
        N_("%(user)s does not work in %(commune)s: assign a reviewer of the commune."),
    ),
    ProblemType(
        "403.95",
        403,
        N_(
            "Only the commune's officials (or an administrator) run its review; coordinators "
            "and agency leads read it, and reviewers see the households assigned to them."
        ),
    ),
    ProblemType("404.95", 404, N_("There is no review campaign %(campaign)s in your area.")),
    ProblemType("404.96", 404, N_("Household %(household)s is not on the list of this campaign.")),
    ProblemType(
        "404.97",
        404,
        N_(
            "Household %(household)s has no assessment since the campaign opened on "
            "%(opens)s: send the assessment form for it first."
        ),
    ),
    ProblemType(
        "409.95",
        409,
        N_("%(commune)s already has a review of this kind opening on %(opens)s."),
    ),
    ProblemType(
        "409.96",
        409,
        N_("The campaign is at the step '%(stage)s': %(needed)s first."),
    ),
    ProblemType(
        "409.97",
        409,
        N_(
            "%(count)s households on the list have no assessment yet: assess them before the "
            "village meeting."
        ),
    ),
    ProblemType(
        "409.98",
        409,
        N_("The campaign was decided (decision %(number)s): it can no longer change."),
    ),
)


_ENTRIES += (
    _LEDGER
    + _REPORTS
    + _EXPORTS
    + _DUPLICATES
    + _OPERATIONS
    + _MONITORING_CHECKS
    + _MONITORING
    + _REVIEWS
)

CATALOGUE: dict[str, ProblemType] = {entry.code: entry for entry in _ENTRIES}

#: The problem to answer with when a bare HTTP status is all there is (routing errors).
BY_STATUS: dict[int, str] = {
    400: "400.1",
    401: "401.1",
    403: "403.1",
    404: "404.1",
    405: "405.1",
    413: "413.1",
    415: "415.1",
    429: "429.1",
    500: "500.1",
    503: "503.1",
}

_PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def placeholders(template: str) -> set[str]:
    """The `%(names)s` a message template needs."""
    return set(_PLACEHOLDER.findall(template))


def render(template: str, lang: str, params: dict[str, Any]) -> str:
    """`template` (an English message id) in `lang`, filled with `params`: a param marked
    with `N_` is translated and filled the same way, a `Problem` param gives its message in
    `lang`; in Vietnamese, `<name>_vi` stands in for `<name>`."""
    values = dict(params)
    for name, value in params.items():
        if lang == "vi" and f"{name}_vi" in params:
            values[name] = params[f"{name}_vi"]
        elif isinstance(value, Words):
            values[name] = i18n.gettext(value, lang) % params
        elif isinstance(value, Problem):  # a problem quoted by another message
            values[name] = value.message(lang)
    return i18n.gettext(template, lang) % values


class Problem(Exception):
    """An error from the catalogue, with the values its message needs and optional details.

    `details` is machine-readable context (a list of form problems, the
    conflicting ids) and is sent to the client as is: never put secrets in it.
    """

    #: Seconds the client should wait (sent as the Retry-After header), when known.
    retry_after: int | None = None

    def __init__(self, code: str, details: Any = None, **params: Any) -> None:
        if code not in CATALOGUE:
            raise KeyError(f"unknown problem code {code!r}")
        self.type = CATALOGUE[code]
        self.params = params
        self.details = details
        super().__init__(f"[{code}] {self.message('en')}")

    @property
    def code(self) -> str:
        return self.type.code

    @property
    def status(self) -> int:
        return self.type.status

    def message(self, lang: str = "en") -> str:
        """The message in `lang` ("vi" or "en")."""
        return render(self.type.message, lang, self.params)

    def to_dict(self, lang: str = "en") -> dict[str, Any]:
        """The one JSON error shape: code, message, details."""
        return {"code": self.code, "message": self.message(lang), "details": self.details}
