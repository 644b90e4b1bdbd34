"""Secrets never reach a log line: device tokens, credentials, cookies and passwords.

A device token in the path (`/key/<token>/submission`) is a password for the
whole OpenRosa protocol, and the error handlers log the path of every request
that failed (issue 13, finding 7). `RedactSecrets` rewrites each record's
message and traceback before any handler formats it; `install` puts it on the
app's logger and on the loggers of the servers that run it (Werkzeug's
request log, gunicorn's error and access logs), and on every handler of the
root logger, so records of any other logger pass through it too.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

MASK = "[redacted]"

_PATTERNS = (
    # A device token in an OpenRosa path.
    (re.compile(r"(/key/)[^/\s?#\"']+"), r"\1" + MASK),
    # Header values that carry credentials, as "Name: value" or in a dict's repr.
    (
        re.compile(
            r"((?:proxy-)?authorization|cookie|set-cookie)(['\"]?\s*[:=]\s*)"
            r"('[^']*'|\"[^\"]*\"|[^\r\n]+)",
            re.IGNORECASE,
        ),
        r"\1\2" + MASK,
    ),
    # A credential after its scheme (a token has digits or symbols; "Basic authentication"
    # stays as it is).
    (
        re.compile(r"\b((?i:bearer|basic))\s+(?=[^\s'\",;]*[0-9A-Z=+/_.-])[^\s'\",;]+"),
        r"\1 " + MASK,
    ),
    # Secrets in a query string or a form body.
    (
        re.compile(
            r"\b((?:access_|refresh_)?token|password|new_password|passwd|secret|csrf_token)"
            r"(=|['\"]?\s*:\s*['\"]?)[^&\s'\",}]+",
            re.IGNORECASE,
        ),
        r"\1\2" + MASK,
    ),
)

#: The loggers of the servers that run the app: their request lines hold paths too.
SERVER_LOGGERS = ("werkzeug", "gunicorn.error", "gunicorn.access")


def redact(text: str) -> str:
    """`text` with every secret it holds replaced by the mask."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites a record's message, arguments and traceback with the secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler to report
            return True
        record.msg, record.args = redact(message), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _add(filterer: logging.Filterer, redactor: RedactSecrets) -> None:
    if not any(isinstance(f, RedactSecrets) for f in filterer.filters):
        filterer.addFilter(redactor)


def install(app: Flask) -> None:
    """Put the redacting filter on the app's logger, the servers' loggers and all handlers."""
    redactor = RedactSecrets()
    loggers = [app.logger, *(logging.getLogger(name) for name in SERVER_LOGGERS)]
    for logger in (*loggers, logging.getLogger()):
        _add(logger, redactor)
        for handler in logger.handlers:
            _add(handler, redactor)
