"""The form model: what giupho knows about a form version, read from its XForm.

Every form, whether uploaded as XLSForm (converted by pyxform) or as XForm XML,
ends up as one `FormModel` built by `forms.xform.read_xform`. Expressions are
parsed once here (as `forms.xpath.Expr`) and evaluated many times.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from forms.tree import Node
from forms.xpath import Expr


@dataclass(frozen=True, slots=True)
class Text:
    """A piece of text in every language the form has ("" when it has none)."""

    by_lang: Mapping[str, str] = field(default_factory=dict)

    def get(self, lang: str | None = None, fallback: str | None = None) -> str:
        """The text in `lang`, else in `fallback`, else in any language, else ""."""
        for key in (lang, fallback, ""):
            if key is not None and self.by_lang.get(key):
                return self.by_lang[key]
        return next((v for v in self.by_lang.values() if v), "")

    def __bool__(self) -> bool:
        return any(self.by_lang.values())


@dataclass(frozen=True, slots=True)
class Choice:
    """One option of a select: its value, label and any extra columns (for choice filters)."""

    name: str
    label: Text = field(default_factory=Text)
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ChoiceSource:
    """Where a select's options come from.

    `items` holds static options (inline `<item>`s or the rows of a secondary
    instance). `nodeset` is the itemset expression including any
    `choice_filter` predicate; it is None for inline items. External itemsets
    (`jr://file-csv/...`, `select_one_from_file`) have `external=True` and no
    items: their options only exist on the device.
    """

    items: list[Choice] = field(default_factory=list)
    instance_id: str | None = None
    nodeset: Expr | None = None
    value_ref: str = "name"
    label_ref: str | None = None
    external: bool = False
    filtered: bool = False


@dataclass(slots=True)
class SetValue:
    """A `<setvalue>` / `<odk:setgeopoint>` action: on `event`, set `ref` to `value`.

    `trigger` is the path of the control the action sits in (for
    xforms-value-changed: the question whose change fires it), else None.
    """

    event: str
    ref: str
    value: Expr | None
    kind: str = "setvalue"
    trigger: str | None = None


@dataclass(slots=True, eq=False)
class Field:
    """A node of the form: question, group, repeat, calculate or metadata.

    `path` is the absolute name path (`/data/members/name`, no positions).
    `datatype` is the normalised bind type: string, int, decimal, date, time,
    dateTime, geopoint, geotrace, geoshape, select_one, select_multiple,
    binary, barcode, boolean, rank, or "" for groups and repeats.
    `control` is the body element (input, select1, select, upload, range,
    trigger, rank) or None for nodes without a widget (calculate, meta).
    """

    path: str
    name: str
    kind: str = "question"  # question | group | repeat | calculate | meta | attribute
    datatype: str = "string"
    control: str | None = None
    appearance: str | None = None
    label: Text = field(default_factory=Text)
    hint: Text = field(default_factory=Text)
    relevant: Expr | None = None
    required: Expr | None = None
    required_message: Text = field(default_factory=Text)
    constraint: Expr | None = None
    constraint_message: Text = field(default_factory=Text)
    calculate: Expr | None = None
    readonly: Expr | None = None
    default: str | None = None
    preload: tuple[str, str] | None = None
    setvalues: list[SetValue] = field(default_factory=list)
    choices: ChoiceSource | None = None
    repeat_count: Expr | None = None
    no_add_remove: bool = False
    saveto: str | None = None
    range: Mapping[str, str] | None = None
    children: list[Field] = field(default_factory=list)
    parent: Field | None = field(default=None, repr=False)

    @property
    def in_repeat(self) -> bool:
        node = self.parent
        while node is not None:
            if node.kind == "repeat":
                return True
            node = node.parent
        return False

    def walk(self):
        """This field and every field below it, in form order."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(slots=True)
class EntityDeclaration:
    """An entities-spec declaration (`meta/entity`): how a submission creates or updates an entity.

    `properties` maps each entity property to the field path whose bind
    carries `entities:saveto`. `path` is where the entity element sits
    (`/data/meta/entity`; inside a repeat from spec 2025.1).
    """

    dataset: str
    spec_version: str
    path: str
    create_if: Expr | None = None
    update_if: Expr | None = None
    entity_id: Expr | None = None
    label: Expr | None = None
    base_version: Expr | None = None
    trunk_version: Expr | None = None
    branch_id: Expr | None = None
    properties: dict[str, str] = field(default_factory=dict)
    static_create: bool = False
    static_update: bool = False


@dataclass(slots=True)
class FormModel:
    """A form version as the server and the client use it."""

    form_id: str
    version: str
    title: str
    root_name: str
    root: Field
    fields: dict[str, Field]
    template: Node
    xform: bytes
    default_language: str | None = None
    languages: list[str] = field(default_factory=list)
    instance_name: Expr | None = None
    instances: dict[str, Node] = field(default_factory=dict)
    external_instances: dict[str, str] = field(default_factory=dict)
    entities: list[EntityDeclaration] = field(default_factory=list)
    submission_url: str | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def md5(self) -> str:
        """`md5:`-prefixed hash of the XForm bytes, as the OpenRosa form list wants it."""
        return "md5:" + hashlib.md5(self.xform, usedforsecurity=False).hexdigest()

    @property
    def entity(self) -> EntityDeclaration | None:
        return self.entities[0] if self.entities else None

    def field(self, path: str) -> Field | None:
        return self.fields.get(path)

    def questions(self) -> list[Field]:
        """Fields that hold a value (not groups or repeats), in form order."""
        return [
            f for f in self.root.walk() if f.kind not in ("group", "repeat") and f is not self.root
        ]


T = TypeVar("T")
_DERIVED: OrderedDict[tuple[int, str], tuple[FormModel, object]] = OrderedDict()
_DERIVED_SIZE = 256
_DERIVED_LOCK = threading.Lock()


def derived(form: FormModel, name: str, build: Callable[[FormModel], T]) -> T:
    """`build(form)`, computed once per form and `name` and then reused.

    For what depends only on a form version and is needed for every
    submission (field orders, repeat paths). Entries hold their form, so an id
    is never mistaken for another form's; the least recently used go first.
    """
    key = (id(form), name)
    with _DERIVED_LOCK:
        found = _DERIVED.get(key)
        if found is not None and found[0] is form:
            _DERIVED.move_to_end(key)
            return found[1]  # type: ignore[return-value]
    value = build(form)
    with _DERIVED_LOCK:
        _DERIVED[key] = (form, value)
        if len(_DERIVED) > _DERIVED_SIZE:
            _DERIVED.popitem(last=False)
    return value
