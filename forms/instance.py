"""Submissions: XML in and out, and the JSON answers of the sync API.

`parse_submission` reads what Collect, Enketo or our own client sends. The
body comes from outside, so it is parsed with lxml in its safe mode (no DTD
loading, no entity expansion, no network, libxml2's default size limits) and
any document type declaration is refused outright: an XML bomb or an external
entity is rejected before anything is expanded or fetched.

The JSON answers (`to_answers`, `from_answers`, `answers_to_node`, written in
`forms.answers` and exported here) are the same tree written as plain objects,
so that a visit sent over the JSON API and the same visit sent over OpenRosa
become the same `Node` tree (and the same hash, `forms.canonical`).
"""

from __future__ import annotations

import pyexpat
import re
import threading
from dataclasses import dataclass, field

from lxml import etree

from forms.answers import TEXT_KEY, answers_to_node, from_answers, to_answers
from forms.errors import SubmissionError
from forms.messages import submission_message
from forms.tree import Node

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
#: Elements a submission may hold: far above the biggest real form's instance (a few
#: thousand with long rosters), far below a 2-million-element bomb.
MAX_ELEMENTS = 50_000
MAX_FIELD_BYTES = 1024 * 1024

# Safe settings: nothing outside the body is ever read, no entity is expanded,
# and huge_tree=False keeps libxml2's own limits on depth and text size.
_PARSER_OPTIONS = dict(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)


_PARSERS = threading.local()


