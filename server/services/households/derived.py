"""Derived household properties after a merge (sync contract H6), with the form's own expressions.

A merge takes some properties from one visit and some from another, so a
property the form calculates from others (deprivation count, poverty status,
the label) could disagree with the values it derives from. After a merge the
server recomputes those, with the calculate expressions of the form that
wrote the household last.

Which properties: a saved property whose calculate reads, directly or
through calculates that are not saved (`poor_line`), only other saved
properties. One that reads an answer the household does not keep
(`employment` reads `q_unemployed`) cannot be recomputed from the household
and merges like any other value. Evaluation is `forms.validation`'s own
(bind type formatting included), over a small tree holding the merged
values; relevance is not applied (the merged values are what they are).
No Flask or database here: the caller passes the form model.
"""

from __future__ import annotations

import logging
import math
import re

from forms.model import Field, FormModel
from forms.tree import Node
from forms.xpath import Env, XPathError, to_string

#: Functions whose value is not a function of the answers (the clock, randomness, the
#: tablet's own lists): such a calculate keeps the value sent.
VOLATILE = frozenset({"now", "today", "random", "uuid", "instance", "once", "randomize"})

log = logging.getLogger(__name__)

#: The key the label takes among a household's merged values (ODK reserves the name).
LABEL = "label"


_PLANS: dict[int, tuple[FormModel, tuple, dict[str, Field]]] = {}


def plan(form: FormModel) -> tuple[tuple[str, str | None], ...]:
    """(path, property or None) of the calculates to run, in dependency order.

    Empty when the form derives nothing from saved properties alone. Kept per
    form model (models are loaded once per process and never change).
    """
    return _planned(form)[1]


def derived_names(form: FormModel) -> frozenset[str]:
    """The properties `form` recomputes (H6)."""
    return frozenset(name for _, name in plan(form) if name is not None)


def _planned(form: FormModel) -> tuple[FormModel, tuple, dict[str, Field]]:
    found = _PLANS.get(id(form))
    if found is None or found[0] is not form:
        if len(_PLANS) > 256:
            _PLANS.clear()
        found = _PLANS[id(form)] = (form, _plan(form), _fields(form))
    return found


def _fields(form: FormModel) -> dict[str, Field]:
    found, stack = {}, [form.root]
    while stack:
        f = stack.pop()
        found[f.path] = f
        stack.extend(f.children)
    return found


def _plan(form: FormModel) -> tuple[tuple[str, str | None], ...]:
    entity = form.entity
    if entity is None:
        return ()
    saved = {path: name for name, path in entity.properties.items()}
    saved[f"{entity.path}/label"] = LABEL
    fields = _fields(form)
    computable: dict[str, bool] = {}
    steps: list[tuple[str, str | None]] = []

    def recomputable(path: str, seen: frozenset[str]) -> bool:
        """A calculate whose inputs are all known from the household's values; its own
        inputs that are calculates themselves are placed in `steps` before it."""
        if path not in computable:
            f = fields.get(path)
            ok = f is not None and f.calculate is not None and path not in seen
            ok = ok and f.kind != "attribute" and not f.in_repeat
            ok = ok and not _volatile(f.calculate, form)
            if ok:
                refs = sorted(r for r in f.calculate.references(path) if r.startswith("/"))
                for r in refs:
                    if not (recomputable(r, seen | {path}) or r in saved):
                        ok = False
            computable[path] = ok
            if ok:
                steps.append((path, saved.get(path)))
        return computable[path]

    for path in saved:
        recomputable(path, frozenset())
    if not any(name is not None for _, name in steps):
        return ()
    return tuple(steps)


def _volatile(expr, form: FormModel) -> bool:
    """Whether `expr` reads something other than the answers. A secondary instance the server
    holds itself (`poverty_lines`, attached by `forms.poverty.media`) is as fixed as the form."""
    found = expr.functions() & VOLATILE
    if found == {"instance"}:
        held = set(form.instances)
        named = re.findall(r"instance\(\s*'([^']*)'\s*\)", expr.source)
        return not named or not set(named) <= held
    return bool(found)


def _value(f: Field, node: Node, env: Env) -> str:
    """A calculate's result as the form stores it for its bind type (as JavaRosa does)."""
    if f.datatype == "int":
        x = f.calculate.eval_number(node, env)
        return str(int(x)) if math.isfinite(x) else ""
    if f.datatype == "decimal":
        x = f.calculate.eval_number(node, env)
        return to_string(x) if math.isfinite(x) else ""
    return f.calculate.eval_string(node, env)


