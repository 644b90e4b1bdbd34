"""Compile the operators of an expression into one Python function, once per expression.

`forms.xpath.compiler` turns every node of the tree into a closure, so a
calculate such as `if(selected(${indicators}, 'water') and ${water} = 1, 1, 0)
+ ...` (16 terms in the shipped visit form) makes about nine Python calls per
term, most of them closures that only combine their children's values: the
`+`, the `if()`, the `and`, the `selected()`, the conversions between them.
Here those combining nodes become Python source (`+`, `and`, a conditional
expression, `in`), compiled once with `compile()`, so one call evaluates them
all; the pieces that do real work (paths, node-set comparisons, other
functions) stay the compiler's closures and are called from that source.

The compiler stays the reference: every piece written here mirrors a closure
of `compiler`, `coerce` or a builder (named next to it), and
`tests/unit/forms/xpath/test_xpath_codegen.py` compares both on random
expressions and instances. An expression with nothing to combine, or one
nested too deeply for Python's parser, keeps its closures (`generate` gives
None).
"""

from __future__ import annotations

import math

from forms.xpath import ast
from forms.xpath.coerce import as_bool, as_num, as_str
from forms.xpath.compiler import _divide, _modulo, compile_expr
from forms.xpath.registry import IMPLEMENTATIONS, Closure
from forms.xpath.values import (
    format_number,
    numbers_equal,
    string_to_number,
    to_boolean,
    to_number,
    to_string,
)

_SCALAR = frozenset({"bool", "num", "str"})
_CONVERT = {"bool": as_bool, "num": as_num, "str": as_str}
_RELATIONAL = frozenset({"<", "<=", ">", ">="})
_ARITHMETIC = {"+": "+", "-": "-", "*": "*"}
# Deeper sources risk Python's parser limits (about 200 nested parentheses): closures then.
_MAX_DEPTH = 60
_WANTS = ("value", "bool", "num", "str")
_COMPILED: dict[str, object] = {}  # source -> its code object (see `_Writer.functions`)
_COMPILED_LIMIT = 1024  # a few kB each: a bound on what forms of odd shapes can hold


def generate(tree: ast.Expression) -> dict[str, Closure] | None:
    """Functions `(node, ctx)` for the value and its boolean, number and string, or None.

    They are what `compile_expr(tree)` and `coerce.as_bool`... give, in fewer calls.
    None when the top of the tree is a piece the compiler already does in one closure
    (a path, a plain function call, a literal), where nothing is saved.
    """
    if not _combines(tree) or _depth(tree) > _MAX_DEPTH:
        return None
    writer = _Writer()
    return writer.functions({want: writer.write(tree, want)[0] for want in _WANTS})


def _combines(node: ast.Expression) -> bool:
    """Does `node` itself combine values (rather than being a closure of the compiler)?"""
    if isinstance(node, ast.Neg):
        return True
    if isinstance(node, ast.Binary):
        return node.op != "|"
    if isinstance(node, ast.Call):
        return _inlined_call(node)
    return False


def _inlined_call(node: ast.Call) -> bool:
    if IMPLEMENTATIONS.get(node.name, ("", None))[0] == "":
        return False
    if node.name in ("if", "not", "true", "false"):
        return True
    return node.name == "selected" and isinstance(node.args[1], ast.Literal)


def _depth(node: ast.Expression) -> int:
    children: tuple = ()
    if isinstance(node, ast.Neg):
        children = (node.operand,)
    elif isinstance(node, ast.Binary):
        children = (node.left, node.right)
    elif isinstance(node, ast.Call):
        children = node.args
    return 1 + max(map(_depth, children), default=0)


