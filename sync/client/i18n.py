"""The sync client's texts: English message ids, their Vietnamese in the gettext catalogue
`locale/vi/LC_MESSAGES/giupho_sync.po` (compiled `.mo` beside it), read with the standard
library. The command line (`cli.py`), the terminal questionnaire (`fill.py`) and the errors
the client raises itself (`api.py`) share it. The README ("Translations") gives the pybabel
commands.
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

LOCALE = Path(__file__).parent / "locale"
DOMAIN = "giupho_sync"
LANGUAGES = ("vi", "en")
#: Answers to a yes/no question ("(c/k)", "(y/n)") that mean yes, whatever the language.
YES = frozenset(("c", "có", "y", "yes"))


def N_(message: str) -> str:
    """Mark `message` for `pybabel extract`; it is translated where it is shown."""
    return message


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang`; English (no catalogue) shows the message ids themselves."""
    return gettext.translation(DOMAIN, LOCALE, languages=[lang], fallback=True)


def both(message: str, **params) -> tuple[str, str]:
    """(English, Vietnamese) of the message id `message`, `%(params)s` filled in: the two
    texts a `SyncError` carries."""
    vi = translations("vi").gettext(message)
    return (message % params, vi % params) if params else (message, vi)
