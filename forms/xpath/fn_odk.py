"""ODK control, select and checklist functions: if, coalesce, once, regex, selected, choice names...

Behaviour follows getodk/javarosa XPathFuncExpr unless the ODK XForms spec
says otherwise; the two places where it does are noted on the function.
"""

from __future__ import annotations

import re
import secrets
import string
import uuid as uuid_module
from functools import lru_cache

from forms.i18n import N_
from forms.xpath import ast
from forms.xpath.analysis import select_path
from forms.xpath.coerce import as_bool, as_str
from forms.xpath.errors import XPathEvalError, XPathSyntaxError, eval_error
from forms.xpath.nodes import string_value
from forms.xpath.registry import builder, function
from forms.xpath.values import to_boolean, to_number, to_string


@builder("if")
def build_if(call, args):
    """Evaluate only the branch taken; the result keeps its type (JavaRosa ifThenElse)."""
    test = as_bool(args[0])
    (then_fn, then_kind), (else_fn, else_kind) = args[1], args[2]
    kind = then_kind if then_kind == else_kind else "any"

    def choose(n, c):
        return then_fn(n, c) if test(n, c) else else_fn(n, c)

    # Lets a conversion of the result (`as_str`...) convert each branch instead, once.
    choose.branches = (test, args[1], args[2])
    return choose, kind


@builder("coalesce")
def build_coalesce(call, args):
    """The first argument whose text is not empty (JavaRosa also skips NaN), else the last."""
    fns = [as_str(a) for a in args]

    def run(n, c):
        text = ""
        for fn in fns:
            text = fn(n, c)
            if text not in ("", "NaN"):
                return text
        return text

    return run, "str"


@function("once")
def fn_once(n, c, value):
    """The current node's value if it has one, else `value` (ODK XForms spec)."""
    existing = string_value(c.current)
    return existing if existing != "" else value


@lru_cache(maxsize=512)
def _pattern(text: str) -> re.Pattern:
    try:
        # ASCII classes: \d and \w mean [0-9] and [A-Za-z0-9_] in Java and JavaScript too.
        return re.compile(text, re.ASCII)
    except re.error as exc:
        raise eval_error(
            N_("Invalid regular expression '%(pattern)s': %(error)s"), pattern=text, error=exc
        ) from None


def literal_regex_errors(tree: ast.Expression) -> list[XPathEvalError]:
    """Errors of the literal patterns passed to regex(): found when a form loads, not per answer."""
    errors = []
    for node in ast.walk(tree):
        if node_is_literal_regex(node):
            try:
                _pattern(node.args[1].value)
            except XPathEvalError as exc:
                errors.append(exc)
    return errors


def node_is_literal_regex(node: ast.Expression) -> bool:
    return (
        isinstance(node, ast.Call)
        and node.name == "regex"
        and len(node.args) == 2
        and isinstance(node.args[1], ast.Literal)
    )


@builder("regex")
def build_regex(call, args):
    """regex(value, pattern): true when the pattern matches anywhere in the value.

    The spec defines it as a JavaScript RegExp test (what Enketo and Web Forms
    do); JavaRosa requires the whole value to match. Anchored patterns
    (`^...$`), which XLSForm constraints use, behave the same either way.
    """
    value = as_str(args[0])
    if isinstance(call.args[1], ast.Literal):
        try:
            search = _pattern(call.args[1].value).search
        except XPathEvalError:
            pass  # reported when evaluated, like any other evaluation error
        else:
            return (lambda n, c: search(value(n, c)) is not None), "bool"
    pattern = as_str(args[1])
    return (lambda n, c: _pattern(pattern(n, c)).search(value(n, c)) is not None), "bool"


def _items(value) -> list[str]:
    """The values of a select_multiple answer: space-separated, empty pieces dropped."""
    return [part for part in to_string(value).split(" ") if part]


def fn_selected(n, c, answer, choice):
    """JavaRosa multiSelected: (" " + list + " ") contains (" " + trim(choice) + " ")."""
    return f" {to_string(choice).strip()} " in f" {to_string(answer)} "


