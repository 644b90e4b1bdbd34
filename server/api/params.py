"""Reading a request's query or body through a marshmallow schema, the one way views do it."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError

from server.problems import Problem


def load(schema: Schema, data: Any) -> Any:
    """`schema.load(data)`, or Problem 400.3 naming the first field that is wrong."""
    if not isinstance(data, dict):
        raise Problem("400.3", field="body", reason="expected a JSON object")
    try:
        return schema.load(data)
    except ValidationError as exc:
        field, reasons = next(iter(exc.normalized_messages().items()))
        field = "body" if field == "_schema" else field
        raise Problem("400.3", field=field, reason=flatten(reasons)) from None


def flatten(reasons: Any) -> str:
    """marshmallow's nested messages as one line."""
    if isinstance(reasons, dict):
        return "; ".join(f"{k}: {flatten(v)}" for k, v in reasons.items())
    if isinstance(reasons, list):
        return "; ".join(flatten(r) for r in reasons)
    return str(reasons)
