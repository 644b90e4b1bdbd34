"""Which functions exist, how many arguments each takes, and what kind of value it returns.

Kept apart from the implementations so the parser can check arity without
importing the evaluator. The list follows the ODK XForms spec
(https://getodk.github.io/xforms-spec/#xpath-functions) plus the XPath 1.0
core functions that JavaRosa and Enketo also evaluate.
"""

from __future__ import annotations

from typing import NamedTuple

from forms.i18n import N_, render, vi


class Signature(NamedTuple):
    min_args: int
    max_args: int | None  # None: any number
    returns: str  # bool | num | str | nodes | any
    parity: str = ""  # "odd" / "even": indexed-repeat and weighted-checklist take pairs


_B, _N, _S, _NS, _A = "bool", "num", "str", "nodes", "any"

SIGNATURES: dict[str, Signature] = {
    # XPath 1.0 core
    "last": Signature(0, 0, _N),
    "position": Signature(0, 1, _N),
    "count": Signature(1, 1, _N),
    "local-name": Signature(0, 1, _S),
    "name": Signature(0, 1, _S),
    "string": Signature(0, 1, _S),
    "concat": Signature(0, None, _S),
    "starts-with": Signature(2, 2, _B),
    "contains": Signature(2, 2, _B),
    "substring-before": Signature(2, 2, _S),
    "substring-after": Signature(2, 2, _S),
    "substring": Signature(2, 3, _S),
    "string-length": Signature(0, 1, _N),
    "normalize-space": Signature(0, 1, _S),
    "translate": Signature(3, 3, _S),
    "boolean": Signature(1, 1, _B),
    "not": Signature(1, 1, _B),
    "true": Signature(0, 0, _B),
    "false": Signature(0, 0, _B),
    "number": Signature(0, 1, _N),
    "sum": Signature(1, 1, _N),
    "floor": Signature(1, 1, _N),
    "ceiling": Signature(1, 1, _N),
    "round": Signature(1, 2, _N),
    # ODK XForms: strings
    "join": Signature(1, None, _S),
    "substr": Signature(2, 3, _S),
    "ends-with": Signature(2, 2, _B),
    "uuid": Signature(0, 1, _S),
    "digest": Signature(2, 3, _S),
    "base64-decode": Signature(1, 1, _S),
    "pulldata": Signature(4, 4, _S),
    # booleans and control
    "if": Signature(3, 3, _A),
    "coalesce": Signature(2, None, _S),
    "once": Signature(1, 1, _A),
    "boolean-from-string": Signature(1, 1, _B),
    "regex": Signature(2, 2, _B),
    "checklist": Signature(2, None, _B),
    "weighted-checklist": Signature(2, None, _B, "even"),
    # numbers
    "random": Signature(0, 0, _N),
    "int": Signature(1, 1, _N),
    "max": Signature(1, None, _N),
    "min": Signature(1, None, _N),
    "pow": Signature(2, 2, _N),
    "log": Signature(1, 1, _N),
    "log10": Signature(1, 1, _N),
    "abs": Signature(1, 1, _N),
    "sin": Signature(1, 1, _N),
    "cos": Signature(1, 1, _N),
    "tan": Signature(1, 1, _N),
    "asin": Signature(1, 1, _N),
    "acos": Signature(1, 1, _N),
    "atan": Signature(1, 1, _N),
    "atan2": Signature(2, 2, _N),
    "sqrt": Signature(1, 1, _N),
    "exp": Signature(1, 1, _N),
    "exp10": Signature(1, 1, _N),
    "pi": Signature(0, 0, _N),
    # node-sets
    "count-non-empty": Signature(1, 1, _N),
    "instance": Signature(1, 1, _NS),
    "current": Signature(0, 0, _NS),
    "randomize": Signature(1, 2, _NS),
    "indexed-repeat": Signature(3, None, _NS, "odd"),
    # dates and times
    "today": Signature(0, 0, _S),
    "now": Signature(0, 0, _S),
    "date": Signature(1, 1, _S),
    "date-time": Signature(1, 1, _S),
    "decimal-date": Signature(1, 1, _N),
    "decimal-date-time": Signature(1, 1, _N),
    "decimal-time": Signature(1, 1, _N),
    "format-date": Signature(2, 2, _S),
    "format-date-time": Signature(2, 2, _S),
    # selects
    "selected": Signature(2, 2, _B),
    "selected-at": Signature(2, 2, _S),
    "count-selected": Signature(1, 1, _N),
    "jr:choice-name": Signature(2, 2, _S),
    # geography
    "distance": Signature(1, None, _N),
    "area": Signature(1, 1, _N),
}

SUPPORTED_FUNCTIONS: frozenset[str] = frozenset(SIGNATURES)

# Results change from one evaluation to the next even on the same data.
VOLATILE_FUNCTIONS = frozenset({"now", "today", "random", "uuid", "randomize"})
# Results depend on the evaluation context rather than on arguments alone.
CONTEXT_FUNCTIONS = frozenset({"current", "position", "last", "once", "instance", "pulldata"})
# With no argument these read the context node.
CONTEXT_WHEN_EMPTY = frozenset(
    {"string", "number", "string-length", "normalize-space", "name", "local-name"}
)


def arity_problem(name: str, count: int) -> tuple[str, str] | None:
    """English and Vietnamese text when `count` arguments do not fit `name`, else None."""
    sig = SIGNATURES.get(name)
    if sig is None:
        return None
    low, high = sig.min_args, sig.max_args
    fits = low <= count and (high is None or count <= high)
    if fits and sig.parity == "odd":
        fits = count % 2 == 1
    elif fits and sig.parity == "even":
        fits = count % 2 == 0
    if fits:
        return None
    # Only reached for a call that does not fit: translating here costs nothing at run time.
    if high is None:
        want_en, want_vi = render(N_("at least %(low)s"), {"low": low})
    elif low == high:
        want_en = want_vi = str(low)
    else:
        want_en, want_vi = render(N_("%(low)s to %(high)s"), {"low": low, "high": high})
    if sig.parity:
        parity = N_("(odd count)") if sig.parity == "odd" else N_("(even count)")
        want_en, want_vi = f"{want_en} {parity}", f"{want_vi} {vi(parity)}"
    return render(
        N_("Function %(name)s() takes %(wanted)s arguments, not %(count)s"),
        {"name": name, "count": count, "wanted": want_en, "wanted_vi": want_vi},
        ("wanted",),
    )
