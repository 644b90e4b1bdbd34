"""The pieces `forms.xform` reads from an XForm: safe XML, itext, the body, choice lists.

Kept apart from the reader so each stays small. Element names are compared by
local name: forms in the wild use other prefixes (or none) for the same
namespaces, and namespace-prefixed instance nodes become plain names.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lxml import etree

from forms.errors import FormError, form_problem
from forms.model import Choice, Text
from forms.tree import Node

NAMESPACES = {
    "http://openrosa.org/javarosa": "jr",
    "http://openrosa.org/xforms": "orx",
    "http://www.opendatakit.org/xforms": "odk",
    "http://www.opendatakit.org/xforms/entities": "entities",
}
MAX_XFORM_BYTES = 10 * 1024 * 1024
CONTROLS = frozenset(
    ("input", "select1", "select", "upload", "range", "trigger", "rank", "textarea", "secret")
)
ACTIONS = ("setvalue", "setgeopoint")
_ITEXT_RE = re.compile(r"""^\s*jr:itext\(\s*['"]([^'"]+)['"]\s*\)\s*$""")
_ITEXT_NODE_RE = re.compile(r"^\s*jr:itext\(\s*([\w.:-]+)\s*\)\s*$")
# Only the instance id and its steps are needed to find static options; the itemset
# expression itself is parsed by forms.xpath like every other expression.
_INSTANCE_RE = re.compile(r"""instance\(\s*['"]([^'"]+)['"]\s*\)((?:\s*/\s*[\w.:-]+)*)""")

OnOutput = Callable[[str], None]


def safe_xml(xml: bytes | str, limit: int = MAX_XFORM_BYTES) -> etree._Element:
    """Parse XML from outside: no entities, DTDs or network, bounded size, no DOCTYPE."""
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    if len(data) > limit:
        raise FormError([form_problem("xform.too_large", size=len(data), limit=limit)])
    # A fresh parser per call: lxml parsers must not be shared between threads.
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        tree = etree.fromstring(data, parser).getroottree()
    except etree.XMLSyntaxError as err:
        raise FormError([form_problem("xform.unreadable", detail=str(err))]) from err
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise FormError([form_problem("xform.forbidden", what="a DOCTYPE declaration")])
    return tree.getroot()


def local(el) -> str:
    """The local name of an element (namespace dropped); "" for non-elements."""
    tag = el.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def attr_name(qname: str) -> str:
    """`{http://openrosa.org/javarosa}count` → `jr:count`; unknown namespaces → local name."""
    if not qname.startswith("{"):
        return qname
    ns, _, name = qname[1:].partition("}")
    prefix = NAMESPACES.get(ns)
    return f"{prefix}:{name}" if prefix else name


def attrs(el) -> dict[str, str]:
    return {attr_name(k): v for k, v in el.attrib.items()}


def children(el, name: str) -> list:
    return [] if el is None else [c for c in el if local(c) == name]


def first(el, name: str):
    return next(iter(children(el, name)), None)


def elements(el) -> list:
    return [c for c in el if isinstance(c.tag, str)]


def norm_path(ref: str, context: str = "") -> str:
    """An absolute name path for `ref`, resolved against `context`, prefixes dropped."""
    ref = ref.strip()
    steps = [] if ref.startswith("/") else [s for s in context.split("/") if s]
    for raw in ref.split("/"):
        step = raw.strip()
        if step in ("", "."):
            continue
        if step == "..":
            if steps:
                steps.pop()
            continue
        steps.append(step if step.startswith("@") else step.rpartition(":")[2])
    return "/" + "/".join(steps)


def to_node(el, drop: frozenset[str] = frozenset()) -> Node:
    """An lxml element as a `Node` tree: local names, prefixed attribute names minus `drop`."""
    kids = elements(el)
    text = "" if kids else (el.text or "")
    node_attrs = {k: v for k, v in attrs(el).items() if k not in drop}
    node = Node(local(el), text if text.strip() else "", node_attrs)
    for child in kids:
        node.append(to_node(child, drop))
    return node


def mixed_text(el) -> tuple[str, list[str]]:
    """Text of a label or itext value, `<output value="x"/>` written as `${x}`; and the outputs."""
    parts, outputs = [el.text or ""], []
    for child in el:
        if local(child) == "output":
            value = (child.get("value") or child.get("ref") or "").strip()
            outputs.append(value)
            parts.append("${" + value + "}")
        parts.append(child.tail or "")
    return "".join(parts).strip(), outputs


@dataclass(slots=True)
class Itext:
    """The form's translations: languages in form order, the default, texts by id and language."""

    languages: list[str] = field(default_factory=list)
    default: str | None = None
    texts: dict[str, dict[str, tuple[str, list[str]]]] = field(default_factory=dict)

    def by_id(self, text_id: str, on_output: OnOutput | None = None) -> Text:
        by_lang = {}
        for lang, (text, outputs) in self.texts.get(text_id, {}).items():
            by_lang[lang] = text
            for source in outputs if on_output else ():
                on_output(source)
        return Text(by_lang)

    def text(self, el, on_output: OnOutput | None = None) -> Text:
        """The text of a label/hint element: an itext reference or inline text."""
        if el is None:
            return Text()
        match = _ITEXT_RE.match(el.get("ref") or "")
        if match:
            return self.by_id(match.group(1), on_output)
        text, outputs = mixed_text(el)
        for source in outputs if on_output else ():
            on_output(source)
        return Text({"": text}) if text else Text()

    def resolve(self, value: str, on_output: OnOutput | None = None) -> Text:
        """An attribute value (jr:constraintMsg...): `jr:itext('id')` or plain text."""
        match = _ITEXT_RE.match(value)
        return self.by_id(match.group(1), on_output) if match else Text({"": value})


