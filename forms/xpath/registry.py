"""Where function implementations register themselves, and the evaluation context they receive.

Two kinds of implementation:

- `@function(name)`: called as `impl(node, ctx, *argument_values)` after every
  argument has been evaluated (most functions);
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
        fixed = self.env.now
        if fixed is None:
            return datetime.now(self.tz)
        if fixed.tzinfo is None:
            fixed = fixed.replace(tzinfo=self.tz)
        return fixed.astimezone(self.tz)


def function(*names: str):
    """Register an eager implementation under one or more names."""

    def register(impl: Callable) -> Callable:
        for name in names:
            IMPLEMENTATIONS[name] = ("eager", impl)
        return impl

    return register


def builder(*names: str):
    """Register a compile-time builder under one or more names."""

    def register(impl: Callable) -> Callable:
        for name in names:
            IMPLEMENTATIONS[name] = ("builder", impl)
        return impl

    return register
