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
from forms.model import derived
from forms.tree import Node

if TYPE_CHECKING:
    from forms.model import Field, FormModel

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
    shape = derived(form, "answers.shape", _shape) if form is not None else None
    return _object(root, shape, "/" + root.name)


def _shape(form: FormModel) -> dict[str, dict[str, tuple[str, bool]]]:
    """For each group path: child name -> (child path, is a repeat)."""
    return {
        path: {c.name: (c.path, c.kind == "repeat") for c in f.children if c.kind != "attribute"}
        for path, f in form.fields.items()
        if f.children
    }


def _object(node: Node, shape: dict | None, path: str) -> dict:
    """`node` as an object. Without a form (`shape` None) paths are not needed."""
    out: dict = {f"@{k}": v for k, v in node.attrs.items()} if node.attrs else {}
    kids = shape.get(path) if shape is not None else None
    listed: set[str] | None = None  # names whose value became a list of siblings
    for child in node.children:
        name = child.name
        repeat = False
        child_path = None
        if shape is not None:
            info = kids.get(name) if kids is not None else None
            child_path, repeat = info if info is not None else (f"{path}/{name}", False)
        if child.children or repeat:
            value = _object(child, shape, child_path)
        elif child.attrs:
            value = {**{f"@{k}": v for k, v in child.attrs.items()}, TEXT_KEY: child.text}
        else:
            value = child.text
        if repeat:
            out.setdefault(name, []).append(value)
        elif name not in out:
            out[name] = value
        elif listed is not None and name in listed:
            out[name].append(value)
        else:  # a second sibling of this name: the name's value becomes their list
            out[name] = [out[name], value]
            if listed is None:
                listed = set()
            listed.add(name)
    return out


def from_answers(answers: Mapping, form: FormModel, *, entities: list[Node] | None = None) -> Node:
    """Build the answer tree of `form` from JSON answers (inverse of `to_answers`).

    The root gets the form's root name and its template attributes (id,
    version, ...), which "@" keys in `answers` may override; children follow
    the form's order, unknown names come last in the order given. `entities`,
    when given, receives the `meta/entity` elements in document order, as the
    tree is built (for `Submission.from_root`, which then need not walk it).
    """
    attrs = dict(form.template.attrs) if form.template is not None else {}
    attrs["id"] = form.form_id
    if form.version:
        attrs["version"] = form.version
    return answers_to_node(answers, form.root_name, attrs, form=form, entities=entities)


def answers_to_node(
    answers: Mapping,
    root_name: str,
    attrs: Mapping[str, str] | None = None,
    *,
    form=None,
    entities: list[Node] | None = None,
) -> Node:
    """Build a `Node` tree named `root_name` from JSON answers (see `to_answers`).

    Raises `SubmissionError` (400) for names that are not XML names and for
    values that are neither strings, numbers, booleans, null, objects nor lists.
    """
    if not isinstance(answers, Mapping):
        raise _error("answers_invalid", detail="answers must be an object")
    order = derived(form, "answers.order", _form_order) if form is not None else {}
    root = Node(_check_name(root_name), attrs=dict(attrs or {}))
    _fill(root, answers, "/" + root_name, order, 1, entities)
    return root


def _form_order(form: FormModel) -> dict[str, dict[str, int]]:
    """For each group path, the position of each child name in the form."""
    return {p: {c.name: i for i, c in enumerate(f.children)} for p, f in form.fields.items()}


def _fill(
    node: Node, obj: Mapping, path: str, order: dict, depth: int, entities: list | None = None
) -> None:
    """Give `node` (at `path`, `depth` levels deep) the attributes, text and children in `obj`.

    Children follow the form's order for `path` (names it lacks last, as
    given); instances of one repeat keep their order. Nodes are built without
    `Node.__init__` (the tree is new: there is no index to keep). `entities`, when
    given, receives each `meta/entity` element as it is made (document order).
    """
    items = list(obj.items())
    positions = order.get(path)
    if positions and len(items) > 1:
        last = len(positions)
        ranks = [positions.get(k, -1 if k[:1] in "@#" else last) for k, _ in items]
        if ranks != sorted(ranks):
            items = [items[i] for i in sorted(range(len(items)), key=ranks.__getitem__)]
    kids, new, good = node.children, Node.__new__, _GOOD_NAMES
    for key, value in items:
        if type(key) is not str and not isinstance(key, str):
            raise _error("answers_invalid", detail="keys must be strings")
        if key == TEXT_KEY:
            node.text = _scalar(value, path, None)
            continue
        if key[:1] == "@":
            name = key[1:]
            node.attrs[name if name in good else _check_name(name)] = _scalar(value, path, key)
            continue
        name = key if key in good else _check_name(key)
        child_path = None
        noted = entities is not None and name == "entity" and node.name == "meta"
        for item in value if type(value) is list else (value,):
            if depth >= MAX_DEPTH:  # the same limit as for XML bodies
                raise _error("answers_invalid", detail=f"nested more than {MAX_DEPTH} levels deep")
            child = new(Node)
            child.name, child.attrs, child.children, child.parent, child._index = (
                name, {}, [], node, None,
            )  # fmt: skip
            if noted:
                entities.append(child)
            if type(item) is str and item.isascii() and item.isprintable():
                child.text = item  # the common case: nothing to convert or refuse
            elif type(item) is dict or isinstance(item, Mapping):
                child.text = ""
                if child_path is None:
                    child_path = f"{path}/{name}"
                _fill(child, item, child_path, order, depth + 1, entities)
            else:
                child.text = _scalar(item, path, name)
            kids.append(child)


_XML_NAME = re.compile(r"[A-Za-z_\u00C0-\uFFFF][\w.\-\u00B7\u00C0-\uFFFF]*")
# Characters XML 1.0 cannot carry (and lone surrogates, which UTF-8 cannot encode).
_BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_GOOD_NAMES: set[str] = set()  # names already checked (they repeat in every submission)


def _check_name(name: str) -> str:
    if not _XML_NAME.fullmatch(name):
        raise _error("answers_invalid", detail=f"{name!r} is not a valid element name")
    if len(_GOOD_NAMES) < 10_000:
        _GOOD_NAMES.add(name)
    return name


def _scalar(value, parent: str, name: str | None) -> str:
    """A JSON scalar as the string an ODK client would store (for `name` under `parent`)."""
    path = parent if name is None else f"{parent}/{name}"
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


def answers_from_values(field: Field, values: Mapping, *, keep_empty: bool = False) -> dict:
    """JSON answers for every node under `field` from a flat dict, as Collect submits them.

    Field names are unique in a pyxform form, so `values` is flat: name -> value,
    a repeat's name -> list of flat dicts, "@name" -> an attribute value. A leaf
    without a value is left out, as Collect leaves out what is not relevant (and
    the server computes calculations); with `keep_empty` it is an empty answer
    instead, as Collect sends with "keep non-relevant" (calculations then have
    their node in the tree to be read back).
    """
    out: dict = {}
    for child in field.children:
        if child.kind == "attribute":
            out[f"@{child.name}"] = values.get(f"@{child.name}", child.default or "")
        elif child.kind == "repeat":
            items = values.get(child.name, [])
            out[child.name] = [
                answers_from_values(child, {**values, **item}, keep_empty=keep_empty)
                for item in items
            ]
        elif child.kind == "group" or child.children:
            out[child.name] = answers_from_values(child, values, keep_empty=keep_empty)
        elif child.name in values or keep_empty:
            out[child.name] = values.get(child.name, "")
    return out
