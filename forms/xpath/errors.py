"""XPath errors: one for text that is not an expression, one for an expression that cannot run.

Both carry an English `message` and a Vietnamese `message_vi`, because form
authors read syntax errors when they upload a form and officers read
evaluation errors when a submission is checked. They are built from English message
ids (`syntax_error`, `eval_error`) whose Vietnamese is in the `giupho_forms` catalogue;
errors are rare, so the translation is looked up when one is raised, never while an
expression is evaluated.
"""

from __future__ import annotations

from forms.i18n import render


class XPathError(Exception):
    """Base class of every error raised by `forms.xpath`."""

    def __init__(self, message: str, message_vi: str = "") -> None:
        self.message = message
        self.message_vi = message_vi or message
        super().__init__(message)


class XPathSyntaxError(XPathError):
    """The text is not a valid ODK XPath expression; `position` is a 0-based character offset."""

    def __init__(self, message: str, position: int, message_vi: str = "") -> None:
        super().__init__(message, message_vi)
        self.position = position
        self.source: str | None = None  # set by parse() so callers can point at the spot

    def __str__(self) -> str:
        return f"{self.message} (at character {self.position + 1})"

    def pointer(self) -> str:
        """The source with a caret under the offending character, for error pages."""
        if self.source is None:
            return ""
        return f"{self.source}\n{' ' * self.position}^"


class XPathEvalError(XPathError):
    """The expression is valid but cannot be evaluated (unknown function, wrong type, bad regex)."""


def syntax_error(
    message: str, position: int, localized: tuple[str, ...] = (), **params
) -> XPathSyntaxError:
    """An XPathSyntaxError from the message id `message` (`%(name)s` placeholders filled from
    `params`; see `forms.i18n.render` for `localized`)."""
    en, vi = render(message, params, localized)
    return XPathSyntaxError(en, position, vi)


def eval_error(message: str, localized: tuple[str, ...] = (), **params) -> XPathEvalError:
    """An XPathEvalError from the message id `message`, as `syntax_error` builds one."""
    en, vi = render(message, params, localized)
    return XPathEvalError(en, vi)
