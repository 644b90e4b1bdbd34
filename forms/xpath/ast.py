"""The expression tree: small frozen dataclasses, compared structurally.

Abbreviations are expanded when parsing (`.` is `self::node()`, `..` is
`parent::node()`, `@x` is `attribute::x`, `//` is
`/descendant-or-self::node()/`), so two spellings of one expression give equal
trees; the printer abbreviates again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Literal:
    value: str


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expression


@dataclass(frozen=True, slots=True)
class Binary:
    """`op` is one of: or and = != < <= > >= + - * div mod |"""

    op: str
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Call:
    """A function call; `name` keeps its prefix as written (`jr:choice-name`)."""

    name: str
    args: tuple[Expression, ...] = ()


@dataclass(frozen=True, slots=True)
class Step:
    """One location step. `test` is a name (prefix kept), `*`, `p:*`, `node()` or `text()`."""

    axis: str
    test: str
    predicates: tuple[Expression, ...] = ()


@dataclass(frozen=True, slots=True)
class Path:
    """A location path: from the document root (`absolute`), from `base`, or from the context.

    `base` is the filter expression a path continues, such as `instance('x')`
    or `current()` in `instance('x')/root/item` and `current()/../name`.
    """

    steps: tuple[Step, ...]
    absolute: bool = False
    base: Expression | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    """A primary expression with predicates: `(/data/a | /data/b)[1]`."""

    primary: Expression
    predicates: tuple[Expression, ...]


Expression = Literal | Number | Neg | Binary | Call | Path | Filter

SELF = Step("self", "node()")
PARENT = Step("parent", "node()")
DESCENDANT_OR_SELF = Step("descendant-or-self", "node()")


def walk(node: Expression):
    """Every expression node below and including `node`, parents before children."""
    yield node
    if isinstance(node, Neg):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)
    elif isinstance(node, Filter):
        yield from walk(node.primary)
        for pred in node.predicates:
            yield from walk(pred)
    elif isinstance(node, Path):
        if node.base is not None:
            yield from walk(node.base)
        for step in node.steps:
            for pred in step.predicates:
                yield from walk(pred)