def _parser() -> etree.XMLParser:
    """This thread's parser with the safe settings (lxml parsers serve one thread at a time)."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.XMLParser(**_PARSER_OPTIONS)
    return parser


@dataclass(slots=True)
class EntityRef:
    """The `meta/entity` block of a submission (ODK entities spec)."""

    dataset: str
    id: str | None
    create: bool = False
    update: bool = False
    base_version: int | None = None
    trunk_version: int | None = None
    branch_id: str | None = None
    label: str | None = None


@dataclass(slots=True)
class Submission:
    """A parsed submission: identity and meta read from the tree, plus the raw bytes."""

    form_id: str | None
    version: str | None
    root: Node
    instance_id: str | None = None
    deprecated_id: str | None = None
    instance_name: str | None = None
    entity: EntityRef | None = None
    entities: list[EntityRef] = field(default_factory=list)
    raw: bytes = b""
    namespace: str | None = None

    @classmethod
    def from_root(
        cls,
        root: Node,
        raw: bytes = b"",
        namespace: str | None = None,
        entity_nodes: list[Node] | None = None,
    ) -> Submission:
        """Read identity and meta from an answer tree (used for XML and JSON alike).

        `entity_nodes` lists the `meta/entity` elements when the caller already
        found them (the parser does, on its single pass); otherwise the tree is walked.
        """
        meta = root.child("meta")
        if entity_nodes is None:
            entity_nodes = [n for n in root.iter() if n.name == "entity" and _is_meta(n.parent)]
        entities = [_entity_ref(n) for n in entity_nodes]
        top = meta.child("entity") if meta is not None else None
        return cls(
            form_id=root.attrs.get("id") or None,
            version=root.attrs.get("version") or None,
            root=root,
            instance_id=_meta_text(meta, "instanceID"),
            deprecated_id=_meta_text(meta, "deprecatedID"),
            instance_name=_meta_text(meta, "instanceName"),
            entity=_entity_ref(top) if top is not None else (entities[0] if entities else None),
            entities=entities,
            raw=raw,
            namespace=namespace,
        )


def parse_submission(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
    max_field_bytes: int = MAX_FIELD_BYTES,
    max_elements: int = MAX_ELEMENTS,
) -> Submission:
    """Parse submission XML safely into a `Submission`.

    Raises `SubmissionError` with status 413 for a body or a single value over
    the limits, and 400 for anything that is not a plain XML document
    (malformed, DOCTYPE, entities). Element count and depth are counted in a
    streaming pass before the document is built (413 `too_many_elements` /
    `xml_too_deep`), so a bomb of millions of empty elements costs little.
    """
    if len(data) > max_bytes:
        raise _error("submission_too_large", status=413, limit=max_bytes)
    if not data or data.isspace():
        raise _error("submission_empty")
    _refuse_doctype(data, max_elements, max_depth)
    try:
        element = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        raise _error("xml_malformed", detail=str(exc)) from exc
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _error("xml_doctype_forbidden")
    limits = (max_depth, max_field_bytes)
    entity_nodes: list[Node] = []
    root = _convert(element, limits, entity_nodes)
    namespace = etree.QName(element).namespace
    return Submission.from_root(root, data, namespace, entity_nodes)


class _DoctypeFound(Exception):
    """Raised by the streaming check on a DOCTYPE or an entity declaration."""


class _Shape:
    """Counts elements and depth as expat streams the document; raises past the limits."""

    __slots__ = ("count", "depth", "max_depth", "max_elements", "rooted")

    def __init__(self, max_elements: int, max_depth: int) -> None:
        self.count = self.depth = 0
        self.max_elements, self.max_depth = max_elements, max_depth
        self.rooted = False

    def start(self, *_args) -> None:
        self.rooted = True
        self.count += 1
        self.depth += 1
        if self.count > self.max_elements:
            raise _error("too_many_elements", status=413, limit=self.max_elements)
        if self.depth > self.max_depth:
            raise _error("xml_too_deep", status=413, limit=self.max_depth)

    def end(self, *_args) -> None:
        self.depth -= 1


def _doctype_found(*_args) -> None:
    raise _DoctypeFound


def _refuse_doctype(data: bytes, max_elements: int = MAX_ELEMENTS, max_depth: int = MAX_DEPTH):
    """Refuse a DOCTYPE, too many elements or too deep a nesting before libxml2 builds a tree.

    lxml's safe options stop general entities and network access, but libxml2
    still reads a DTD's internal subset, including *parameter* entities that
    point at local files. expat (the engine defusedxml uses) streams the body
    here with no tree and no entity expansion: a document type (only possible
    before the root) is refused, and elements and depth are counted, stopping
    at the first one past a limit (issue 13, finding 4). Whether the rest of the
    body is well-formed is left to lxml.
    """
    parser = pyexpat.ParserCreate()
    shape = _Shape(max_elements, max_depth)
    parser.StartDoctypeDeclHandler = _doctype_found
    parser.EntityDeclHandler = _doctype_found
    parser.StartElementHandler = shape.start
    parser.EndElementHandler = shape.end
    try:
        parser.Parse(data, True)
    except _DoctypeFound:
        raise _error("xml_doctype_forbidden") from None
    except pyexpat.ExpatError as exc:
        if not shape.rooted:
            raise _error("xml_malformed", detail=str(exc)) from None
        return  # past the prolog: lxml reads the rest and says what is wrong
    if not shape.rooted:
        raise _error("xml_malformed", detail="no root element")


def _convert(element, limits: tuple[int, int], entities: list[Node]) -> Node:
    """Turn an lxml element into a `Node` tree, enforcing depth and value limits.

    Written by hand because `Node` is our own shape. It runs for every element
    of every submission, so it walks lxml's document-order iterator once with an
    explicit stack (comments, PIs and DTDs are gone, so `len(el)` counts element
    children) and builds nodes without `Node.__init__`.
    """
    max_depth, max_field = limits
    new, local, names = Node.__new__, _local, _LOCAL_CACHE
    stack: list[tuple[Node | None, int]] = []
    parent: Node | None = None
    remaining = 0
    root: Node | None = None
    for el in element.iter():
        node = new(Node)
        tag = el.tag
        node.name = name = names.get(tag) or local(tag)
        items = el.items()
        node.attrs = {local(k): v for k, v in items} if items else {}
        node.children = []  # a node being built: no index to keep yet
        node.parent = parent
        node._index = None
        count = len(el)
        text = "" if count else (el.text or "")
        if len(text) * 4 > max_field and len(text.encode("utf-8")) > max_field:
            raise _error("field_too_large", status=413, limit=max_field, field=name)
        node.text = text
        if parent is None:
            root = node
        else:
            parent.children.append(node)  # a node being built: no index to keep yet
            remaining -= 1
            if name == "entity" and parent.name == "meta":
                entities.append(node)
        if count:
            stack.append((parent, remaining))
            if len(stack) >= max_depth:
                raise _error("xml_too_deep", limit=max_depth)
            parent, remaining = node, count
        else:
            while remaining == 0 and stack:
                parent, remaining = stack.pop()
    return root


_LOCAL_CACHE: dict[str, str] = {}


def _local(tag: str) -> str:
    """Local name of a Clark-notation tag (`{ns}name` -> `name`), memoised (names repeat)."""
    name = _LOCAL_CACHE.get(tag)
    if name is None:
        name = tag.rpartition("}")[2]
        if len(_LOCAL_CACHE) < 10_000:
            _LOCAL_CACHE[tag] = name
    return name


def _is_meta(node: Node | None) -> bool:
    return node is not None and node.name == "meta"


def _meta_text(meta: Node | None, name: str) -> str | None:
    node = meta.child(name) if meta is not None else None
    return (node.text.strip() or None) if node is not None else None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true")


def _int_or_none(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else None


def _entity_ref(node: Node) -> EntityRef:
    """Read `meta/entity` attributes; a malformed version is None (validation reports it)."""
    a = node.attrs
    entity_id = (a.get("id") or "").strip()
    if entity_id.startswith("uuid:"):
        entity_id = entity_id[5:]
    label = node.child("label")
    return EntityRef(
        dataset=a.get("dataset", ""),
        id=entity_id or None,
        create=_flag(a.get("create")),
        update=_flag(a.get("update")),
        base_version=_int_or_none(a.get("baseVersion")),
        trunk_version=_int_or_none(a.get("trunkVersion")),
        branch_id=(a.get("branchId") or "").strip() or None,
        label=(label.text.strip() or None) if label is not None else None,
    )


# -- writing XML ---------------------------------------------------------------

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTR_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
    | {"\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}
)


def to_xml(source: Submission | Node) -> bytes:
    """Write a submission (or an answer tree) as UTF-8 submission XML.

    Values are escaped so that reading the bytes back gives the same tree,
    carriage returns and attribute whitespace included.
    """
    root = source.root if isinstance(source, Submission) else source
    out = ['<?xml version="1.0" encoding="UTF-8"?>']
    _write(root, out)
    return "".join(out).encode("utf-8")


def _write(node: Node, out: list[str]) -> None:
    attrs = "".join(f' {k}="{v.translate(_ATTR_ESCAPES)}"' for k, v in node.attrs.items())
    if node.children:
        out.append(f"<{node.name}{attrs}>")
        for child in node.children:
            _write(child, out)
        out.append(f"</{node.name}>")
    elif node.text:
        out.append(f"<{node.name}{attrs}>{node.text.translate(_TEXT_ESCAPES)}</{node.name}>")
    else:
        out.append(f"<{node.name}{attrs}/>")


def _error(code: str, *, status: int = 400, **params) -> SubmissionError:
    """A `SubmissionError` with its message from the catalogue in `forms.messages`."""
    en, vi = submission_message(code, **params)
    return SubmissionError(code, en, vi, status=status)


__all__ = [
    "TEXT_KEY",
    "EntityRef",
    "Submission",
    "answers_to_node",
    "from_answers",
    "parse_submission",
    "to_answers",
    "to_xml",
]
