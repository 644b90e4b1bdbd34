"""Tokens of an XPath 1.0 expression, with the disambiguation rules of XPath 1.0 section 3.7.

XPath cannot be split into tokens by a context-free regular grammar: `*` is a
wildcard after `/` but a multiplication after an operand, `div` is a field
name in `/data/div` but an operator in `a div b`, and a name followed by `(`
is a function. The rules below are the ones the XPath 1.0 recommendation gives
(https://www.w3.org/TR/1999/REC-xpath-19991116/#exprlex). No maintained Python
library tokenises ODK XPath over our own tree (elementpath targets lxml and
XPath 2+, pyxform's lark lexer only recognises `${name}` references), hence
this small hand-written lexer.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from forms.i18n import N_
from forms.xpath.errors import XPathSyntaxError, syntax_error

# NCName per XML Namespaces: a letter or '_' first, then letters, digits, '.', '-', '_',
# combining marks. Python's \w covers letters and digits of every script.
_NCNAME = r"[^\W\d][\w.\-\u00b7\u0300-\u036f\u203f\u2040]*"
_TOKEN = re.compile(
    rf"""
    (?P<ws>[\x20\t\r\n]+)
  | (?P<num>\d+(?:\.\d*)?|\.\d+)
  | (?P<str>"[^"]*"|'[^']*')
  | (?P<sym>\.\.|//|::|!=|<=|>=|[()\[\]@,/|+\-=<>*$.])
  | (?P<name>{_NCNAME}(?::(?:{_NCNAME}|\*)(?!:))?)
    """,
    re.VERBOSE,
)
_WS = re.compile(r"[\x20\t\r\n]*")

OPERATOR_NAMES = frozenset({"and", "or", "div", "mod"})
NODE_TYPES = frozenset({"node", "text", "comment", "processing-instruction"})
# After one of these an operator is expected, so `*` multiplies and `div` divides.
_OPERAND_END = frozenset({"num", "str", "name", ")", "]", ".", ".."})


class Token(NamedTuple):
    kind: str  # num, str, name, fn, axis, nodetype, an operator name, a symbol, or eof
    value: str
    pos: int


def tokenize(source: str) -> list[Token]:
    """Split `source` into tokens, ending with an `eof` token; raise XPathSyntaxError."""
    tokens: list[Token] = []
    pos, end = 0, len(source)
    while pos < end:
        m = _TOKEN.match(source, pos)
        if m is None:
            raise _bad_character(source, pos)
        kind = m.lastgroup
        text = m.group()
        if kind != "ws":
            tokens.append(_classify(kind, text, pos, source, m.end(), tokens))
        pos = m.end()
    tokens.append(Token("eof", "", end))
    return tokens


def _classify(kind: str, text: str, pos: int, source: str, after: int, seen: list[Token]) -> Token:
    """Apply the XPath 1.0 lexical rules that depend on the neighbouring tokens."""
    operator_expected = bool(seen) and seen[-1].kind in _OPERAND_END
    if kind == "num":
        return Token("num", text, pos)
    if kind == "str":
        return Token("str", text[1:-1], pos)
    if kind == "sym":
        if text == "*":
            return Token("*" if operator_expected else "name", "*", pos)
        return Token(text, text, pos)
    if operator_expected and text in OPERATOR_NAMES:
        return Token(text, text, pos)
    nxt = _WS.match(source, after).end()
    if source.startswith("::", nxt):
        return Token("axis", text, pos)
    if source.startswith("(", nxt) and not text.endswith("*"):
        return Token("nodetype" if text in NODE_TYPES else "fn", text, pos)
    return Token("name", text, pos)


def _bad_character(source: str, pos: int) -> XPathSyntaxError:
    char = source[pos]
    if char in "'\"":
        return syntax_error(
            N_("The text starting with %(quote)s is never closed; add a matching %(quote)s"),
            pos,
            quote=char,
        )
    if char in "{}":  # "${name}" reaches us when an XLSForm reference was not converted
        return syntax_error(
            N_("'${...}' references must be converted to paths (upload the XLSForm, not raw text)"),
            pos,
        )
    return syntax_error(N_("Unexpected character %(char)r"), pos, char=char)
