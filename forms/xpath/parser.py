"""Recursive-descent parser for ODK XPath (XPath 1.0 grammar) into `forms.xpath.ast` trees.

Precedence, lowest first: or, and, (= !=), (< <= > >=), (+ -), (* div mod),
unary minus, |, paths. Binary operators associate to the left.
"""

from __future__ import annotations

import math

from forms.i18n import N_, render
from forms.xpath import ast
from forms.xpath.errors import XPathSyntaxError, syntax_error
from forms.xpath.lexer import Token, tokenize
from forms.xpath.signatures import arity_problem

_LEVELS: tuple[frozenset[str], ...] = (
    frozenset({"or"}),
    frozenset({"and"}),
    frozenset({"=", "!="}),
    frozenset({"<", "<=", ">", ">="}),
    frozenset({"+", "-"}),
    frozenset({"*", "div", "mod"}),
)
AXES = frozenset(
    {
        "ancestor",
        "ancestor-or-self",
        "attribute",
        "child",
        "descendant",
        "descendant-or-self",
        "following",
        "following-sibling",
        "parent",
        "preceding",
        "preceding-sibling",
        "self",
    }
)
_STEP_START = frozenset({"name", "axis", "nodetype", ".", "..", "@"})


def parse_ast(source: str) -> ast.Expression:
    """Parse `source` into an expression tree, raising XPathSyntaxError with a position."""
    try:
        return _Parser(source).parse()
    except RecursionError:
        raise syntax_error(N_("The expression is nested too deeply"), 0) from None


