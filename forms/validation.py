"""Validation and computation: a submission checked against its form, as ODK would.

`validate(form, root)` binds the answer tree to the form's fields, computes
relevance and the calculates in dependency order (per repeat instance), then
checks every relevant answer (`forms.validation_checks`): required,
constraint, datatype, choice (through choice filters), repeat counts, the
entity block, and elements the form does not have. Problems come back as
`Issue`s keyed by indexed path (`/data/member[2]/m_age`) with English and
Vietnamese messages (`forms.messages`).

Everything that depends only on the form (field plans, calculation order,
choice sets) is prepared once by `FormValidator` and cached per form
(`validator_for`), because the server validates thousands of submissions per
form. To stay fast, `validate` works on the tree it is given and puts every
change back before returning; do not validate one tree from two threads.
Binding the tree to the plans visits every element once, and that pass also
builds each group's child-name index (`forms.tree.Node.named`) that the path
steps of every expression read; expressions run through their compiled
closures (`Expr.as_string`...) with one shared context per run.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from forms.messages import issue_message
from forms.model import FormModel
from forms.tree import Attr, Node
from forms.validation_checks import (
    Issue,
    Run,
    check_answer,
    check_count,
    check_entities,
    has_checks,
    message_languages,
)
from forms.validation_plan import Plan, build_plans, calculation_order, needed_steps
from forms.xpath import Context, Env, XPathError

# Children a client may add under `meta` without the form declaring them.
_META_EXTRAS = frozenset(
    {"instanceID", "deprecatedID", "instanceName", "audit", "entity", "timeStart", "timeEnd",
     "userID", "deviceID", "phoneNumber", "simSerial", "subscriberID", "email", "username"}
)  # fmt: skip


@dataclass(slots=True)
class ValidationResult:
    """Issues, computed calculate values by indexed path, and `ok` (no error issue)."""

    issues: list[Issue]
    computed: dict[str, str]
    ok: bool

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    def to_dict(self) -> dict:
        """The JSON shape: {"ok", "issues": [...], "computed": {...}}."""
        return {
            "ok": self.ok,
            "issues": [i.to_dict() for i in self.issues],
            "computed": dict(self.computed),
        }


class FormValidator:
    """Validation prepared for one form; build once (see `validator_for`) and reuse."""

    def __init__(self, form: FormModel, *, lang: str | None = None) -> None:
        self.form = form
        self.root_plan, self.plans = build_plans(form)
        # Paths caught in a dependency cycle (run last, in form order) stay visible here.
        self.steps, self.cyclic = calculation_order(self.plans)
        self._needed: dict[frozenset[str], list] = {}  # `computed`'s steps by target paths
        plans = self.plans.values()
        self.checked = [p for p in plans if p.leaf and p.kind != "calculate" and has_checks(p)]
        self.calculated = [p for p in plans if p.calculate is not None]
        self.counted = [p for p in plans if p.repeat_count is not None]
        # Leaves with nothing to check or compute (notes, mostly): nothing looks at them
        # unless they hold an answer.
        checked = set(map(id, self.checked))
        self.inert = {
            p.path for p in plans if p.leaf and p.calculate is None and id(p) not in checked
        }
        # Leaves whose relevance only matters when they hold an answer to ignore: neither
        # required nor calculated, so a blank one is fine either way.
        self.optional = {
            p.path
            for p in plans
            if p.leaf and p.calculate is None and not p.required_const and p.required is None
        }
        # A field validation never looks at needs no stand-in when the submission lacks it.
        looked_at = {e.path for e in form.entities} | {p.parent.path for p in self.counted}
        for plan in reversed(plans):  # children before parents
            below = any(c.needed for c in plan.children)
            plan.needed = plan.path in looked_at or (
                below if not plan.leaf else plan.path not in self.inert
            )
        self.langs = message_languages(form, lang)
        # Where validation reads the nodes bound to a field; other leaves are not recorded.
        read = {p.path for _, p in self.steps} | {p.path for p in self.checked}
        read |= looked_at | {p.path for p in self.calculated}
        for plan in plans:
            plan.leaf_paths = {
                name: cp.path if cp.path in read else ""
                for name, cp in plan.elements.items()
                if cp.leaf and not cp.is_repeat and not cp.children
            }

    def validate(self, root: Node, *, now: datetime | None = None) -> ValidationResult:
        """Check `root` against the form. The tree is left exactly as it was given.

        A root element named otherwise than the form's is reported alone: no
        path of the form can be found in such a tree.
        """
        mismatch = self._form_mismatch(root)
        if mismatch is not None and root.name != self.form.root_name:
            return ValidationResult([mismatch], {}, False)
        run = self._bind_run(root, now)
        if mismatch is not None:
            run.issues.append(mismatch)
        try:
            self._compute(run)
            self._check(run)
        finally:
            _undo(run)
            run.env.release()
        ok = not any(i.severity == "error" for i in run.issues)
        return ValidationResult(run.issues, run.computed, ok)

    def computed(
        self, root: Node, paths: frozenset[str], *, now: datetime | None = None
    ) -> dict[str, str]:
        """The values `validate` computes for the calculates at `paths`, computing only
        what they need and checking nothing: what reading a stored submission again needs
        (the household rebuild reads the entity's properties; the checks were passed when
        the submission was received). Paths of other calculates are left out."""
        if root.name != self.form.root_name:
            return {}
        steps = self._needed.get(paths)
        if steps is None:
            steps = self._needed[paths] = (
                self.steps if self.cyclic else needed_steps(self.steps, paths)
            )
        run = self._bind_run(root, now)
        try:
            self._compute(run, steps)
        finally:
            _undo(run)
            run.env.release()
        return {path: value for path, value in run.computed.items() if path in paths}

    def compute(self, root: Node, *, now: datetime | None = None) -> Node:
        """A copy of `root` with every calculate (re)computed and written in.

        Calculates that read the clock, randomness or a list only the tablet
        has keep the tablet's value when it sent one.
        """
        copy = root.copy()
        run = self._bind_run(copy, now)
        self._compute(run)
        run.env.release()
        # Answers blanked because they are not relevant go back as they were;
        # calculated values (and elements created for them) stay.
        for kind, target, old in reversed(run.journal):
            if kind == "answer":
                target.text = old
        return copy

    def _form_mismatch(self, root: Node) -> Issue | None:
        form = self.form
        if root.name != form.root_name:
            key, value = "form_mismatch_root", root.name
        elif root.attrs.get("id", form.form_id) != form.form_id:
            key, value = "form_mismatch_id", root.attrs["id"]
        else:
            return None
        en, vi = issue_message(key, value=value, form_id=form.form_id, expected=form.root_name)
        return Issue(f"/{root.name}", "form_mismatch", en, vi, "error", value)

    # -- binding the tree to the form --------------------------------------------

    def _bind_run(self, root: Node, now: datetime | None) -> Run:
        env = Env(root=root, instances=self.form.instances, now=now, choice_name=self._choice_name)
        run = Run(self.plans, env, self.langs)
        self._bind(self.root_plan, root, run)
        return run

    def _bind(self, plan: Plan, node: Node, run: Run) -> None:
        """Record where each field of `plan` is in the tree: `node` and what is below it."""
        run.instances[plan.path].append(node)
        if plan.children:
            self._bind_children(plan, node, run)

    def _bind_children(self, plan: Plan, node: Node, run: Run) -> None:
        """One pass over the children of `node`; fields it lacks get stand-ins if needed.

        The pass also builds the node's child-name index (`Node.named`), which
        the path steps of every expression then use.
        """
        instances, elements, leaves = run.instances, plan.elements, plan.leaf_paths
        index: dict[str, list[Node]] = {}
        unknown = 0  # distinct names the form does not have here
        for child in node.children:
            name = child.name
            same = index.get(name)
            if same is None:
                index[name] = [child]
                path = leaves.get(name)
                if path is not None:  # the common case: a leaf of the form, seen once
                    if path:
                        instances[path].append(child)
                    continue
                count = 1
            else:
                same.append(child)
                count = len(same)
            cp = elements.get(name)
            if cp is None:
                unknown += count == 1
                _unknown(plan, child, run)
                continue
            if count > 1 and not cp.is_repeat:
                _unknown(plan, child, run)
                continue
            if cp.is_repeat:
                run.pos[id(child)] = count
            instances[cp.path].append(child)
            if cp.children:
                self._bind_children(cp, child, run)
        node._index = index
        if len(index) - unknown < len(elements):
            for name, cp in elements.items():
                if name not in index and cp.needed and not cp.is_repeat:
                    self._bind(cp, _virtual(cp, node, run), run)
        for cp in plan.attributes:
            if cp.needed:
                instances[cp.path].append(Attr(node, cp.name))

    # -- computation --------------------------------------------------------------

    def _compute(self, run: Run, steps: list | None = None) -> None:
        for kind, plan in self.steps if steps is None else steps:
            if kind == "relevant":
                self._relevance(plan, run)
            else:
                self._calculate(plan, run)
        computed = run.computed
        calculated = self.calculated if steps is None else [p for k, p in steps if k != "relevant"]
        for plan in calculated:
            for node in run.instances[plan.path]:
                computed[run.ipath(node) if plan.in_repeat else plan.path] = node.text

    def _relevance(self, plan: Plan, run: Run) -> None:
        optional = plan.path in self.optional
        for node in run.instances[plan.path]:
            if optional and not node.text:
                continue
            if id(node) not in run.nonrel and run.rule(plan.relevant, node) is False:
                self._mark_nonrel(node, run)

    def _mark_nonrel(self, node: Node, run: Run) -> None:
        """Not relevant: its answers are ignored, so they read as blank in expressions.

        Every element below is marked too (virtual ones included), so that
        asking whether an element is relevant is one set lookup.
        """
        stack = [node]
        while stack:
            n = stack.pop()
            run.nonrel.add(id(n))
            stack.extend(n.children)
            stack.extend(run.vkids.get(id(n), ()))
            if n.children or not n.text or id(n) in run.virtual:
                continue
            plan = self.plans.get(n.path())
            if plan is not None and plan.kind == "calculate":
                continue  # its own step blanks it, and compute() keeps that blank
            if n.text.strip():
                run.issue(n, "not_relevant", "not_relevant", value=n.text)
            run.journal.append(("answer", n, n.text))
            n.text = ""

    def _calculate(self, plan: Plan, run: Run) -> None:
        nonrel, env, compute, ctx = run.nonrel, run.env, plan.compute, run.ctx
        own = plan.calculate.own_context
        for node in run.instances[plan.path]:
            if id(node.parent if plan.is_attr else node) in nonrel:
                value = ""
            elif plan.volatile and node.text.strip():
                continue  # now(), uuid(), the tablet's entity list...: its value stands
            else:
                try:
                    value = compute(node, Context(env, node) if own else ctx)
                except XPathError as exc:
                    run.issue(node, "calculation_error", "calculation_error", detail=exc.message)
                    continue
            if value != node.text:
                if value and (id(node) in run.virtual or isinstance(node, Attr)):
                    _materialise(node, run)
                run.journal.append(("calc", node, node.text))
                node.text = value

    # -- checks -------------------------------------------------------------------

    def _check(self, run: Run) -> None:
        nonrel, instances = run.nonrel, run.instances
        for plan in self.checked:
            nodes = instances.get(plan.path)
            if not nodes:
                continue
            if plan.is_attr:
                for node in nodes:
                    if id(node.parent) not in nonrel:
                        check_answer(plan, node, run)
            elif plan.path in self.optional:  # a blank answer is fine: only answers are checked
                for node in nodes:
                    if node.text and id(node) not in nonrel:
                        check_answer(plan, node, run)
            else:
                for node in nodes:
                    if id(node) not in nonrel:
                        check_answer(plan, node, run)
        for plan in self.counted:
            check_count(plan, run)
        check_entities(self.form, run)

    def _choice_name(self, value: str, path: str) -> str:
        """jr:choice-name(): the label of option `value` of the select at `path`."""
        f = self.form.fields.get(path)
        for choice in f.choices.items if f is not None and f.choices is not None else ():
            if choice.name == value:
                return choice.label.get(self.form.default_language)
        return ""


def _unknown(plan: Plan, node: Node, run: Run) -> None:
    """An element the form does not have (clients' own `meta` children excepted)."""
    if plan.name == "meta" and node.name in _META_EXTRAS:
        return
    value = node.text if not node.children else None
    run.issue(node, "unknown_field", "unknown_field", value=value, name=node.name)


def _virtual(plan: Plan, parent: Node, run: Run) -> Node:
    """A stand-in for an element the submission lacks: it knows its parent, but the
    parent does not list it, so expressions see the element as absent (blank)."""
    node = Node.detached(plan.name, parent)
    run.virtual[id(node)] = plan
    run.vkids.setdefault(id(parent), []).append(node)
    return node


def _materialise(node, run: Run) -> None:
    """Put an element (or attribute) the submission lacked into the tree, in form order."""
    if isinstance(node, Attr):
        _materialise(node.parent, run)
        if node.name not in node.parent.attrs:
            run.journal.append(("new_attr", node.parent, node.name))
        return
    plan = run.virtual.pop(id(node), None)
    if plan is None:
        return
    parent = node.parent
    _materialise(parent, run)
    siblings = parent.children
    index = len(siblings)
    for i, sibling in enumerate(siblings):
        if plan.parent.positions.get(sibling.name, math.inf) > plan.order:
            index = i
            break
    parent.insert(index, node)
    run.journal.append(("insert", parent, node))


def _undo(run: Run) -> None:
    """Put the tree back as it was given."""
    for kind, target, old in reversed(run.journal):
        if kind == "insert":
            target.remove(old)
        elif kind == "new_attr":
            del target.attrs[old]
        else:
            target.text = old
    run.journal.clear()


_CACHE: OrderedDict[int, FormValidator] = OrderedDict()
_CACHE_SIZE = 64
_CACHE_LOCK = threading.Lock()


def validator_for(form: FormModel) -> FormValidator:
    """The cached `FormValidator` of `form` (built on first use; the last 64 built are kept)."""
    key = id(form)
    validator = _CACHE.get(key)  # a dict read needs no lock; the entry holds its form
    if validator is not None and validator.form is form:
        return validator
    validator = FormValidator(form)
    with _CACHE_LOCK:
        _CACHE[key] = validator
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return validator


def validate(
    form: FormModel, submission_root: Node, *, now: datetime | None = None, lang: str | None = None
) -> ValidationResult:
    """Validate a submission's answer tree against `form` (see `FormValidator.validate`).

    `now` fixes the clock for today()/now() (default: the real clock). `lang`
    names the form language whose custom messages (jr:constraintMsg,
    jr:requiredMsg) are used when no form language is recognisably English
    or Vietnamese; by default the form's default language.
    """
    validator = validator_for(form) if lang is None else FormValidator(form, lang=lang)
    return validator.validate(submission_root, now=now)


def compute(form: FormModel, root: Node, now: datetime | None = None) -> Node:
    """A copy of `root` with the form's calculates filled in (see `FormValidator.compute`)."""
    return validator_for(form).compute(root, now=now)


__all__ = ["FormValidator", "Issue", "ValidationResult", "compute", "validate", "validator_for"]