@builder("selected")
def build_selected(call, args):
    """`fn_selected`, with both arguments read as text directly and a literal choice padded
    once: `selected(${indicators}, 'water')` is the commonest call of a checklist form."""
    answer, choice = as_str(args[0]), as_str(args[1])
    if hasattr(choice, "value"):  # a literal (see `coerce.constant`)
        needle = f" {choice.value.strip()} "
        return (lambda n, c: needle in f" {answer(n, c)} "), "bool"

    def selected(n, c):
        text = answer(n, c)
        return f" {choice(n, c).strip()} " in f" {text} "

    return selected, "bool"


@function("selected-at", params="sn")
def fn_selected_at(n, c, answer, index):
    items = _items(answer)
    k = to_number(index, c.tz)
    k = int(k) if k == k and abs(k) < 2**31 else 0
    return items[k] if 0 <= k < len(items) else ""


@function("count-selected", params="s")
def fn_count_selected(n, c, answer):
    return float(len(_items(answer)))


def _flags(values) -> list[bool]:
    """Checklist factors: each node of a node-set counts by its text, as JavaRosa unpacks nodes."""
    flags = []
    for v in values:
        if isinstance(v, list):
            flags.extend(string_value(x) != "" for x in v)
        else:
            flags.append(to_boolean(v))
    return flags


def _weights(values, tz) -> list[float]:
    out = []
    for v in values:
        if isinstance(v, list):
            out.extend(to_number(string_value(x), tz) for x in v)
        else:
            out.append(to_number(v, tz))
    return out


def _bound(value, tz) -> int:
    x = to_number(value, tz)
    return int(x) if x == x and abs(x) < 2**31 else 0


@function("checklist")
def fn_checklist(n, c, low, high, *factors):
    """True when the number of true factors is within [low, high]; -1 means no bound."""
    low, high = _bound(low, c.tz), _bound(high, c.tz)
    count = sum(_flags(factors))
    return (low < 0 or count >= low) and (high < 0 or count <= high)


@function("weighted-checklist")
def fn_weighted_checklist(n, c, low, high, *pairs):
    """Sum of the weights of true factors, within [low, high] (no -1 convention here)."""
    flags, weights = _flags(pairs[0::2]), _weights(pairs[1::2], c.tz)
    if len(flags) != len(weights):
        raise eval_error(N_("weighted-checklist() needs as many weights as values"))
    total = sum(w for f, w in zip(flags, weights, strict=True) if f)
    return to_number(low, c.tz) <= total <= to_number(high, c.tz)


@builder("jr:choice-name")
def build_choice_name(call, args):
    """The label of choice `value` of the select at `path`, from Env.choice_name."""
    value, path_text = as_str(args[0]), as_str(args[1])

    def run(n, c):
        lookup = c.env.choice_name
        if lookup is None:
            return ""
        text = path_text(n, c)
        try:
            path = select_path(text, _path_of(c.current))
        except XPathSyntaxError as exc:
            raise eval_error(
                N_("jr:choice-name() needs the path of a select question, not '%(path)s'"),
                path=text,
            ) from exc
        return lookup(value(n, c), path)

    return run, "str"


def _path_of(node) -> str:
    return node.path() if hasattr(node, "path") else "/"


_GUID_CHARS = string.ascii_letters + string.digits


@function("uuid")
def fn_uuid(n, c, length=None):
    """A version 4 UUID, or with a length a random GUID of that many letters and digits."""
    make = c.env.uuid
    if length is None:
        return make() if make is not None else str(uuid_module.uuid4())
    size = to_number(length, c.tz)
    size = int(size) if size == size and 0 < size < 10_000 else 0
    if make is not None:
        text = ""
        while len(text) < size:
            text += make().replace("-", "")
        return text[:size]
    return "".join(secrets.choice(_GUID_CHARS) for _ in range(size))