class _Parser:
    def __init__(self, source: str) -> None:
        self.tokens = tokenize(source)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> ast.Expression:
        if self.peek().kind == "eof":
            raise syntax_error(N_("The expression is empty"), 0)
        expr = self.binary(0)
        tok = self.peek()
        if tok.kind != "eof":
            raise _unexpected(
                tok, N_("an operator (and, or, =, +, ...) or the end of the expression")
            )
        return expr

    def binary(self, level: int) -> ast.Expression:
        if level == len(_LEVELS):
            return self.unary()
        ops = _LEVELS[level]
        left = self.binary(level + 1)
        while self.peek().kind in ops:
            op = self.take().kind
            left = ast.Binary(op, left, self.binary(level + 1))
        return left

    def unary(self) -> ast.Expression:
        if self.peek().kind == "-":
            self.take()
            return ast.Neg(self.unary())
        return self.union()

    def union(self) -> ast.Expression:
        left = self.path_expr()
        while self.peek().kind == "|":
            self.take()
            left = ast.Binary("|", left, self.path_expr())
        return left

    def path_expr(self) -> ast.Expression:
        tok = self.peek()
        if tok.kind == "/":
            self.take()
            if self.peek().kind in _STEP_START:
                return ast.Path(self.relative_steps(), absolute=True)
            return ast.Path((), absolute=True)
        if tok.kind == "//":
            self.take()
            return ast.Path((ast.DESCENDANT_OR_SELF, *self.relative_steps()), absolute=True)
        if tok.kind in _STEP_START:
            return ast.Path(self.relative_steps())
        base = self.filter_expr()
        if self.peek().kind in ("/", "//"):
            lead = (ast.DESCENDANT_OR_SELF,) if self.take().kind == "//" else ()
            return ast.Path((*lead, *self.relative_steps()), base=base)
        return base

    def relative_steps(self) -> tuple[ast.Step, ...]:
        steps = [self.step()]
        while self.peek().kind in ("/", "//"):
            if self.take().kind == "//":
                steps.append(ast.DESCENDANT_OR_SELF)
            steps.append(self.step())
        return tuple(steps)

    def step(self) -> ast.Step:
        tok = self.take()
        if tok.kind in (".", ".."):
            if self.peek().kind == "[":
                raise syntax_error(
                    N_("'%(step)s' cannot have a [condition]; write self::node()[...] instead"),
                    self.peek().pos,
                    step=tok.value,
                )
            return ast.SELF if tok.kind == "." else ast.PARENT
        if tok.kind == "@":
            axis, test = "attribute", self.node_test()
        elif tok.kind == "axis":
            if tok.value not in AXES:
                raise syntax_error(
                    N_("Unknown or unsupported axis '%(axis)s::'"), tok.pos, axis=tok.value
                )
            self.take()  # '::', guaranteed by the lexer
            axis, test = tok.value, self.node_test()
        elif tok.kind in ("name", "nodetype"):
            self.i -= 1
            axis, test = "child", self.node_test()
        else:
            raise _unexpected(tok, N_("a field name or path step"))
        return ast.Step(axis, test, self.predicates())

    def node_test(self) -> str:
        tok = self.take()
        if tok.kind == "name":
            return tok.value
        if tok.kind == "nodetype":
            if tok.value not in ("node", "text"):
                raise syntax_error(
                    N_("%(node_type)s() nodes do not exist in form data"),
                    tok.pos,
                    node_type=tok.value,
                )
            self.take()  # '(' guaranteed by the lexer
            self.expect(")", self.tokens[self.i - 1])
            return tok.value + "()"
        raise _unexpected(tok, N_("a name, * or node()"))

    def predicates(self) -> tuple[ast.Expression, ...]:
        preds = []
        while self.peek().kind == "[":
            opener = self.take()
            if self.peek().kind == "]":
                raise syntax_error(
                    N_("Empty condition []: put an expression between the brackets"), opener.pos
                )
            preds.append(self.binary(0))
            self.expect("]", opener)
        return tuple(preds)

    def filter_expr(self) -> ast.Expression:
        primary = self.primary()
        preds = self.predicates()
        return ast.Filter(primary, preds) if preds else primary

    def primary(self) -> ast.Expression:
        tok = self.take()
        if tok.kind == "num":
            value = float(tok.value)
            if math.isinf(value):
                raise syntax_error(N_("The number is too large"), tok.pos)
            return ast.Number(value)
        if tok.kind == "str":
            return ast.Literal(tok.value)
        if tok.kind == "(":
            if self.peek().kind == ")":
                raise syntax_error(N_("Empty parentheses (): put an expression inside"), tok.pos)
            inner = self.binary(0)
            self.expect(")", tok)
            return inner
        if tok.kind == "fn":
            return self.call(tok)
        if tok.kind == "$":
            raise syntax_error(N_("Variables ($name) are not part of ODK XPath"), tok.pos)
        raise _unexpected(tok, N_("a value, path or function call"))

    def call(self, name: Token) -> ast.Call:
        opener = self.take()  # '(' guaranteed by the lexer
        args: list[ast.Expression] = []
        if self.peek().kind != ")":
            args.append(self.binary(0))
            while self.peek().kind == ",":
                self.take()
                args.append(self.binary(0))
        self.expect(")", opener, f"{name.value}(")
        problem = arity_problem(name.value, len(args))
        if problem:
            raise XPathSyntaxError(problem[0], name.pos, problem[1])
        return ast.Call(name.value, tuple(args))

    def expect(self, kind: str, opener: Token, what: str = "") -> Token:
        tok = self.peek()
        if tok.kind == kind:
            return self.take()
        what = what or opener.value
        at = opener.pos + 1
        params = {"closing": kind, "opening": what, "at": at}
        if tok.kind == "eof":
            raise syntax_error(
                N_("Missing '%(closing)s' to close '%(opening)s' opened at character %(at)s"),
                tok.pos,
                **params,
            )
        want = render(N_("'%(closing)s' to close '%(opening)s' opened at character %(at)s"), params)
        if kind == ")" and what.endswith("(") and what != "(":
            # in a call, between arguments a comma is just as likely to be missing
            want = render(N_("',' or %(expected)s"), _pair("expected", want), ("expected",))
        raise _unexpected(tok, want)


def _describe(tok: Token) -> tuple[str, str]:
    """(English, Vietnamese) of the token found where another was expected."""
    if tok.kind == "str":
        return render(N_("text '%(value)s'"), {"value": tok.value})
    if tok.kind == "num":
        return render(N_("number %(value)s"), {"value": tok.value})
    if tok.kind == "fn":
        return render(N_("function %(value)s("), {"value": tok.value})
    quoted = f"'{tok.value}'"
    return quoted, quoted


def _pair(name: str, texts: tuple[str, str]) -> dict[str, str]:
    """The parameters `name` and `name_vi` of an (English, Vietnamese) detail."""
    return {name: texts[0], f"{name}_vi": texts[1]}


def _unexpected(tok: Token, expected: str | tuple[str, str]) -> XPathSyntaxError:
    """`expected` is a message id, or its (English, Vietnamese) already rendered."""
    if isinstance(expected, str):
        expected = render(expected, {})
    if tok.kind == "eof":
        return syntax_error(
            N_("The expression ends too early: expected %(expected)s"),
            tok.pos,
            ("expected",),
            **_pair("expected", expected),
        )
    return syntax_error(
        N_("Unexpected %(token)s: expected %(expected)s"),
        tok.pos,
        ("token", "expected"),
        **_pair("token", _describe(tok)),
        **_pair("expected", expected),
    )
