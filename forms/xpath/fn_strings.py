"""String functions: XPath 1.0 core plus ODK's concat/join/substr/ends-with/digest/base64-decode.

Semantics checked against getodk/javarosa XPathFuncExpr (substr with negative
indexes, translate) and the ODK XForms spec (concat and join take every node
of a node-set).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import math
import re

from forms.i18n import N_
from forms.xpath.coerce import as_str
from forms.xpath.errors import eval_error
from forms.xpath.nodes import string_value
from forms.xpath.registry import builder, function
from forms.xpath.values import to_number, to_string

_XML_SPACE = re.compile(r"[\x20\t\r\n]+")


def strings_of(value) -> list[str]:
    """Every node's string for a node-set, else the value's string: how concat() reads arguments."""
    if isinstance(value, list):
        return [string_value(n) for n in value]
    return [to_string(value)]


def _truncate(value, tz) -> int | None:
    """Java's `(int)` of an XPath number: toward zero, None for NaN, clamped for infinities."""
    x = to_number(value, tz)
    if x != x:
        return None
    if math.isinf(x):
        return 2**31 - 1 if x > 0 else -(2**31)
    return int(x)


@function("string", params="s")
def fn_string(n, c, value=None):
    return string_value(n) if value is None else to_string(value)


@builder("concat")
def build_concat(call, args):
    """Concatenate; a node-set argument contributes every node (ODK spec), not only the first."""
    parts = []
    for fn, kind in args:
        if kind in ("nodes", "any"):
            parts.append(lambda n, c, fn=fn: "".join(strings_of(fn(n, c))))
        else:
            parts.append(as_str((fn, kind)))
    return (lambda n, c: "".join([part(n, c) for part in parts])), "str"


@function("join")
def fn_join(n, c, separator, *values):
    return to_string(separator).join(s for v in values for s in strings_of(v))


@function("starts-with", params="s")
def fn_starts_with(n, c, text, prefix):
    return to_string(text).startswith(to_string(prefix))


@function("ends-with", params="s")
def fn_ends_with(n, c, text, suffix):
    return to_string(text).endswith(to_string(suffix))


@function("contains", params="s")
def fn_contains(n, c, text, part):
    return to_string(part) in to_string(text)


@function("substring-before", params="s")
def fn_substring_before(n, c, text, part):
    text, part = to_string(text), to_string(part)
    index = text.find(part)
    return text[:index] if index >= 0 else ""


@function("substring-after", params="s")
def fn_substring_after(n, c, text, part):
    text, part = to_string(text), to_string(part)
    index = text.find(part)
    return text[index + len(part) :] if index >= 0 else ""


def _xpath_round(x: float) -> float:
    return x if x != x or math.isinf(x) else math.floor(x + 0.5)


@function("substring", params="sn")
def fn_substring(n, c, text, start, length=None):
    """XPath 1.0 substring: 1-based, positions rounded, characters p with start <= p < start+len."""
    text = to_string(text)
    first = _xpath_round(to_number(start, c.tz))
    stop = math.inf if length is None else first + _xpath_round(to_number(length, c.tz))
    if first != first or stop != stop:
        return ""
    lo = max(first, 1.0)
    hi = min(stop, len(text) + 1.0)
    return text[int(lo) - 1 : int(hi) - 1] if lo < hi else ""


@function("substr")
def fn_substr(n, c, text, start, end=None):
    """ODK substr: 0-based start, exclusive end, negative values count from the end."""
    text = to_string(text)
    size = len(text)
    first = _truncate(start, c.tz) or 0
    last = size if end is None else (_truncate(end, c.tz) or 0)
    if first < 0:
        first += size
    if last < 0:
        last += size
    first, last = min(max(0, first), size), min(max(0, last), size)
    return text[first:last] if first <= last else ""


@function("string-length", params="s")
def fn_string_length(n, c, value=None):
    return float(len(string_value(n) if value is None else to_string(value)))


@function("normalize-space", params="s")
def fn_normalize_space(n, c, value=None):
    text = string_value(n) if value is None else to_string(value)
    return _XML_SPACE.sub(" ", text).strip(" ")


@function("translate", params="s")
def fn_translate(n, c, text, source, target):
    source, target = to_string(source), to_string(target)
    table: dict[int, int | None] = {}
    for i, char in enumerate(source):
        table.setdefault(ord(char), ord(target[i]) if i < len(target) else None)
    return to_string(text).translate(table)


_DIGESTS = {
    "MD5": "md5",
    "SHA1": "sha1",
    "SHA256": "sha256",
    "SHA384": "sha384",
    "SHA512": "sha512",
}


@function("digest")
def fn_digest(n, c, text, algorithm, encoding="base64"):
    """digest(src, 'SHA-256', 'hex'): names as JavaRosa's DigestAlgorithm.from accepts them."""
    name = _DIGESTS.get(to_string(algorithm).upper().replace("-", ""))
    if name is None:
        raise eval_error(
            N_(
                "digest() does not know the algorithm '%(algorithm)s' (use MD5, SHA-1, "
                "SHA-256, SHA-384 or SHA-512)"
            ),
            algorithm=to_string(algorithm),
        )
    raw = hashlib.new(name, to_string(text).encode("utf-8")).digest()
    form = to_string(encoding).lower()
    if form == "hex":
        return raw.hex()
    if form == "base64":
        return base64.b64encode(raw).decode("ascii")
    raise eval_error(N_("digest() encoding must be 'base64' or 'hex', not '%(encoding)s'"),
                     encoding=form)  # fmt: skip


@function("base64-decode")
def fn_base64_decode(n, c, text):
    """Decode base64 to UTF-8 text; an invalid input gives '' rather than stopping the form."""
    try:
        raw = base64.b64decode(to_string(text), validate=False)
    except (binascii.Error, ValueError):
        return ""
    return raw.decode("utf-8", errors="replace")


@function("local-name", "name")
def fn_name(n, c, nodes=None):
    if nodes is None:
        return n.name
    if not isinstance(nodes, list):
        return ""
    return nodes[0].name if nodes else ""
