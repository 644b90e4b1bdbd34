"""Where function implementations register themselves, and the evaluation context they receive.

Two kinds of implementation:

- `@function(name)`: called as `impl(node, ctx, *argument_values)` after every
  argument has been evaluated (most functions). `params` may declare what the
  implementation converts each argument to first ("s" string, "n" number, "b"
  boolean, "-" nothing; one letter per argument, the last repeating for more):
  the compiler then converts at compile time where it can (a literal, each
  branch of an `if()`, a node-set's first node read directly) and the
  implementation receives the converted value, on which its own `to_string`...
  costs only a type test. Declare only what the implementation does anyway;
  `tests/unit/forms/xpath/test_xpath_typed_args.py` holds them to it;
- `@builder(name)`: called once at compile time as
  `impl(call, compiled_args)` and returns the closure `(node, ctx) -> value`,
  for functions that must not evaluate all arguments (`if`, `coalesce`) or
  that gain from work done once (`regex` with a literal pattern).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forms.xpath.expr import Env

Closure = Callable[[Any, "Context"], Any]
# A compiled argument: its closure and its static type (bool, num, str, nodes or any).
Compiled = tuple[Closure, str]

IMPLEMENTATIONS: dict[str, tuple[str, Callable]] = {}
# Argument conversions declared by `@function(name, params=...)`, by function name.
PARAMS: dict[str, str] = {}


class Context:
    """Per-evaluation state: the environment, the outermost context node, predicate position."""

    __slots__ = ("current", "env", "pos", "size", "tz")

    def __init__(self, env: Env, current: Any) -> None:
        self.env = env
        self.current = current
        self.pos = 0  # 0 outside predicates
        self.size = 0
        self.tz = env.tz

    def now(self) -> datetime:
        """The fixed clock of the environment, or the real one, in local time."""
        env = self.env
        fixed = env.now
        if fixed is None:
            return datetime.now(self.tz)
        # Validation reads today() several times per submission with one fixed clock: the
        # local time is computed once per Env (datetime.replace is slow on CPython 3.11).
        known = env._local_now
        if known is not None and known[0] is fixed and known[1] is self.tz:
            return known[2]
        local = fixed.replace(tzinfo=self.tz) if fixed.tzinfo is None else fixed
        local = local.astimezone(self.tz)
        env._local_now = (fixed, self.tz, local)
        return local


def function(*names: str, params: str = ""):
    """Register an eager implementation under one or more names (`params`: see above)."""

    def register(impl: Callable) -> Callable:
        for name in names:
            IMPLEMENTATIONS[name] = ("eager", impl)
            if params:
                PARAMS[name] = params
        return impl

    return register


def builder(*names: str):
    """Register a compile-time builder under one or more names."""

    def register(impl: Callable) -> Callable:
        for name in names:
            IMPLEMENTATIONS[name] = ("builder", impl)
        return impl

    return register
