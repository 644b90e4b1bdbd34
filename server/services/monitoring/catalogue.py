"""The checks of token-visit monitoring: their codes, what they look at, and their reasons.

A check's reason is an English gettext message id with `%(name)s` placeholders filled from the
flag's `params` (`MonitoringFlag.params`), so the same words are read in the monitoring view,
the API, exports and the audit, in Vietnamese or English. Thresholds live in the settings
(`MONITORING_*`), never here.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.i18n import N_
from server.models.monitoring import FlagSubject


@dataclass(frozen=True)
class Check:
    code: str
    subject: FlagSubject
    title: str  # gettext id: a short name for lists and filters
    reason: str  # gettext id with %(param)s placeholders from the flag's params
    params: tuple[str, ...]  # the names `reason` uses (a flag must carry them)


CHECKS: dict[str, Check] = {
    check.code: check
    for check in (
        Check(
            "short",
            FlagSubject.VISIT,
            N_("Too short"),
            N_(
                "The visit took %(minutes)s minutes in the form; a visit takes at least "
                "%(min_minutes)s."
            ),
            ("minutes", "min_minutes"),
        ),
        Check(
            "far",
            FlagSubject.VISIT,
            N_("Far from the household"),
            N_(
                "The visit was recorded %(metres)s m from the household's known location "
                "(more than %(max_metres)s m)."
            ),
            ("metres", "max_metres"),
        ),
        Check(
            "no_location",
            FlagSubject.VISIT,
            N_("No location"),
            N_("The visit has no location: neither the form's GPS nor the tablet's audit log."),
            (),
        ),
        Check(
            "fast_run",
            FlagSubject.VISIT,
            N_("Run of visits too fast"),
            N_(
                "%(count)s households were visited within %(minutes)s minutes from one place "
                "(within %(metres)s m)."
            ),
            ("count", "minutes", "metres"),
        ),
        Check(
            "copied",
            FlagSubject.VISIT,
            N_("Answers copied"),
            N_(
                "%(same)s of %(compared)s answers are the same as the previous visit of "
                "%(previous_date)s."
            ),
            ("same", "compared", "previous_date"),
        ),
        Check(
            "backdated",
            FlagSubject.VISIT,
            N_("Backdated"),
            N_(
                "The tablet dated the visit %(days)s days before it was received (more than "
                "%(max_days)s)."
            ),
            ("days", "max_days"),
        ),
        Check(
            "clock_jump",
            FlagSubject.VISIT,
            N_("Tablet clock jumped"),
            N_(
                "The tablet's clock was %(offset)s off the server's, against %(usual)s on its "
                "other visits."
            ),
            ("offset", "usual"),
        ),
        Check(
            "neglected",
            FlagSubject.HOUSEHOLD,
            N_("Household not visited"),
            N_(
                "This assigned household has not been visited for %(months)s months (since "
                "%(last_visit)s)."
            ),
            ("months", "last_visit"),
        ),
        Check(
            "token_agency",
            FlagSubject.AGENCY,
            N_("Agency visits few or short"),
            N_(
                "In %(year)s the agency stayed %(visits)s times, %(days)s days in all, in this "
                "commune against %(visits_planned)s times and %(days_planned)s days planned."
            ),
            ("year", "visits", "days", "visits_planned", "days_planned"),
        ),
    )
}
