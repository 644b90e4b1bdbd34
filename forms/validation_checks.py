"""The checks on each answer, and the state of one validation run that they report into.

`forms.validation` binds a submission to its form and computes it; the
functions here then look at every relevant answer (required, datatype, choice,
constraint), at repeat counts and at the entity block, and add an `Issue` for
each problem to the `Run`.
"""

from __future__ import annotations

import math
import re
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, time

from forms.i18n import N_, render
from forms.messages import ISSUE_SEVERITY, issue_message
from forms.model import FormModel, Text
from forms.tree import Attr, Node
from forms.validation_plan import Plan
from forms.xpath import Context, Env, Expr, XPathError, shared_context


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem (or note) about one answer, at an indexed path."""

    path: str
    code: str
    message: str
    message_vi: str
    severity: str
    value: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class Run:
    """One validation: where each field is in the tree, what was changed, what was found."""

    __slots__ = (
        "computed", "ctx", "env", "instances", "issues", "journal", "langs", "nonrel", "paths",
        "pos", "virtual", "vkids",
    )  # fmt: skip

    def __init__(self, plans: dict[str, Plan], env: Env, langs) -> None:
        self.instances: dict[str, list] = defaultdict(list)  # field path -> its nodes
        self.virtual: dict[int, Plan] = {}  # id(node) -> plan, for elements the body lacks
        self.vkids: dict[int, list[Node]] = {}  # id(parent) -> its virtual children
        self.nonrel: set[int] = set()  # ids of every element that is not relevant
        self.pos: dict[int, int] = {}  # id(repeat instance) -> 1-based position
        self.paths: dict[int, str] = {}  # id(element) -> its indexed path (`ipath`)
        self.journal: list[tuple] = []  # changes to undo: (kind, node or parent, old value)
        self.issues: list[Issue] = []
        self.computed: dict[str, str] = {}
        self.env = env
        self.ctx = shared_context(env)  # for expressions that need no context of their own
        self.langs = langs  # form languages holding English and Vietnamese messages

    def is_nonrel(self, node) -> bool:
        return id(node.parent if isinstance(node, Attr) else node) in self.nonrel

    def ipath(self, node) -> str:
        """Indexed path: repeat instances always carry their position (`member[1]`).

        The paths of parents are remembered for the run: the calculates of a repeat
        instance (and the issues under one group) share theirs.
        """
        if isinstance(node, Attr):
            return f"{self.ipath(node.parent)}/@{node.name}"
        position = self.pos.get(id(node))
        part = f"{node.name}[{position}]" if position else node.name
        parent = node.parent
        if parent is None:
            return "/" + part
        prefix = self.paths.get(id(parent))
        if prefix is None:
            prefix = self.paths[id(parent)] = self.ipath(parent)
        return f"{prefix}/{part}"

    def issue(self, node, code: str, key: str, *, value=None, custom: Text | None = None, **params):
        """Record an issue at `node`; `custom` is the form author's message, if any."""
        en, vi = issue_message(key, value=value, **params)
        if custom:
            english, vietnamese = self.langs
            en, vi = custom.get(english) or en, custom.get(vietnamese) or vi
        self.issues.append(Issue(self.ipath(node), code, en, vi, ISSUE_SEVERITY[code], value))

    def rule(self, expr: Expr, node) -> bool | None:
        """Evaluate a boolean rule; an error is reported and gives None (no verdict)."""
        try:
            return expr.as_boolean(node, Context(self.env, node) if expr.own_context else self.ctx)
        except XPathError as exc:
            self.issue(node, "expression_error", "expression_error", detail=exc.message)
            return None


# -- answers -------------------------------------------------------------------------


def check_answer(plan: Plan, node, run: Run) -> None:
    """Required, then datatype, then choices, then the constraint: the first failure counts."""
    value = node.text
    stripped = value.strip()
    if not stripped:
        if plan.required_const or (plan.required is not None and run.rule(plan.required, node)):
            run.issue(node, "required", "required", custom=plan.field.required_message)
        return
    valid_type = plan.valid_type
    if valid_type is not None and not valid_type(stripped):
        run.issue(node, "type", check_type(plan.datatype, stripped), value=value)
        return
    if plan.selectable and _check_choice(plan, node, stripped, run):
        return
    constraint = plan.constraint
    if constraint is not None and run.rule(constraint, node) is False:
        custom, rule = plan.field.constraint_message, constraint.source.strip()
        run.issue(node, "constraint", "constraint", value=value, custom=custom, rule=rule)


