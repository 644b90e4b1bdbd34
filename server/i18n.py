"""The server's gettext catalogues: English message ids, translated in `server/translations`.

`server/translations/<lang>/LC_MESSAGES/messages.po` is what translators edit
(Poedit, Weblate, any gettext tool); the compiled `messages.mo` beside it is
what runs. Both are kept in the repository and shipped as package data, so
neither `pip install -e .` nor a wheel needs a build step;
`tests/unit/test_catalogues.py` fails when a `.mo` is not the compilation of
its `.po`, or when the catalogue misses a message id the code uses. The
README ("Translations") gives the pybabel commands.

The site reads the catalogues through Flask-Babel, in the language of the
request (`server.web.i18n`). Code that names its language explicitly, and may
run outside any request (a problem's message, written in both languages into
a quarantine item while ingesting), uses `gettext(msgid, lang)` here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

#: The directory Flask-Babel and `translations` read: `<lang>/LC_MESSAGES/messages.mo`.
TRANSLATIONS = Path(__file__).parent / "translations"
DOMAIN = "messages"
#: The languages giupho speaks, Vietnamese first (the default).
LANGUAGES = ("vi", "en")


class Words(str):
    """An English message id marked with `N_`: translated where it is shown, and, given
    as a param of a problem (`server.problems`), in the language of its message."""


def N_(msgid: str) -> Words:
    """Mark `msgid` for `pybabel extract` without translating it here (the text is
    translated where it is shown). `N_` is one of pybabel's default keywords."""
    return Words(msgid)


@lru_cache(maxsize=8)
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of `lang`, read once; no catalogue: the English message ids."""
    return Translations.load(str(TRANSLATIONS), [lang], DOMAIN)


def gettext(msgid: str, lang: str) -> str:
    """`msgid` in `lang` ("vi" or "en"); the message id itself when it has no translation."""
    return translations(lang).ugettext(msgid)