def derive(
    form: FormModel, values: dict[str, str], only: frozenset[str] | None = None
) -> dict[str, str]:
    """`values` with the properties `form` derives from other properties recomputed (H6);
    with `only`, just those of them and the calculates they read (a later form
    recomputes the others)."""
    _, steps, fields = _planned(form)
    if only is not None:
        steps = _steps_for(form, only)
    if not steps:
        return values
    root = Node(form.root_name)
    nodes: dict[str, Node] = {}
    # Only the properties the calculates read (or compute) go in the tree: the others'
    # nodes would be built for nothing, on every merge.
    for name, path in _inputs(form, steps):
        if name is None:  # the label
            _node(root, nodes, path).text = values.get(LABEL, "")
        elif name in values:
            _node(root, nodes, path).text = values[name]
    env = Env(root=root, instances=form.instances)  # the lines the server holds
    out = dict(values)
    for path, name in steps:
        node = _node(root, nodes, path)
        try:
            value = _value(fields[path], node, env)
        except XPathError as exc:  # keep the merged value; the rebuild would show a difference
            log.warning("cannot recompute %s: %s", path, exc)
            continue
        node.text = value
        if name is not None and (name in values or name == LABEL):
            out[name] = value
    # Freed now, not by the cyclic collector (`Node.release`, `Env.release`).
    env.release()
    root.release()
    return out


_INPUTS: dict[tuple[int, tuple], tuple[FormModel, tuple]] = {}


def _inputs(form: FormModel, steps: tuple) -> tuple[tuple[str | None, str], ...]:
    """(property, or None for the label, path) of the saved values the tree of `steps` needs, in the
    form's property order (the label last): those a step reads, those below a group a
    step reads, and those a step computes (kept per form model and steps)."""
    key = (id(form), steps)
    found = _INPUTS.get(key)
    if found is None or found[0] is not form:
        if len(_INPUTS) > 256:
            _INPUTS.clear()
        fields = _planned(form)[2]
        read = {path for path, _name in steps}
        for path, _name in steps:
            read |= fields[path].calculate.references(path)
        entity = form.entity
        saved: list[tuple[str | None, str]] = list(entity.properties.items())
        saved.append((None, f"{entity.path}/label"))
        needed = tuple(
            (name, path)
            for name, path in saved
            if any(path == r or path.startswith(r + "/") for r in read)
        )
        found = _INPUTS[key] = (form, needed)
    return found[1]


_SUBPLANS: dict[tuple[int, frozenset[str]], tuple[FormModel, tuple]] = {}


def _steps_for(form: FormModel, names: frozenset[str]) -> tuple[tuple[str, str | None], ...]:
    """The steps of `plan(form)` that compute `names`, with the steps they read, in plan
    order (kept per form model and set of names, as the plan is)."""
    key = (id(form), names)
    found = _SUBPLANS.get(key)
    if found is None or found[0] is not form:
        if len(_SUBPLANS) > 256:
            _SUBPLANS.clear()
        _, steps, fields = _planned(form)
        index = {path: i for i, (path, _name) in enumerate(steps)}
        wanted = {path for path, name in steps if name in names}
        todo = list(wanted)
        while todo:  # the calculates a wanted step reads, and theirs
            path = todo.pop()
            for ref in fields[path].calculate.references(path):
                if ref in index and ref not in wanted:
                    wanted.add(ref)
                    todo.append(ref)
        found = _SUBPLANS[key] = (form, tuple(step for step in steps if step[0] in wanted))
    return found[1]


def _node(root: Node, nodes: dict[str, Node], path: str) -> Node:
    """The element at `path` below `root`, made (with its parents) when missing; `nodes`
    remembers them by path. (A function, not a closure over `nodes`: a closure that calls
    itself is a reference cycle, which would keep the whole tree for the cyclic collector.)"""
    found = nodes.get(path)
    if found is None:
        parent_path, _, name = path.rpartition("/")
        parent = root if parent_path.count("/") <= 1 else _node(root, nodes, parent_path)
        found = nodes[path] = parent.child(name) or parent.append(Node(name))
    return found