class _Writer:
    """Writes one function's source; values the source needs go into its namespace."""

    def __init__(self) -> None:
        self.namespace: dict[str, object] = {
            "NUMBERS_EQUAL": numbers_equal,
            "TO_NUMBER": string_to_number,
            "FORMAT": format_number,
            "TO_BOOLEAN": to_boolean,
            "DIVIDE": _divide,
            "MODULO": _modulo,
            "NAN": math.nan,
        }
        self.temporaries = 0

    def name(self, value: object) -> str:
        """A namespace name holding `value` (a closure or a constant)."""
        name = f"k{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def temporary(self) -> str:
        """A fresh local variable name."""
        self.temporaries += 1
        return f"t{self.temporaries}"

    def functions(self, codes: dict[str, str]) -> dict[str, Closure]:
        """Compile `want -> return expression` into functions of this namespace.

        compile() costs about 60 µs, more than parsing the XPath: it runs once for
        all the variants, and once per shape of source, since names stand for every
        constant and closure (`if(${a} = 'yes', 1, 0)` and `if(${b} = 'no', 1, 0)`
        share their code and differ in their namespaces).
        """
        source = "".join(
            f"def xpath_{want}(n, c):\n    return {code}\n" for want, code in codes.items()
        )
        code = _COMPILED.get(source)
        if code is None:
            code = compile(source, "<xpath>", "exec")
            if len(_COMPILED) < _COMPILED_LIMIT:
                _COMPILED[source] = code
        exec(code, self.namespace)  # source we wrote, defining the functions only
        return {want: self.namespace[f"xpath_{want}"] for want in codes}

    # -- nodes -------------------------------------------------------------------------

    def write(self, node: ast.Expression, want: str) -> tuple[str, str]:
        """Source for `node` converted to `want` (or as is for "value"), and its type."""
        if isinstance(node, ast.Literal):  # coerce.constant, folded as coerce._pushed does
            if want == "num":  # a string's number may depend on the zone: never folded
                return f"TO_NUMBER({self.name(node.value)}, c.tz)", "num"
            return self.constant(node.value, "str", want)
        if isinstance(node, ast.Number):
            return self.constant(node.value, "num", want)
        if not _combines(node):
            return self.closure(node, want)
        if isinstance(node, ast.Neg):  # compiler.compile_expr: Neg
            operand, _ = self.write(node.operand, "num")
            return self.convert(f"(-{operand})", "num", want)
        if isinstance(node, ast.Call):
            return self.call(node, want)
        return self.binary(node, want)

    def constant(self, value, kind: str, want: str) -> tuple[str, str]:
        if want in ("value", kind):
            return self.name(value), kind
        folded = {"bool": to_boolean, "num": to_number, "str": to_string}[want](value)
        return self.name(folded), want

    def closure(self, node: ast.Expression, want: str) -> tuple[str, str]:
        """The compiler's closure for `node`, converted by `coerce` as the compiler would."""
        compiled = compile_expr(node)
        if want == "value":
            return f"{self.name(compiled[0])}(n, c)", compiled[1]
        if compiled[1] == "nodes" and not hasattr(compiled[0], "value"):
            # coerce.as_str/as_num/as_bool of a node-set, written out: its first node's text
            call = f"{self.name(compiled[0])}(n, c)"
            if want == "bool":
                return f"(len({call}) > 0)", "bool"
            x = self.temporary()
            text = f"({x}[0].text if not {x}[0].children else {x}[0].string_value())"
            if want == "str":
                return f'({text} if ({x} := {call}) else "")', "str"
            return f"(TO_NUMBER({text}, c.tz) if ({x} := {call}) else NAN)", "num"
        return f"{self.name(_CONVERT[want](compiled))}(n, c)", want

    def convert(self, code: str, kind: str, want: str) -> tuple[str, str]:
        """`code` of scalar type `kind` as `want`: the conversions of `coerce` written out."""
        if want in ("value", kind):
            return code, kind
        if want == "bool":
            if kind == "num":  # coerce.as_bool: number_truth
                x = self.temporary()
                return f"(({x} := {code}) != 0 and {x} == {x})", "bool"
            return f"(len({code}) > 0)", "bool"
        if want == "num":
            if kind == "bool":
                return f"(1.0 if {code} else 0.0)", "num"
            return f"TO_NUMBER({code}, c.tz)", "num"
        if kind == "num":
            return f"FORMAT({code})", "str"
        return f'("true" if {code} else "false")', "str"

    def binary(self, node: ast.Binary, want: str) -> tuple[str, str]:
        op = node.op
        if op in ("and", "or"):  # compiler._binary
            left, _ = self.write(node.left, "bool")
            right, _ = self.write(node.right, "bool")
            return self.convert(f"({left} {op} {right})", "bool", want)
        if op in _ARITHMETIC:
            left, _ = self.write(node.left, "num")
            right, _ = self.write(node.right, "num")
            return self.convert(f"({left} {_ARITHMETIC[op]} {right})", "num", want)
        if op in ("div", "mod"):
            left, _ = self.write(node.left, "num")
            right, _ = self.write(node.right, "num")
            helper = "DIVIDE" if op == "div" else "MODULO"
            return self.convert(f"{helper}({left}, {right})", "num", want)
        kinds = {compile_expr(node.left)[1], compile_expr(node.right)[1]}
        if not kinds <= _SCALAR:  # node-sets and "any": the compiler's comparison closures
            return self.closure(node, want)
        # compiler._scalars
        if op in _RELATIONAL:
            left, _ = self.write(node.left, "num")
            right, _ = self.write(node.right, "num")
            return self.convert(f"({left} {op} {right})", "bool", want)
        if "bool" in kinds:
            side = "bool"
        elif "num" in kinds:
            left, _ = self.write(node.left, "num")
            right, _ = self.write(node.right, "num")
            test = f"NUMBERS_EQUAL({left}, {right})"
            return self.convert(test if op == "=" else f"(not {test})", "bool", want)
        else:
            side = "str"
        left, _ = self.write(node.left, side)
        right, _ = self.write(node.right, side)
        return self.convert(f"({left} {'==' if op == '=' else '!='} {right})", "bool", want)

    def call(self, node: ast.Call, want: str) -> tuple[str, str]:
        name = node.name
        if name in ("true", "false"):  # fn_numbers.fn_true / fn_false
            return self.constant(name == "true", "bool", want)
        if name == "not":  # fn_numbers.fn_not
            operand, _ = self.write(node.args[0], "bool")
            return self.convert(f"(not {operand})", "bool", want)
        if name == "selected":  # fn_odk.build_selected, literal choice
            answer, _ = self.write(node.args[0], "str")
            needle = self.name(f" {node.args[1].value.strip()} ")
            return self.convert(f'({needle} in " " + {answer} + " ")', "bool", want)
        # if(): fn_odk.build_if; a conversion goes into each branch (coerce._pushed)
        test, _ = self.write(node.args[0], "bool")
        then_code, then_kind = self.write(node.args[1], want)
        else_code, else_kind = self.write(node.args[2], want)
        kind = then_kind if then_kind == else_kind else "any"
        return f"({then_code} if {test} else {else_code})", kind
