"""The forms engine's texts in Vietnamese: a gettext catalogue read with the standard library.

Problems, issues and errors are written with English message ids (`N_("...")`, with
`%(name)s` placeholders) and carry both languages: `message` is the English text,
`message_vi` its translation from `locale/vi/LC_MESSAGES/giupho_forms.po` (compiled `.mo`
beside it). The package stays pure: no Flask, no Babel at run time, only `gettext`. The
README ("Translations") gives the pybabel commands that keep the catalogue current.
"""

from __future__ import annotations

import functools
import gettext
from pathlib import Path

LOCALE = Path(__file__).parent / "locale"
DOMAIN = "giupho_forms"


def N_(message: str) -> str:
    """Mark `message` for `pybabel extract`; it is translated where it is shown."""
    return message


@functools.cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of `lang`; English (no catalogue) gives the message ids themselves."""
    return gettext.translation(DOMAIN, LOCALE, languages=[lang], fallback=True)


def vi(message: str) -> str:
    """The Vietnamese of an English message id (the id itself if it has none)."""
    return translations("vi").gettext(message) if message else ""  # "" is the header


class Params(dict):
    """The values of a message's `%(name)s` placeholders. A placeholder without a value is
    shown as `{name}` rather than raising, so a message never hides the problem it reports."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(message: str, params: dict, localized: tuple[str, ...] = ()) -> tuple[str, str]:
    """(English, Vietnamese) of the message id `message`, placeholders filled in. For each
    name in `localized`, the Vietnamese text shows the parameter `<name>_vi` (a detail that
    comes already translated, such as an XPath error's `message_vi`) instead of `<name>`."""
    vi_params = {**params, **{name: params[f"{name}_vi"] for name in localized}}
    return message % Params(params), vi(message) % Params(vi_params)
