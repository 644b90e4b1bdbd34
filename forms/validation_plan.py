"""What validation needs from a form, prepared once: field plans and calculation order.

`forms.validation` runs these plans against each submission. Everything here
depends only on the form, so a `FormValidator` builds it once and reuses it
for every submission of that form version.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from forms.model import Field, FormModel
from forms.xpath import Context, Expr, ast, to_string

# Functions whose result on the server cannot match the tablet's: a calculate
# using one keeps the value the tablet stored, and is computed only when blank.
# The same holds for expressions reading an instance only the tablet has (an
# entity list or CSV attachment): the server cannot see what the tablet saw.
VOLATILE_FUNCTIONS = frozenset({"now", "today", "uuid", "random", "once", "randomize"})


@dataclass(slots=True, eq=False)
class Plan:
    """One field of the form, with what checking and computing it needs."""

    field: Field
    path: str
    name: str
    kind: str
    datatype: str
    parent: Plan | None
    order: int
    leaf: bool = True
    is_repeat: bool = False
    is_attr: bool = False
    in_repeat: bool = False
    needed: bool = True  # validation looks at this field (set by FormValidator)
    children: list[Plan] = field(default_factory=list)
    elements: dict[str, Plan] = field(default_factory=dict)  # child elements by name
    # Child leaves (not repeated) by name -> their path, or "" when no step of the
    # validation reads them: binding's fast lane (set by FormValidator).
    leaf_paths: dict[str, str] = field(default_factory=dict)
    attributes: list[Plan] = field(default_factory=list)
    positions: dict[str, int] = field(default_factory=dict)
    relevant: Expr | None = None
    required: Expr | None = None
    required_const: bool = False
    constraint: Expr | None = None
    calculate: Expr | None = None
    volatile: bool = False
    repeat_count: Expr | None = None
    selectable: bool = False
    valid_type: Callable[[str], bool] | None = None  # the datatype check (validation_checks)
    choices: frozenset[str] | None = None
    choice_filter: Expr | None = None
    value_ref: str = "name"
    multiple: bool = False
    compute: Callable[[object, Context], str] | None = None  # the calculate, as stored


def build_plans(form: FormModel) -> tuple[Plan, dict[str, Plan]]:
    """Plans for every field, by path, in form order (the root plan first)."""
    plans: dict[str, Plan] = {}

    available = set(form.instances) - set(form.external_instances)

    def build(f: Field, parent: Plan | None, order: int) -> Plan:
        plan = _plan(f, parent, order, available)
        plans[plan.path] = plan
        for i, child in enumerate(f.children):
            plan.children.append(build(child, plan, i))
        plan.elements = {c.name: c for c in plan.children if not c.is_attr}
        plan.attributes = [c for c in plan.children if c.is_attr]
        plan.positions = {name: c.order for name, c in plan.elements.items()}
        return plan

    return build(form.root, None, 0), plans


def _plan(f: Field, parent: Plan | None, order: int, available: set[str]) -> Plan:
    def checkable(expr: Expr | None) -> Expr | None:
        """`expr`, unless it reads an instance the server lacks (then it is not checked)."""
        return None if expr is None or _instances_read(expr) - available else expr

    plan = Plan(f, f.path, f.name, f.kind, f.datatype, parent, order)
    plan.leaf = f.kind not in ("group", "repeat")
    plan.is_repeat = f.kind == "repeat"
    plan.is_attr = f.kind == "attribute"
    plan.in_repeat = plan.is_repeat or (parent is not None and parent.in_repeat)
    plan.relevant = checkable(f.relevant)
    plan.constraint = checkable(f.constraint)
    plan.calculate = f.calculate
    plan.repeat_count = checkable(f.repeat_count)
    if f.required is not None:
        source = f.required.source.strip().replace(" ", "")
        if source == "true()":
            plan.required_const = True
        elif source != "false()":
            plan.required = checkable(f.required)
    if f.calculate is not None:
        plan.volatile = bool(
            VOLATILE_FUNCTIONS & f.calculate.functions() or _instances_read(f.calculate) - available
        )
    if f.calculate is not None:
        plan.compute = _computer(f.calculate, f.datatype)
    _plan_choices(plan, f)
    return plan


def _instances_read(expr: Expr) -> set[str]:
    """Ids of the secondary instances `expr` reads through instance('id')."""
    return {
        node.args[0].value
        for node in ast.walk(expr.ast)
        if isinstance(node, ast.Call)
        and node.name == "instance"
        and node.args
        and isinstance(node.args[0], ast.Literal)
    }


def _plan_choices(plan: Plan, f: Field) -> None:
    source = f.choices
    if source is None or source.external:
        return  # external itemsets only exist on the device: nothing to check against
    plan.selectable = True
    plan.multiple = f.datatype in ("select_multiple", "rank")
    plan.value_ref = source.value_ref or "name"
    if source.items:
        plan.choices = frozenset(c.name for c in source.items)
    if source.nodeset is not None and (source.filtered or not source.items):
        plan.choice_filter = source.nodeset
    if plan.choices is None and plan.choice_filter is None:
        plan.selectable = False


# -- calculation order -------------------------------------------------------------


def calculation_order(plans: dict[str, Plan]) -> tuple[list[tuple[str, Plan]], list[str]]:
    """Relevance and calculate steps in dependency order, and the paths caught in a cycle.

    A step depends on the calculates it reads, on the relevance of what it
    reads (a non-relevant answer reads as blank) and on the relevance of its
    own ancestors. Ties keep form order, so a form without dependencies runs
    top to bottom like a client would. Steps in a cycle run last, in form order.
    """
    steps: list[tuple[str, Plan]] = [("relevant", p) for p in plans.values() if p.relevant]
    steps += [("calculate", p) for p in plans.values() if p.calculate is not None]
    form_order = {path: i for i, path in enumerate(plans)}
    steps.sort(key=lambda s: (form_order[s[1].path], s[0] == "calculate"))
    depends: list[set[int]] = []
    for kind, plan in steps:
        expr = plan.relevant if kind == "relevant" else plan.calculate
        refs = {r for r in expr.references(plan.path) if r.startswith("/")}
        own = {a for a in _ancestors(plan.path) if a != plan.path or kind == "calculate"}
        depends.append({
            j for j, (k2, p2) in enumerate(steps)
            if (k2, p2) != (kind, plan) and _needs(k2, p2.path, refs, own)
        })  # fmt: skip
    return _toposort(steps, depends)


def needed_steps(steps: list[tuple[str, Plan]], targets: frozenset[str]) -> list[tuple[str, Plan]]:
    """The steps of `steps` (kept in their order) that the calculates at `targets` need:
    their own, those of what they read and the relevance of their ancestors, transitively
    (the dependencies `calculation_order` sorts by)."""
    depends: list[set[int]] = []
    for kind, plan in steps:
        expr = plan.relevant if kind == "relevant" else plan.calculate
        refs = {r for r in expr.references(plan.path) if r.startswith("/")}
        own = {a for a in _ancestors(plan.path) if a != plan.path or kind == "calculate"}
        depends.append({
            j for j, (k2, p2) in enumerate(steps)
            if (k2, p2) != (kind, plan) and _needs(k2, p2.path, refs, own)
        })  # fmt: skip
    todo = [i for i, (k, p) in enumerate(steps) if k == "calculate" and p.path in targets]
    wanted: set[int] = set()
    while todo:
        i = todo.pop()
        if i not in wanted:
            wanted.add(i)
            todo.extend(depends[i])
    return [steps[i] for i in sorted(wanted)]


def _ancestors(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(2, len(parts) + 1)]


def _needs(kind: str, path: str, refs: set[str], own: set[str]) -> bool:
    """Does a step reading `refs` at a field with ancestors `own` wait for step (kind, path)?"""
    if kind == "relevant" and path in own:
        return True
    for ref in refs:
        if path == ref or path.startswith(ref + "/"):
            return True
        if kind == "relevant" and ref.startswith(path + "/"):
            return True
    return False


def _toposort(steps, depends) -> tuple[list[tuple[str, Plan]], list[str]]:
    waiting = [len(d) for d in depends]
    users: list[list[int]] = [[] for _ in steps]
    for i, deps in enumerate(depends):
        for j in deps:
            users[j].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for u in users[i]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    cyclic = [i for i in range(len(steps)) if i not in set(order)]
    return [steps[i] for i in order + cyclic], [steps[i][1].path for i in cyclic]


# -- values as ODK stores them -------------------------------------------------------


def _computer(expr: Expr, datatype: str) -> Callable[[object, Context], str]:
    """How a calculate's result is stored for its bind type, as JavaRosa stores it.

    Numbers go through XPath's own number-to-string (`to_string`), so a
    calculate reads the same here as in `string()`; int binds truncate, and
    a number that is not finite leaves a numeric bind blank. The result is
    called as `(node, context)` (see `Expr.as_string`).
    """
    if datatype == "int":
        number = expr.as_number

        def integer(node, ctx: Context) -> str:
            x = number(node, ctx)
            return str(int(x)) if math.isfinite(x) else ""

        return integer
    if datatype == "decimal":
        number = expr.as_number

        def decimal(node, ctx: Context) -> str:
            x = number(node, ctx)
            return to_string(x) if math.isfinite(x) else ""

        return decimal
    if datatype in ("date", "dateTime"):
        value = expr.as_value
        return lambda node, ctx: _date_text(value(node, ctx), datatype)
    return expr.as_string


def _date_text(value, datatype: str) -> str:
    """Numbers are days since 1970-01-01 in XPath; anything else is kept as its string."""
    if isinstance(value, bool) or not isinstance(value, float):
        return to_string(value)
    if not math.isfinite(value):
        return ""
    moment = datetime(1970, 1, 1) + timedelta(days=value)
    if datatype == "date":
        return moment.date().isoformat()
    return moment.isoformat(timespec="milliseconds")
