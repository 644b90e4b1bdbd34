"""JSON answers: a submission's tree as plain objects for the sync API, and back.

Exported by `forms.instance` (`to_answers`, `from_answers`, `answers_to_node`).
A visit sent as JSON and the same visit sent as OpenRosa XML must become the
same `Node` tree, hence the same canonical hash (`forms.canonical`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from forms.errors import SubmissionError
from forms.messages import submission_message
from forms.tree import Node

if TYPE_CHECKING:
    from forms.model import FormModel

TEXT_KEY = "#text"
MAX_DEPTH = 64


def to_answers(root: Node, form: FormModel | None = None) -> dict:
    """The answers under `root` as JSON-ready objects (the sync API's shape).

    Shape: the root element becomes an object of its children; a group becomes
    an object; a repeat becomes a list of objects (with a form, a repeat with
    one instance is still a list; without one, only repeated siblings are);
    a leaf becomes its text as a string; attributes become "@name" keys, and a
    leaf that has attributes becomes {"@name": ..., "#text": value}. Example::

        {"@id": "household_visit", "@version": "3",
         "visit": {"village": "Bản Phố", "consent": "yes"},
         "member": [{"m_name": "Lò Văn Minh", "m_age": "34"}],
         "meta": {"instanceID": "uuid:...",
                  "entity": {"@dataset": "households", "@id": "...", "label": "..."}}}
    """
    repeats = _repeat_paths(form)
    return _object(root, repeats, "/" + root.name)


def _repeat_paths(form: FormModel | None) -> frozenset[str]:
    if form is None:
        return frozenset()
    return frozenset(p for p, f in form.fields.items() if f.kind == "repeat")


def _object(node: Node, repeats: frozenset[str], path: str) -> dict:
    out: dict = {f"@{k}": v for k, v in node.attrs.items()}
    counts: dict[str, int] = {}
    for child in node.children:
        counts[child.name] = counts.get(child.name, 0) + 1
    for child in node.children:
        child_path = f"{path}/{child.name}"
        value = _value(child, repeats, child_path)
        if child_path in repeats or counts[child.name] > 1:
            out.setdefault(child.name, []).append(value)
        else:
            out[child.name] = value
    return out


def _value(node: Node, repeats: frozenset[str], path: str):
    if node.children or path in repeats:
        return _object(node, repeats, path)
    if node.attrs:
        return {**{f"@{k}": v for k, v in node.attrs.items()}, TEXT_KEY: node.text}
    return node.text


def from_answers(answers: Mapping, form: FormModel) -> Node:
    """Build the answer tree of `form` from JSON answers (inverse of `to_answers`).

    The root gets the form's root name and its template attributes (id,
    version, ...), which "@" keys in `answers` may override; children follow
    the form's order, unknown names come last in the order given.
    """
    attrs = dict(form.template.attrs) if form.template is not None else {}
    attrs["id"] = form.form_id
    if form.version:
        attrs["version"] = form.version
    return answers_to_node(answers, form.root_name, attrs, form=form)


def answers_to_node(
    answers: Mapping, root_name: str, attrs: Mapping[str, str] | None = None, *, form=None
) -> Node:
    """Build a `Node` tree named `root_name` from JSON answers (see `to_answers`).

    Raises `SubmissionError` (400) for names that are not XML names and for
    values that are neither strings, numbers, booleans, null, objects nor lists.
    """
    if not isinstance(answers, Mapping):
        raise _error("answers_invalid", detail="answers must be an object")
    order = _form_order(form)
    root = Node(_check_name(root_name), attrs=dict(attrs or {}))
    _fill(root, answers, "/" + root_name, order)
    return root


def _form_order(form) -> dict[str, dict[str, int]]:
    """For each group path, the position of each child name in the form."""
    if form is None:
        return {}
    return {p: {c.name: i for i, c in enumerate(f.children)} for p, f in form.fields.items()}


def _fill(node: Node, obj: Mapping, path: str, order: dict) -> None:
    children: list[Node] = []
    for key, value in obj.items():
        if not isinstance(key, str):
            raise _error("answers_invalid", detail="keys must be strings")
        if key == TEXT_KEY:
            node.text = _scalar(value, path)
        elif key.startswith("@"):
            node.attrs[_check_name(key[1:])] = _scalar(value, f"{path}/{key}")
        else:
            name = _check_name(key)
            values = value if isinstance(value, list) else [value]
            for item in values:
                children.append(_child(name, item, f"{path}/{name}", order))
    positions = order.get(path)
    if positions:
        # sorted() is stable: instances of one repeat keep their order.
        children.sort(key=lambda c: positions.get(c.name, len(positions)))
    for child in children:
        node.append(child)


def _child(name: str, value, path: str, order: dict) -> Node:
    child = Node(name)
    if path.count("/") > MAX_DEPTH:  # the same limit as for XML bodies
        raise _error("answers_invalid", detail=f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, Mapping):
        _fill(child, value, path, order)
    else:
        child.text = _scalar(value, path)
    return child


_XML_NAME = re.compile(r"[A-Za-z_\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*")
# Characters XML 1.0 cannot carry (and lone surrogates, which UTF-8 cannot encode).
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _check_name(name: str) -> str:
    if not _XML_NAME.fullmatch(name):
        raise _error("answers_invalid", detail=f"{name!r} is not a valid element name")
    return name


def _scalar(value, path: str) -> str:
    """A JSON scalar as the string an ODK client would store."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _error("answers_invalid", detail=f"{path}: not a finite number")
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        if _BAD_CHARS.search(value):
            raise _error("answers_invalid", detail=f"{path}: control character not allowed in XML")
        return value
    raise _error("answers_invalid", detail=f"{path}: unexpected {type(value).__name__}")


def _error(code: str, **params) -> SubmissionError:
    en, vi = submission_message(code, **params)
    return SubmissionError(code, en, vi, status=400)
