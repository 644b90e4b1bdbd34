"""XForm XML → `FormModel`: the one path every form takes (pyxform output or uploaded XML).

The XML comes from outside, so it is parsed with lxml set up not to resolve
entities, load DTDs or touch the network, documents with a DOCTYPE are refused
and a size limit applies. Element names are read by local name, so a form
written with other namespace prefixes reads the same. Paths in the model are
absolute name paths with namespace prefixes dropped (/data/meta/instanceID).

Every expression is parsed once here. `parse_xform` records each one as an
`ExprSite` (where it was written, its parse result or syntax error) so that
`forms.checks` can report every problem at the XLSForm cell or XForm attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from forms.errors import FormError, FormProblem, form_problem
from forms.model import ChoiceSource, Field, FormModel, SetValue, Text
from forms.tree import Node
from forms.xform_entities import read_entities
from forms.xform_parts import (
    ACTIONS,
    MAX_XFORM_BYTES,
    Body,
    attr_name,
    attrs,
    children,
    elements,
    first,
    local,
    norm_path,
    read_body,
    read_choices,
    read_itext,
    safe_xml,
    to_node,
)
from forms.xpath import Expr, XPathSyntaxError, parse

__all__ = ["MAX_XFORM_BYTES", "ExprSite", "XFormReading", "parse_xform", "read_xform", "safe_xml"]

_DATATYPES = {
    "int": "int", "integer": "int", "long": "int", "short": "int",
    "decimal": "decimal", "double": "decimal", "float": "decimal",
    "datetime": "dateTime", "select1": "select_one", "select": "select_multiple",
    "rank": "rank", "odk:rank": "rank", "base64binary": "binary",
}  # fmt: skip
_CONTROL_DATATYPES = {"select1": "select_one", "select": "select_multiple", "rank": "rank"}
_BIND_EXPRS = ("relevant", "required", "constraint", "calculate", "readonly")
# Where each part of an entity declaration is written on the XLSForm entities sheet.
_ENTITY_KEYS = {
    "@create": "create_if", "@update": "update_if", "@id": "entity_id", "label": "label",
    "@baseVersion": "entity_id", "@trunkVersion": "entity_id", "@branchId": "entity_id",
}  # fmt: skip


@dataclass(slots=True)
class ExprSite:
    """One expression of the form: where it is written and what parsing it gave.

    `field` is the path the expression belongs to and `attribute` the XForm
    attribute (relevant, calculate, jr:count, itemset, setvalue, label...).
    `xls_sheet` and `xls_key` say where an XLSForm author wrote it: the
    survey column key ("choice_filter", "default"), the entities sheet of
    `dataset`, or the settings sheet.
    """

    source: str
    field: str
    attribute: str
    context: str
    expr: Expr | None = None
    error: XPathSyntaxError | None = None
    xls_sheet: str = "survey"
    xls_key: str = ""
    dataset: str | None = None


@dataclass(slots=True)
class XFormReading:
    """What `parse_xform` found: the model, every expression site and structural problems."""

    model: FormModel
    sites: list[ExprSite] = field(default_factory=list)
    problems: list[FormProblem] = field(default_factory=list)


def read_xform(xml: bytes | str, *, default_language: str | None = None) -> FormModel:
    """Read an XForm into a `FormModel`, refusing it if it is unreadable or malformed.

    Use `forms.load.load_form` for uploads: it also runs every load-time check.
    """
    reading = parse_xform(xml, default_language=default_language)
    problems = list(reading.problems)
    problems += [
        form_problem("expr.syntax", field=s.field, column=s.attribute, **syntax_params(s))
        for s in reading.sites
        if s.error is not None
    ]
    if problems:
        raise FormError(problems)
    return reading.model


def syntax_params(site: ExprSite) -> dict:
    """Message parameters for a syntax error: the expression, position, detail, nearby text."""
    position = getattr(site.error, "position", 0) or 0
    return {
        "expr": site.source.strip(),
        "position": position + 1,
        "detail": getattr(site.error, "message", None) or str(site.error),
        "detail_vi": getattr(site.error, "message_vi", None) or str(site.error),
        "near": site.source[max(0, position - 5) : position + 10],
    }


def parse_xform(xml: bytes | str, *, default_language: str | None = None) -> XFormReading:
    """Read an XForm into a model and expression sites without raising on expression problems.

    Raises `FormError` only when no model can be built at all.
    """
    return _Reader(xml, default_language).read()


class _Reader:
    """One XForm being read; holds what the separate passes share."""

    def __init__(self, xml: bytes | str, default_language: str | None) -> None:
        self.xml = xml.encode("utf-8") if isinstance(xml, str) else xml
        self.root = safe_xml(self.xml)
        self.default_language = default_language
        self.sites: list[ExprSite] = []
        self.problems: list[FormProblem] = []
        self.cache: dict[str, Expr | XPathSyntaxError] = {}
        self.entity_paths: dict[str, str] = {}

    def expr(self, source: str | None, path: str, attribute: str, **place) -> Expr | None:
        """Parse `source` once, record where it was written, and return it (None if broken).

        `place` may give `context` (for relative paths) and the XLSForm location
        (`xls_sheet`, `xls_key`, `dataset`), see `ExprSite`.
        """
        if source is None or not source.strip():
            return None
        parsed = self.cache.get(source)
        if parsed is None:
            try:
                parsed = parse(source)
            except XPathSyntaxError as err:
                parsed = err
            self.cache[source] = parsed
        error = parsed if isinstance(parsed, XPathSyntaxError) else None
        site = ExprSite(source, path, attribute, place.pop("context", path), None, error)
        site.expr = None if error else parsed
        site.xls_key = place.pop("xls_key", attribute)
        site.xls_sheet = place.pop("xls_sheet", "survey")
        site.dataset = place.pop("dataset", None)
        self.sites.append(site)
        return site.expr

    def read(self) -> XFormReading:
        head = self.child(self.root, "head", "the h:head element")
        model_el = self.child(head, "model", "the model element")
        instances = children(model_el, "instance")
        primary = elements(instances[0]) if instances else []
        if not primary:
            raise _structure("a primary instance")
        form_id = primary[0].get("id")
        if not form_id:
            raise _structure("the form id (id attribute on the primary instance root)")
        self.itext = read_itext(model_el)
        self.binds = self.read_binds(model_el)
        self.template = to_node(primary[0], drop=frozenset({"jr:template"}))
        self.body: Body = read_body(first(self.root, "body"))
        repeats = {p for p, info in self.body.items() if info.control == "repeat"}
        self.problems += _dedupe_repeats(primary[0], self.template, repeats)
        self.find_entity_paths()
        root_field = self.build_field(self.template, None)
        fields = {f.path: f for f in root_field.walk()}
        self.check_targets(fields)
        self.read_actions(model_el, fields)
        secondary, external = _instances(instances[1:])
        self.attach_choices(fields, secondary, external)
        title = first(head, "title")
        model = FormModel(
            form_id=form_id,
            version=primary[0].get("version") or "",
            title=((title.text or "").strip() if title is not None else "") or form_id,
            root_name=self.template.name,
            root=root_field,
            fields=fields,
            template=self.template,
            xform=self.xml,
            languages=list(self.itext.languages),
            instances=secondary,
            external_instances=external,
        )
        self.settings(model, model_el)
        version = attrs(model_el).get("entities:entities-version", "")
        model.entities, problems = read_entities(version, self.entity_paths, fields)
        self.problems += problems
        return XFormReading(model, self.sites, self.problems)

    @staticmethod
    def child(el, name: str, what: str):
        found = first(el, name)
        if found is None:
            raise _structure(what)
        return found

    def read_binds(self, model_el) -> dict[str, dict[str, str]]:
        """Binds by absolute path; split binds on one node merge, conflicting ones are refused."""
        binds: dict[str, dict[str, str]] = {}
        for el in children(model_el, "bind"):
            values = attrs(el)
            nodeset = values.pop("nodeset", None) or values.pop("ref", None)
            if not nodeset:
                continue
            path = norm_path(nodeset)
            merged = binds.setdefault(path, {})
            if any(k in merged and merged[k] != v for k, v in values.items()):
                self.problems.append(form_problem("bind.duplicate", field=path))
            merged.update(values)
        return binds

    def find_entity_paths(self) -> None:
        for node in self.template.iter():
            if node.name == "entity" and node.parent is not None and node.parent.name == "meta":
                self.entity_paths[node.path()] = node.attrs.get("dataset", "")

    # -- fields ----------------------------------------------------------------------

    def build_field(self, node: Node, parent: Field | None) -> Field:
        path = node.path()
        bind = self.binds.get(path, {})
        info = self.body.get(path)
        f = Field(path=path, name=node.name, parent=parent)
        f.kind = _kind(node, f, bind, info)
        f.control = info.control if info and info.control not in ("group", "repeat") else None
        f.datatype = "" if f.kind in ("group", "repeat") else _datatype(bind, f.control)
        if f.kind not in ("group", "repeat"):
            f.default = node.text or None
        self.apply_bind(f, bind)
        if info is not None:
            self.apply_body(f, info)
        for name, value in node.attrs.items():
            if path in self.entity_paths or f"{path}/@{name}" in self.binds:
                f.children.append(self.attribute_field(f, name, value))
        for child in node.children:
            f.children.append(self.build_field(child, f))
        return f

    def attribute_field(self, owner: Field, name: str, value: str) -> Field:
        path = f"{owner.path}/@{name}"
        bind = self.binds.get(path, {})
        f = Field(path=path, name=name, kind="attribute", parent=owner, default=value or None)
        f.datatype = _datatype(bind, None)
        self.apply_bind(f, bind)
        return f

    def xls_place(self, path: str, attribute: str) -> dict:
        """Where an XLSForm author wrote expression `attribute` of the node at `path`."""
        for entity_path, dataset in self.entity_paths.items():
            if path.startswith(entity_path + "/"):
                part = path[len(entity_path) + 1 :]
                key = _ENTITY_KEYS.get(part, part)
                return {"xls_sheet": "entities", "xls_key": key, "dataset": dataset}
        if path == f"/{self.template.name}/meta/instanceName":
            return {"xls_sheet": "settings", "xls_key": "instance_name"}
        return {"xls_key": attribute}

    def apply_bind(self, f: Field, bind: dict) -> None:
        for name in _BIND_EXPRS:
            setattr(
                f, name, self.expr(bind.get(name), f.path, name, **self.xls_place(f.path, name))
            )
        f.constraint_message = self.message(bind.get("jr:constraintMsg"), f, "jr:constraintMsg")
        f.required_message = self.message(bind.get("jr:requiredMsg"), f, "jr:requiredMsg")
        if "jr:preload" in bind:
            f.preload = (bind["jr:preload"], bind.get("jr:preloadParams", ""))
        f.saveto = bind.get("entities:saveto")

    def on_output(self, f: Field, attribute: str):
        """A callback recording `<output value>` expressions found in a text of `f`."""
        return lambda source: self.expr(source, f.path, attribute)

    def message(self, value: str | None, f: Field, attribute: str) -> Text:
        return self.itext.resolve(value, self.on_output(f, attribute)) if value else Text()

    def apply_body(self, f: Field, info) -> None:
        f.label = self.itext.text(info.label, self.on_output(f, "label"))
        f.hint = self.itext.text(info.hint, self.on_output(f, "hint"))
        f.appearance = info.appearance
        f.range = info.range
        f.repeat_count = self.expr(info.repeat_count, f.path, "jr:count")
        f.no_add_remove = info.no_add_remove

    def check_targets(self, fields: dict[str, Field]) -> None:
        unknown = [("bind", p) for p in self.binds if p not in fields]
        unknown += [("control", p) for p in self.body if p not in fields]
        for element, path in unknown:
            self.problems.append(form_problem("bind.unknown_node", element=element, field=path))

    # -- actions, choices, settings, entities ---------------------------------------

    def read_actions(self, model_el, fields: dict[str, Field]) -> None:
        """Attach each setvalue/setgeopoint to the field it sets, one per event."""
        in_model = [(a, None, "") for a in elements(model_el) if local(a) in ACTIONS]
        for el, trigger, context in in_model + self.body.actions:
            target = norm_path(el.get("ref") or "", context)
            f = fields.get(target)
            if f is None:
                self.problems.append(
                    form_problem("bind.unknown_node", element=local(el), field=target)
                )
                continue
            value = None
            if local(el) == "setvalue":
                source = el.get("value")
                if source is None and (el.text or "").strip():
                    source = _literal(el.text)
                key = "calculate" if trigger else "default"
                value = self.expr(source, target, "setvalue", **self.xls_place(target, key))
            for event in (el.get("event") or "").split():
                f.setvalues.append(SetValue(event, target, value, local(el), trigger))
            if trigger and f.kind == "question" and f.control is None:
                f.kind = "calculate"  # a hidden node computed when another answer changes

    def attach_choices(self, fields, secondary: dict[str, Node], external: dict[str, str]):
        for path, info in self.body.items():
            f = fields.get(path)
            if f is None or info.element is None:
                continue
            parts = read_choices(info.element, secondary, external, self.itext)
            if parts is None:
                continue
            key = "choice_filter" if parts.filtered else "itemset"
            nodeset = self.expr(parts.nodeset_source, path, "itemset", xls_key=key)
            f.choices = ChoiceSource(
                items=parts.items,
                instance_id=parts.instance_id,
                nodeset=nodeset,
                value_ref=parts.value_ref,
                label_ref=parts.label_ref,
                external=parts.external,
                filtered=parts.filtered,
            )

    def settings(self, model: FormModel, model_el) -> None:
        langs = self.itext.languages
        model.default_language = self.itext.default
        if self.default_language is not None and langs:
            if self.default_language not in langs:
                self.problems.append(
                    form_problem(
                        "language.unknown",
                        language=self.default_language,
                        languages=", ".join(langs),
                        suggestion=langs[0],
                    )
                )
            else:
                model.default_language = self.default_language
        meta_name = model.fields.get(f"/{model.root_name}/meta/instanceName")
        model.instance_name = meta_name.calculate if meta_name else None
        submission = first(model_el, "submission")
        if submission is not None:
            model.submission_url = submission.get("action")
            if submission.get("base64RsaPublicKey"):
                model.warnings.append("The form encrypts submissions; the server cannot read them.")


def _structure(what: str) -> FormError:
    return FormError([form_problem("xform.structure", what=what)])


def _kind(node: Node, f: Field, bind: dict, info) -> str:
    if info is not None and info.control in ("group", "repeat"):
        return info.control
    if node.children or node.parent is None:
        return "group"
    if info is not None:
        return "question"
    ancestor = f.parent
    while ancestor is not None and ancestor.name != "meta":
        ancestor = ancestor.parent
    if ancestor is not None or "jr:preload" in bind:
        return "meta"
    return "calculate" if "calculate" in bind else "question"


def _datatype(bind: dict, control: str | None) -> str:
    """The normalised datatype: select controls win over the bind type (pyxform says string)."""
    if control in _CONTROL_DATATYPES:
        return _CONTROL_DATATYPES[control]
    raw = bind.get("type", "string")
    bare = raw.partition(":")[2] if raw.startswith("xsd:") else raw
    return _DATATYPES.get(raw, _DATATYPES.get(bare.lower(), bare))


def _instances(instance_els) -> tuple[dict[str, Node], dict[str, str]]:
    """Secondary instances by id (inline content as a Node tree) and external ones' src."""
    secondary: dict[str, Node] = {}
    external: dict[str, str] = {}
    for el in instance_els:
        iid = el.get("id")
        if not iid:
            continue
        if el.get("src"):
            external[iid] = el.get("src")
        content = elements(el)
        if content:
            secondary[iid] = to_node(content[0])
    return secondary, external


def _dedupe_repeats(el, node: Node, repeats: set[str]) -> list[FormProblem]:
    """Keep one element per repeat (the jr:template one, else the first); report other twins.

    Repeats are known by `jr:template` or by a body `<repeat>`; two siblings of
    one name that are not a repeat would make field paths ambiguous.
    """
    problems = []
    kids = elements(el)
    templates = {local(c) for c in kids if _is_template(c)}
    kept, seen = [], set()
    for child_el, child in zip(kids, node.children, strict=True):
        is_repeat = child.name in templates or child.path() in repeats
        if child.name in seen:
            if not is_repeat:
                problems.append(form_problem("field.duplicate", field=child.path()))
            continue
        if child.name in templates and not _is_template(child_el):
            continue
        seen.add(child.name)
        problems += _dedupe_repeats(child_el, child, repeats)
        kept.append(child)
    node.set_children(kept)
    return problems


def _is_template(el) -> bool:
    return any(attr_name(k) == "jr:template" for k in el.attrib)


def _literal(text: str) -> str:
    """An XPath string literal for `text` (setvalue with a text value instead of @value)."""
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return "concat(" + ', "\'", '.join(f"'{part}'" for part in text.split("'")) + ")"
