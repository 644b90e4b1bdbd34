"""The bounds of what a request may carry: integers and text, the one way every view reads them.

Integers are ASCII digits within a 64-bit signed column (Python's `int` and
`str.isdigit` also take '²' or fullwidth digits, and a number past the column
fails in the database). Text has no control characters (PostgreSQL refuses
NUL) and a length. The API's query schemas use `Int64`; the site reads its
filters with `ascii_int` (a bad filter is ignored, as a person would expect);
`check_request_query` refuses control characters and overlong values in any
query parameter or path value of any route, before a view runs (issue 13, finding 3).
"""

from __future__ import annotations

import re

from marshmallow import ValidationError, fields, validate
from werkzeug.routing import IntegerConverter

from server.problems import Problem

#: The largest integer a column holds (BIGINT); nothing larger reaches the database.
MAX_INT = 2**63 - 1
#: The longest value one query parameter or path value may carry (gunicorn refuses request
#: lines over 4094 bytes anyway; OpenRosa integrity checks list many ids in one `id`).
MAX_PARAM_CHARS = 4000

_DIGITS = re.compile(r"-?[0-9]+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
NO_CONTROL = validate.Regexp(
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$", error="remove control characters such as NUL"
)


def ascii_int(text: str | None, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    """`text` as an integer when it is ASCII digits (an optional '-') within the range."""
    text = (text or "").strip()
    if len(text) > 20 or not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def text_fault(value: str) -> str | None:
    """Why `value` is not acceptable text ("control" or "length"), or None."""
    if _CONTROL.search(value):
        return "control"
    if len(value) > MAX_PARAM_CHARS:
        return "length"
    return None


def check_query(args) -> None:
    """Problem 400.15/400.16 naming the first query parameter that is not plain text."""
    for key, values in args.lists():
        for value in (key, *values):
            fault = text_fault(value)
            if fault == "control":
                raise Problem("400.15", parameter=_shown(key))
            if fault == "length":
                raise Problem("400.16", parameter=_shown(key), limit=MAX_PARAM_CHARS)


def _shown(name: str) -> str:
    return _CONTROL.sub("?", name)[:40]


class Int64(fields.Integer):
    """An integer given as ASCII digits, within a 64-bit signed column (or the range given)."""

    def __init__(self, *, minimum: int = 0, maximum: int = MAX_INT, **kwargs):
        kwargs["validate"] = validate.Range(min=minimum, max=maximum)
        super().__init__(strict=False, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and (len(value) > 20 or not _DIGITS.fullmatch(value.strip())):
            raise ValidationError("give a whole number written with the digits 0-9")
        return super()._deserialize(value, attr, data, **kwargs)


def check_request_query() -> None:
    """`check_query` on the current request, and the same for the values in its path (a
    form id, an instance id): the app runs it before every view."""
    from flask import request

    check_query(request.args)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and (fault := text_fault(value)):
            code = "400.15" if fault == "control" else "400.16"
            raise Problem(code, parameter=name, limit=MAX_PARAM_CHARS)


class BoundedInt(IntegerConverter):
    """The `<int:...>` of routes, ASCII digits within a 64-bit column: any other is a 404."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map, fixed_digits=0, min=None, max=MAX_INT, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)
