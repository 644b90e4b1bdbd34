"""The site's languages: English message ids, translated by gettext catalogues.

Texts in the templates and views are English message ids passed to `_`
(Flask-Babel's `gettext`, with `%(name)s` placeholders); their Vietnamese is
in `server/translations/vi/LC_MESSAGES/messages.po`, a standard catalogue
that translators edit with Poedit, Weblate or any gettext tool, and that
`pybabel` keeps in step with the code (README, "Translations"). A dotted id
names a stored value ("case.merged", "household.active"): it has its English
in the `en` catalogue too. The compiled `.mo` files are kept in the
repository, so `make run` and `make test` need no build step, and
`tests/integration/web/test_i18n.py` fails when a text the code uses has no
Vietnamese, or when the catalogues or their compilation are out of date.
Flask-Babel also formats dates, times and numbers for the chosen language and
shows times in the server's time zone.

The language is the one chosen with the switch (kept in the session), else
`DEFAULT_LANGUAGE` (Vietnamese).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal as babel_decimal
from flask import current_app, session
from flask_babel import format_datetime, format_decimal
from flask_babel import gettext as _  # noqa: F401 - the views import `_` from here

from server.i18n import LANGUAGES, N_

SESSION_KEY = "lang"


def language() -> str:
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return chosen
    default = current_app.config.get("DEFAULT_LANGUAGE", "vi")
    return default if default in LANGUAGES else "vi"


def format_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(value, "dd/MM/yyyy HH:mm")


def format_number(value) -> str:
    return format_decimal(value) if value is not None else ""


def format_money(value) -> str:
    """An amount in đồng as officials write it: 2.500.000 đ (vi-VN grouping in either
    language; a value that is not a number is shown as it is)."""
    if value is None or value == "":
        return ""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        return str(value)
    return babel_decimal(amount, locale="vi_VN") + " đ"


def pick(texts: dict, fallback: str = "") -> str:
    """From {"vi": ..., "en": ...}, the text of the current language."""
    return texts.get(language()) or texts.get("vi") or fallback


def template_globals() -> dict:
    """What the templates use besides `_` (Flask-Babel installs `_` and `gettext` in Jinja)."""
    return {
        "lang": language(),
        "languages": LANGUAGES,
        "format_time": format_time,
        "format_number": format_number,
        "format_money": format_money,
        "pick": pick,
    }


#: Message ids the pages compute instead of writing them out (`_(s.review_state.value)`,
#: `("case." ~ status)|action_label`, an audit event's action, a dashboard kind's label from
#: `server.services.review_pages`), marked here so that `pybabel extract` finds them.
COMPUTED = (
    # review states (`ReviewState` values)
    N_("received"),
    N_("has_issues"),
    N_("approved"),
    N_("returned"),
    N_("rejected"),
    # what waits for a decision (`review_pages.WAITING_KINDS` labels)
    N_("Submissions received"),
    N_("Submissions with issues"),
    N_("Returned, waiting for the cadre"),
    N_("Kept in quarantine"),
    N_("Household updates held for merging"),
    N_("Households with conflicting edits"),
    N_("Possible duplicate households"),
    N_("Poverty exits to certify"),
    # audit events of a submission's history
    N_("submission.receive"),
    N_("submission.approve"),
    N_("submission.mark_issues"),
    N_("submission.return"),
    N_("submission.reject"),
    N_("submission.correct"),
    N_("submission.quarantine"),
    N_("attachment.clash"),
    # stored values the household pages name: Vietnamese and English in the catalogues
    N_("household.active"),
    N_("household.closed"),
    N_("household.merged"),
    N_("flag.conflict"),
    N_("flag.hold_timeout"),
    N_("flag.auto_linked"),
    N_("flag.redirected"),
    N_("flag.closed_update"),
    N_("version.submission"),
    N_("version.resolve"),
    N_("version.duplicate_merge"),
    N_("version.duplicate_unmerge"),
    N_("version.duplicate_unlink"),
    N_("case.open"),
    N_("case.auto_linked"),
    N_("case.merged"),
    N_("case.distinct"),
    N_("case.unlinked"),
    N_("case.all"),
    N_("kind.exact"),
    N_("kind.fuzzy"),
    N_("score.name"),
    N_("score.birth_year"),
    N_("score.cccd"),
    N_("score.household_code"),
    N_("score.code"),
    N_("score.phone"),
    N_("score.distance"),
    N_("score.village"),
    N_("score.members"),
    N_("score.head_is_member"),
    N_("exit.certified"),
    N_("exit.declined"),
)
