"""`parse()`, `Expr` and `Env`: the public face of the XPath engine.

An `Expr` is parsed and compiled once (when a form loads) and evaluated many
times (for every submission), so compilation does all the dispatching and
`evaluate` only runs closures. Parsed expressions are immutable and cached by
source text, so forms sharing an expression share its compiled form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from forms.tree import Node
from forms.xpath import ast
from forms.xpath.analysis import function_names, is_constant, needs_own_context, references
from forms.xpath.codegen import generate
from forms.xpath.coerce import as_bool, as_num, as_str
from forms.xpath.compiler import compile_expr
from forms.xpath.dates import VN_TZ
from forms.xpath.errors import XPathSyntaxError
from forms.xpath.parser import parse_ast
from forms.xpath.printer import unparse
from forms.xpath.registry import Context


@dataclass
class Env:
    """What an evaluation can see besides the context node.

    `root` is the primary instance's root element (absolute paths start with
    its name: /data/...); `instances` are secondary instances by id, each the
    element `instance('id')/root` selects; `now` fixes the clock for today()
    and now() (None: the real clock, in `tz`); `choice_name(value, path)`
    answers jr:choice-name(); `uuid` makes uuid() deterministic in tests.
    """

    root: Node
    instances: Mapping[str, Node] = field(default_factory=dict)
    now: datetime | None = None
    tz: tzinfo = VN_TZ
    choice_name: Callable[[str, str], str] | None = None
    uuid: Callable[[], str] | None = None
    # One read-only evaluation context shared by the expressions that never change it (no
    # predicates, no current()): saves an allocation per evaluation on the hot path.
    _shared: Context | None = field(default=None, init=False, repr=False, compare=False)
    # `now` in local time, for the clock and zone it was computed with (`Context.now`).
    _local_now: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def release(self) -> None:
        """Forget the shared context once evaluating is over. It and this Env refer to each
        other: a cycle that only CPython's cyclic collector frees, and with it everything
        `root` holds (a submission's whole tree, for ingest)."""
        self._shared = None


def shared_context(env: Env) -> Context:
    """The read-only context shared by the evaluations in `env` that need no own context."""
    shared = env._shared
    if shared is None or shared.tz is not env.tz:
        shared = env._shared = Context(env, None)
    return shared


class Expr:
    """A parsed, compiled ODK XPath expression. Equal when their trees are equal.

    For callers that evaluate one expression very often (validation), the
    compiled closures are public: `as_value` (any type), `as_boolean`,
    `as_number` and `as_string` take `(node, context)`, where the context is
    `shared_context(env)` unless `own_context` is true, in which case it must
    be `Context(env, node)`.
    Node-sets they return are read-only (see `evaluate`).
    """

    __slots__ = (
        "as_boolean", "as_number", "as_string", "as_value", "ast", "own_context", "result_type",
        "source",
    )  # fmt: skip

    def __init__(self, source: str, tree: ast.Expression) -> None:
        self.source = source
        self.ast = tree
        compiled = compile_expr(tree)
        self.as_value, self.result_type = compiled  # bool, num, str, nodes or any
        generated = generate(tree)  # its operators as one function, if it has any
        if generated is not None:
            self.as_value = generated["value"]
            self.as_boolean = generated["bool"]
            self.as_number = generated["num"]
            self.as_string = generated["str"]
        else:
            self.as_boolean = as_bool(compiled)
            self.as_number = as_num(compiled)
            self.as_string = as_str(compiled)
        self.own_context = needs_own_context(tree)

    def _context(self, node: Any, env: Env) -> Context:
        if self.own_context:
            return Context(env, node)
        return shared_context(env)

    @staticmethod
    def _defaults(node: Any, env: Env | None) -> tuple[Any, Env]:
        if env is None:
            env = Env(root=node if isinstance(node, Node) else Node(""))
        return (env.root if node is None else node), env

    def evaluate(self, node: Any = None, env: Env | None = None) -> str | float | bool | list:
        """The value at context `node` (default: the root): str, float, bool or a node list.

        Node lists hold `forms.tree.Node` and `Attr`, in document order (except
        after randomize()); `/` and `instance('x')` alone give the document node
        and `text()` a text node (see `forms.xpath.nodes`), which have the same
        `name`, `text`, `parent` and `string_value()`.
        """
        if node is None or env is None:
            node, env = self._defaults(node, env)
        value = self.as_value(node, self._context(node, env))
        # A node-set may be a list owned by a child-name index: the caller gets its own.
        return list(value) if type(value) is list else value

    def eval_string(self, node: Any = None, env: Env | None = None) -> str:
        if node is None or env is None:
            node, env = self._defaults(node, env)
        return self.as_string(node, self._context(node, env))

    def eval_number(self, node: Any = None, env: Env | None = None) -> float:
        if node is None or env is None:
            node, env = self._defaults(node, env)
        return self.as_number(node, self._context(node, env))

    def eval_boolean(self, node: Any = None, env: Env | None = None) -> bool:
        if node is None or env is None:
            node, env = self._defaults(node, env)
        return self.as_boolean(node, self._context(node, env))

    def unparse(self) -> str:
        """Canonical text; parse(e.unparse()) == e."""
        return unparse(self.ast)

    def references(self, context_path: str) -> set[str]:
        """Absolute name paths read from the primary instance when evaluated at context_path."""
        return references(self.ast, context_path)

    def functions(self) -> set[str]:
        """Names of the functions called, with prefixes as written (jr:choice-name)."""
        return function_names(self.ast)

    @property
    def is_constant(self) -> bool:
        """No paths, no clock, no randomness, no context: the value never changes."""
        return is_constant(self.ast)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Expr) and other.ast == self.ast

    def __hash__(self) -> int:
        return hash(self.ast)

    def __repr__(self) -> str:
        return f"Expr({self.source!r})"


@lru_cache(maxsize=8192)
def _parse_cached(source: str) -> Expr:
    return Expr(source, parse_ast(source))


def parse(source: str) -> Expr:
    """Parse and compile `source`; raise XPathSyntaxError (with `.position`) when invalid."""
    try:
        return _parse_cached(source)
    except XPathSyntaxError as exc:
        exc.source = source
        raise