def read_itext(model_el) -> Itext:
    """Translations; the default is the one marked default="true()", else the first."""
    itext = Itext()
    for translation in children(first(model_el, "itext"), "translation"):
        lang = translation.get("lang") or ""
        itext.languages.append(lang)
        if itext.default is None and translation.get("default", "").strip() in ("true()", "true"):
            itext.default = lang
        for text_el in children(translation, "text"):
            # Media forms (image, audio, video) and "short"/"guidance" are not label text.
            values = [v for v in children(text_el, "value") if v.get("form") in (None, "long")]
            if values:
                itext.texts.setdefault(text_el.get("id", ""), {})[lang] = mixed_text(values[0])
    if itext.default is None and itext.languages:
        itext.default = itext.languages[0]
    return itext


@dataclass(slots=True)
class BodyInfo:
    """What the body says about one node: its control, texts, appearance, repeat settings."""

    control: str
    element: object | None = None
    label: object | None = None
    hint: object | None = None
    appearance: str | None = None
    range: dict[str, str] | None = None
    repeat_count: str | None = None
    no_add_remove: bool = False


class Body(dict):
    """BodyInfo by path, plus every setvalue/setgeopoint as (element, trigger path, context)."""

    def __init__(self) -> None:
        super().__init__()
        self.actions: list[tuple[object, str | None, str]] = []


def read_body(body_el) -> Body:
    body = Body()
    if body_el is not None:
        _walk(body_el, "", body)
    return body


def _walk(el, context: str, body: Body) -> None:
    for child in elements(el):
        name = local(child)
        if name == "group":
            path = norm_path(child.get("ref"), context) if child.get("ref") else None
            if path:
                info = body.setdefault(path, BodyInfo("group"))
                info.label = first(child, "label")
                info.hint = first(child, "hint")
                info.appearance = child.get("appearance")
            _walk(child, path or context, body)
        elif name == "repeat":
            path = norm_path(child.get("nodeset") or child.get("ref") or "", context)
            info = body.setdefault(path, BodyInfo("repeat"))
            info.control = "repeat"
            info.repeat_count = attrs(child).get("jr:count")
            no_add = attrs(child).get("jr:noAddRemove", "").strip()
            info.no_add_remove = no_add in ("true()", "true")
            info.appearance = info.appearance or child.get("appearance")
            _walk(child, path, body)
        elif name in CONTROLS and child.get("ref"):
            path = norm_path(child.get("ref"), context)
            body[path] = _control(child, name)
            body.actions += [(a, path, context) for a in elements(child) if local(a) in ACTIONS]
        elif name in ACTIONS:
            body.actions.append((child, None, context))


def _control(el, name: str) -> BodyInfo:
    info = BodyInfo(name, el, first(el, "label"), first(el, "hint"), el.get("appearance"))
    if name == "range":
        info.range = {k: el.get(k) for k in ("start", "end", "step") if el.get(k) is not None}
    return info


@dataclass(slots=True)
class ChoiceParts:
    """A select's options as read from the body, before the nodeset is parsed."""

    items: list[Choice] = field(default_factory=list)
    instance_id: str | None = None
    nodeset_source: str | None = None
    value_ref: str = "name"
    label_ref: str | None = None
    external: bool = False
    filtered: bool = False


def read_choices(el, secondary: dict[str, Node], external: dict[str, str], itext: Itext):
    """The options of a select control, or None when it has none to read."""
    itemset = first(el, "itemset")
    if itemset is not None:
        return _itemset(itemset, secondary, external, itext)
    items = children(el, "item")
    if items:
        return ChoiceParts(
            items=[
                Choice(name=(_child_text(i, "value")), label=itext.text(first(i, "label")))
                for i in items
            ],
            value_ref="value",
        )
    query = el.get("query")  # the old select_one_external: options live in a CSV
    if query:
        return ChoiceParts(nodeset_source=query, external=True, filtered="[" in query)
    return None


def _child_text(el, name: str) -> str:
    found = first(el, name)
    return (found.text or "").strip() if found is not None else ""


def _itemset(itemset, secondary, external, itext: Itext) -> ChoiceParts:
    nodeset = itemset.get("nodeset") or ""
    value_el, label_el = first(itemset, "value"), first(itemset, "label")
    parts = ChoiceParts(
        nodeset_source=nodeset,
        value_ref=(value_el.get("ref") if value_el is not None else None) or "value",
        label_ref=label_el.get("ref") if label_el is not None else None,
        filtered="[" in nodeset,
    )
    match = _INSTANCE_RE.search(nodeset)
    if match is None:
        return parts
    parts.instance_id = match.group(1)
    if parts.instance_id in external:
        parts.external = True
        return parts
    steps = [s.strip() for s in match.group(2).split("/") if s.strip()]
    root = secondary.get(parts.instance_id)
    nodes = [root] if root is not None and steps and root.name == steps[0] else []
    for step in steps[1:]:
        nodes = [c for n in nodes for c in n.children if c.name == step]
    parts.items = [_choice(n, parts.value_ref, parts.label_ref, itext) for n in nodes]
    return parts


def _choice(item: Node, value_ref: str, label_ref: str | None, itext: Itext) -> Choice:
    value_node = item.child(value_ref)
    itext_match = _ITEXT_NODE_RE.match(label_ref or "")
    label_child = itext_match.group(1) if itext_match else label_ref
    label_node = item.child(label_child) if label_child else None
    label = Text()
    if itext_match and label_node is not None:
        label = itext.by_id(label_node.text)
    elif label_node is not None and label_node.text:
        label = Text({"": label_node.text})
    skip = {value_ref, label_child, "itextId"}
    extra = {c.name: c.string_value() for c in item.children if c.name not in skip}
    return Choice(value_node.text if value_node is not None else "", label, extra)