def _check_choice(plan: Plan, node, value: str, run: Run) -> bool:
    """Report a value that is not an option (after any choice filter); True if reported."""
    if plan.choice_filter is None and plan.choices is not None and value in plan.choices:
        return False  # the common case: one option from a fixed list
    selected = value.split()
    if not plan.multiple and len(selected) > 1:
        run.issue(node, "choice", "choice_single", value=value)
        return True
    if plan.choices is not None:
        missing = [v for v in selected if v not in plan.choices]
        if missing:
            run.issue(node, "choice", "choice", value=" ".join(missing))
            return True
    if plan.choice_filter is None:
        return False
    try:
        items = plan.choice_filter.evaluate(node, run.env)
    except XPathError as exc:
        run.issue(node, "expression_error", "expression_error", detail=exc.message)
        return True
    offered = {_item_value(item, plan.value_ref) for item in items}
    missing = [v for v in selected if v not in offered]
    if missing:
        key = "choice" if plan.choices is None else "choice_filtered"
        run.issue(node, "choice", key, value=" ".join(missing))
        return True
    return False


def _item_value(item, value_ref: str) -> str:
    """The value of an itemset node: its `value_ref` child (or attribute)."""
    if isinstance(item, Node):
        child = item.child(value_ref)
        return (child.text if child is not None else item.attrs.get(value_ref, "")).strip()
    return str(item).strip()


def check_count(plan: Plan, run: Run) -> None:
    """jr:count against the number of instances, under each relevant parent."""
    for parent in run.instances[plan.parent.path]:
        if run.is_nonrel(parent):
            continue
        # Where an instance would be, so relative paths resolve.
        probe = Node.detached(plan.name, parent)
        if plan.relevant is not None and not run.rule(plan.relevant, probe):
            continue
        try:
            expected = plan.repeat_count.eval_number(probe, run.env)
        except XPathError as exc:
            run.issue(probe, "expression_error", "expression_error", detail=exc.message)
            continue
        if not math.isfinite(expected):
            continue  # the count question is blank: its own `required` reports it
        actual = sum(1 for c in parent.children if c.name == plan.name)
        if int(expected) != actual:
            run.issue(probe, "repeat_count", "repeat_count", expected=int(expected), actual=actual)


# -- datatypes -----------------------------------------------------------------------

_INT = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_DATE = re.compile(r"(-?[0-9]{4,})-([0-9]{2})-([0-9]{2})")
_TIME = re.compile(
    r"([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.[0-9]+)?)?"  # hours, minutes, seconds, fraction
    r"(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"  # time zone
)
INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # JavaRosa stores int answers as Java ints


def check_type(datatype: str, value: str) -> str | None:
    """The message key (`type_int`, ...) when `value` is not of `datatype`, else None."""
    check = _CHECKS.get(datatype)
    if check is None or check(value):
        return None
    return "type_geotrace" if datatype == "geoshape" else f"type_{datatype}"


def has_checks(plan: Plan) -> bool:
    """Whether an answer to `plan` can be wrong: required, constrained, typed or a select.

    Also gives the plan its datatype check (`plan.valid_type`), used by `check_answer`.
    """
    plan.valid_type = _CHECKS.get(plan.datatype)
    return bool(
        plan.required_const
        or plan.required is not None
        or plan.constraint is not None
        or plan.datatype in _CHECKS
        or plan.selectable
    )


def _is_int(value: str) -> bool:
    return bool(_INT.fullmatch(value)) and INT_MIN <= int(value) <= INT_MAX


def _is_date(value: str) -> bool:
    m = _DATE.fullmatch(value)
    if not m:
        return False
    try:
        date(max(int(m[1]), 1), int(m[2]), int(m[3]))
    except ValueError:
        return False
    return True


