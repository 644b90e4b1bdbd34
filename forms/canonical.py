"""The canonical form of a submission's answers and its hash (sync-contract R2).

"Same content" for a resend is decided here. Two submissions have the same
canonical bytes, hence the same `answers_hash`, when they carry the same
answers, whatever the XML looked like:

- whitespace between elements, the XML declaration, namespace prefixes and
  attribute order are gone once the body is a `Node` tree;
- text is compared in Unicode NFC (tablets send NFC or NFD Vietnamese) with
  line ends as LF (JSON clients may send CR LF; XML parsers already turn it
  into LF);
- leading and trailing whitespace of a value does not count. XML tools that
  indent documents add it, ODK clients trim typed answers of number, date and
  select types, and a value of only spaces is treated as no answer by ODK's
  `required`; whitespace *inside* a value counts;
- an empty element and a missing one are the same: Collect leaves
  non-relevant questions out, Enketo writes them empty. An element with no
  attribute and no non-empty value below it carries no answer, so it is left
  out (a repeat instance with every answer blank included);
- children with different names are compared regardless of their order (JSON
  objects have none, and an XForm's element order is fixed by its form);
  siblings with the same name (repeat instances) keep their order, so
  reordering household members is a change.

Everything else is a change: a value, an attribute value, a repeat instance
added or removed, the form id or version on the root.
"""

from __future__ import annotations

import hashlib
import unicodedata

from forms.tree import Node

_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTR_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_XML_SPACE = " \t\r\n"


def canonical_answers(root: Node) -> bytes:
    """The canonical serialisation of the answers under `root` (UTF-8 bytes, XML-like)."""
    out: list[str] = []
    _canon(root, out)
    if not out:
        name = _name(root.name)
        return f"<{name}></{name}>".encode()
    return "".join(out).encode("utf-8")


def answers_hash(root: Node) -> str:
    """SHA-256 hex digest of `canonical_answers(root)`."""
    return hashlib.sha256(canonical_answers(root)).hexdigest()


def _norm(text: str) -> str:
    """NFC, LF line ends, no surrounding whitespace."""
    text = text.strip(_XML_SPACE)
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.isascii() and not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text


_NAMES: dict[str, str] = {}  # element names repeat in every submission: normalised once


def _name(name: str) -> str:
    normal = _NAMES.get(name)
    if normal is None:
        normal = _norm(name)
        if len(_NAMES) < 10_000:
            _NAMES[name] = normal
    return normal


def _escape(text: str) -> str:
    """`text` with &, < and > escaped (translate() only when one is there: it is slow)."""
    if "&" in text or "<" in text or ">" in text:
        return text.translate(_TEXT_ESCAPES)
    return text


def _attrs(node: Node) -> str:
    pairs = sorted((_norm(k), _norm(v)) for k, v in node.attrs.items())
    return "".join(f' {k}="{v.translate(_ATTR_ESCAPES)}"' for k, v in pairs if v)


def _canon(node: Node, out: list[str]) -> None:
    """Append the canonical text of `node` to `out`, nothing when it carries no answer."""
    attrs = _attrs(node) if node.attrs else ""
    name = _NAMES.get(node.name) or _name(node.name)
    children = node.children
    if not children:
        text = node.text
        if text:
            text = _escape(_norm(text))
        if text or attrs:
            out.append(f"<{name}{attrs}>{text}</{name}>")
        return
    start = len(out)
    out.append(f"<{name}{attrs}>")
    # A stable sort by name: differently named siblings lose their order,
    # repeat instances (same name) keep theirs.
    names, get = _NAMES, _NAMES.get
    keys = [get(c.name) or _name(c.name) for c in children]
    if len(keys) > 1:
        children = [children[i] for i in sorted(range(len(keys)), key=keys.__getitem__)]
    for child in children:
        if child.children or child.attrs:
            _canon(child, out)
            continue
        text = child.text  # a plain leaf, inline
        if text:
            text = text.strip(_XML_SPACE)
            if text:
                if "\r" in text or not text.isascii():
                    text = _norm(text)
                if "&" in text or "<" in text or ">" in text:
                    text = text.translate(_TEXT_ESCAPES)
                cname = names[child.name]
                out.append(f"<{cname}>{text}</{cname}>")
    if len(out) == start + 1 and not attrs:
        del out[start:]
    else:
        out.append(f"</{name}>")
