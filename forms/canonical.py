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
    name = _norm(root.name)
    return (_canon(root) or f"<{name}></{name}>").encode("utf-8")


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


def _attrs(node: Node) -> str:
    pairs = sorted((_norm(k), _norm(v)) for k, v in node.attrs.items())
    return "".join(f' {k}="{v.translate(_ATTR_ESCAPES)}"' for k, v in pairs if v)


def _canon(node: Node) -> str:
    """Canonical text of `node`, or "" when it carries no answer."""
    attrs = _attrs(node) if node.attrs else ""
    name = _norm(node.name)
    if not node.children:
        text = _norm(node.text)
        if not text and not attrs:
            return ""
        return f"<{name}{attrs}>{text.translate(_TEXT_ESCAPES)}</{name}>"
    # A stable sort by name: differently named siblings lose their order,
    # repeat instances (same name) keep theirs.
    children = sorted(node.children, key=lambda c: _norm(c.name))
    inner = "".join(_canon(c) for c in children)
    if not inner and not attrs:
        return ""
    return f"<{name}{attrs}>{inner}</{name}>"