def _is_time(value: str) -> bool:
    m = _TIME.fullmatch(value)
    if not m:
        return False
    try:
        time(int(m[1]), int(m[2]), int(m[3] or 0))
    except ValueError:
        return False
    offset = m[4]
    return not offset or offset == "Z" or int(offset[1:3]) <= 14


def _is_datetime(value: str) -> bool:
    day, sep, clock = value.partition("T")
    return bool(sep) and _is_date(day) and _is_time(clock)


def _is_point(value: str) -> bool:
    """ODK geopoint: 'latitude longitude [altitude [accuracy]]'."""
    parts = value.split()
    if not 2 <= len(parts) <= 4:
        return False
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return False
    lat, lon = numbers[0], numbers[1]
    return all(math.isfinite(n) for n in numbers) and -90 <= lat <= 90 and -180 <= lon <= 180


def _points(minimum: int) -> Callable[[str], bool]:
    """Geotrace/geoshape: at least `minimum` geopoints separated by ';'."""

    def check(value: str) -> bool:
        points = [p for p in value.split(";") if p.strip()]
        return len(points) >= minimum and all(_is_point(p) for p in points)

    return check


_CHECKS: dict[str, Callable[[str], bool]] = {
    "int": _is_int,
    "decimal": lambda v: bool(_DECIMAL.fullmatch(v)),
    "date": _is_date,
    "time": _is_time,
    "dateTime": _is_datetime,
    "geopoint": _is_point,
    "geotrace": _points(2),
    "geoshape": _points(3),
    "boolean": lambda v: v in ("true", "false", "1", "0"),
}


# -- entities ------------------------------------------------------------------------


def check_entities(form: FormModel, run: Run) -> None:
    """The `meta/entity` blocks: present, for the right dataset, with a UUID and versions."""
    for decl in form.entities:
        for node in run.instances.get(decl.path, ()):
            if id(node) in run.virtual:
                details = [render(N_("the meta/entity element is missing"), {})]
            else:
                details = _entity_details(decl.dataset, node.attrs)
            for detail_en, detail_vi in details:
                en = issue_message("entity_invalid", detail=detail_en)[0]
                vi = issue_message("entity_invalid", detail=detail_vi)[1]
                run.issues.append(Issue(run.ipath(node), "entity_invalid", en, vi, "error"))


def _entity_details(dataset: str, attrs: dict[str, str]) -> list[tuple[str, str]]:
    """What is wrong with an entity block, each detail as (English, Vietnamese)."""
    details = []
    given = attrs.get("dataset", "")
    if given and dataset and given != dataset:
        details.append(render(N_("dataset is '%(given)s' but the form saves to '%(dataset)s'"),
                              {"given": given, "dataset": dataset}))  # fmt: skip
    creates = attrs.get("create", "").strip().lower() in ("1", "true")
    updates = attrs.get("update", "").strip().lower() in ("1", "true")
    raw_id = attrs.get("id", "").strip()
    entity_id = raw_id[5:] if raw_id.startswith("uuid:") else raw_id
    if (creates or updates) and not _is_uuid(entity_id):
        details.append(render(N_("the entity id '%(id)s' is not a UUID"), {"id": raw_id}))
    for name in ("baseVersion", "trunkVersion"):
        value = attrs.get(name, "").strip()
        required = updates and name == "baseVersion"
        if (value or required) and not value.isdigit():
            details.append(render(N_("%(name)s '%(value)s' is not a whole number"),
                                  {"name": name, "value": value}))  # fmt: skip
    return details


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# -- messages --------------------------------------------------------------------------


def message_languages(form: FormModel, lang: str | None) -> tuple[str | None, str | None]:
    """The form languages holding English and Vietnamese texts.

    A language counts as English when named `en`, `English ...` or `... (en)`,
    likewise for Vietnamese (`vi`, `Vietnamese`, `Tiếng Việt`). Without one,
    `lang` (else the form's default language) stands in.
    """

    def find(*keys: str) -> str | None:
        for language in form.languages:
            low = language.lower()
            if any(low == k or low.startswith(k + " ") or low.endswith(f"({k})") for k in keys):
                return language
        return None

    fallback = lang or form.default_language
    english = find("en", "english")
    vietnamese = find("vi", "vietnamese", "tiếng việt")
    return english or fallback, vietnamese or fallback
