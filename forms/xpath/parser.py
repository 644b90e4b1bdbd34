"""Recursive-descent parser for ODK XPath (XPath 1.0 grammar) into `forms.xpath.ast` trees.

Precedence, lowest first: or, and, (= !=), (< <= > >=), (+ -), (* div mod),
unary minus, |, paths. Binary operators associate to the left.
"""

from __future__ import annotations

import math

from forms.xpath import ast
from forms.xpath.errors import XPathSyntaxError
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
        raise XPathSyntaxError(
            "The expression is nested too deeply", 0, "Biểu thức lồng nhau quá sâu"
        ) from None


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
            raise XPathSyntaxError("The expression is empty", 0, "Biểu thức trống")
        expr = self.binary(0)
        tok = self.peek()
        if tok.kind != "eof":
            raise _unexpected(
                tok,
                "an operator (and, or, =, +, ...) or the end of the expression",
                "một toán tử (and, or, =, +, ...) hoặc kết thúc biểu thức",
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
                raise XPathSyntaxError(
                    f"'{tok.value}' cannot have a [condition]; write self::node()[...] instead",
                    self.peek().pos,
                    f"'{tok.value}' không thể có [điều kiện]; hãy viết self::node()[...]",
                )
            return ast.SELF if tok.kind == "." else ast.PARENT
        if tok.kind == "@":
            axis, test = "attribute", self.node_test()
        elif tok.kind == "axis":
            if tok.value not in AXES:
                raise XPathSyntaxError(
                    f"Unknown or unsupported axis '{tok.value}::'",
                    tok.pos,
                    f"Trục '{tok.value}::' không tồn tại hoặc không được hỗ trợ",
                )
            self.take()  # '::', guaranteed by the lexer
            axis, test = tok.value, self.node_test()
        elif tok.kind in ("name", "nodetype"):
            self.i -= 1
            axis, test = "child", self.node_test()
        else:
            raise _unexpected(tok, "a field name or path step", "tên trường hoặc bước đường dẫn")
        return ast.Step(axis, test, self.predicates())

    def node_test(self) -> str:
        tok = self.take()
        if tok.kind == "name":
            return tok.value
        if tok.kind == "nodetype":
            if tok.value not in ("node", "text"):
                raise XPathSyntaxError(
                    f"{tok.value}() nodes do not exist in form data",
                    tok.pos,
                    f"Nút {tok.value}() không có trong dữ liệu biểu mẫu",
                )
            self.take()  # '(' guaranteed by the lexer
            self.expect(")", self.tokens[self.i - 1])
            return tok.value + "()"
        raise _unexpected(tok, "a name, * or node()", "một tên, * hoặc node()")

    def predicates(self) -> tuple[ast.Expression, ...]:
        preds = []
        while self.peek().kind == "[":
            opener = self.take()
            if self.peek().kind == "]":
                raise XPathSyntaxError(
                    "Empty condition []: put an expression between the brackets",
                    opener.pos,
                    "Điều kiện [] trống: hãy viết biểu thức giữa hai dấu ngoặc",
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
                raise XPathSyntaxError("The number is too large", tok.pos, "Số quá lớn")
            return ast.Number(value)
        if tok.kind == "str":
            return ast.Literal(tok.value)
        if tok.kind == "(":
            if self.peek().kind == ")":
                raise XPathSyntaxError(
                    "Empty parentheses (): put an expression inside",
                    tok.pos,
                    "Cặp ngoặc () trống: hãy viết biểu thức bên trong",
                )
            inner = self.binary(0)
            self.expect(")", tok)
            return inner
        if tok.kind == "fn":
            return self.call(tok)
        if tok.kind == "$":
            raise XPathSyntaxError(
                "Variables ($name) are not part of ODK XPath",
                tok.pos,
                "Biến ($tên) không có trong ODK XPath",
            )
        raise _unexpected(tok, "a value, path or function call", "một giá trị, đường dẫn hoặc hàm")

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
        if tok.kind == "eof":
            raise XPathSyntaxError(
                f"Missing '{kind}' to close '{what}' opened at character {at}",
                tok.pos,
                f"Thiếu '{kind}' để đóng '{what}' mở ở ký tự {at}",
            )
        in_call = kind == ")" and what.endswith("(") and what != "("
        want_en = f"'{kind}' to close '{what}' opened at character {at}"
        want_vi = f"'{kind}' để đóng '{what}' mở ở ký tự {at}"
        if in_call:  # between arguments a comma is just as likely to be missing
            want_en, want_vi = f"',' or {want_en}", f"',' hoặc {want_vi}"
        raise _unexpected(tok, want_en, want_vi)


def _describe(tok: Token, vi: bool = False) -> str:
    if tok.kind == "str":
        return f"{'chuỗi' if vi else 'text'} '{tok.value}'"
    if tok.kind == "num":
        return f"{'số' if vi else 'number'} {tok.value}"
    if tok.kind == "fn":
        return f"{'hàm' if vi else 'function'} {tok.value}("
    return f"'{tok.value}'"


def _unexpected(tok: Token, expected_en: str, expected_vi: str) -> XPathSyntaxError:
    if tok.kind == "eof":
        return XPathSyntaxError(
            f"The expression ends too early: expected {expected_en}",
            tok.pos,
            f"Biểu thức kết thúc quá sớm: cần {expected_vi}",
        )
    return XPathSyntaxError(
        f"Unexpected {_describe(tok)}: expected {expected_en}",
        tok.pos,
        f"Không mong đợi {_describe(tok, vi=True)}: cần {expected_vi}",
    )
