"""Properties over generated expressions s: printing is faithful (parse(unparse(parse(s)))
equals parse(s), and unparse is a fixed point after one round), and evaluation fails only with
XPathEvalError."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from forms.xpath import XPathEvalError, parse
from forms.xpath.signatures import SIGNATURES
from tests.unit.forms.xpath.xpath_cases import CHOICE_LABELS, DATA, SECONDARY
from tests.unit.forms.xpath.xpath_helpers import find, make_env, tree

# Names that exercise the lexer: operator names and node types used as element names,
# hyphens and dots inside names, prefixes, Vietnamese letters.
NAMES = st.sampled_from(
    [
        "a",
        "b",
        "data",
        "div",
        "and",
        "or",
        "mod",
        "node",
        "text",
        "a-b",
        "x.y",
        "_z",
        "orx:meta",
        "hộ",
        "q1",
    ]
)
SPACE = st.sampled_from(["", " ", "  "])
LITERALS = st.text(alphabet="ab 'x\"/[]()Đ", max_size=6).map(
    lambda s: f"'{s}'" if "'" not in s else f'"{s.replace(chr(34), "")}"'
)
NUMBERS = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.decimals(min_value=0, max_value=1000, places=3, allow_nan=False).map(str),
    st.sampled_from(["1.", ".5", "0.000001", "007"]),
)
AXES = st.sampled_from(
    [
        "child::",
        "attribute::",
        "self::",
        "parent::",
        "ancestor::",
        "descendant-or-self::",
        "following-sibling::",
        "",
    ]
)


@st.composite
def steps(draw, expr):
    kind = draw(st.sampled_from(["name", "name", "dot", "dotdot", "attr", "star", "axis", "node"]))
    if kind == "dot":
        return "."
    if kind == "dotdot":
        return ".."
    if kind == "attr":
        return "@" + draw(st.one_of(NAMES, st.just("*")))
    if kind == "star":
        text = "*"
    elif kind == "axis":
        text = draw(AXES) + draw(st.one_of(NAMES, st.just("*"), st.just("node()")))
    elif kind == "node":
        text = draw(st.sampled_from(["node()", "text()"]))
    else:
        text = draw(NAMES)
    preds = draw(st.lists(expr, max_size=1))
    return text + "".join(f"[{p}]" for p in preds)


@st.composite
def paths(draw, expr):
    parts = draw(st.lists(steps(expr), min_size=1, max_size=2))
    seps = [draw(st.sampled_from(["/", "//"])) for _ in parts[1:]]
    body = parts[0] + "".join(sep + part for sep, part in zip(seps, parts[1:], strict=True))
    start = draw(st.sampled_from(["", "/", "//", "instance('x')/", "current()/", "(a | b)/"]))
    return start + body


@st.composite
def calls(draw, expr):
    name = draw(st.sampled_from([*sorted(SIGNATURES), "my-fn", "jr:itext"]))
    sig = SIGNATURES.get(name)
    low = sig.min_args if sig else 0
    high = min(sig.max_args if sig and sig.max_args is not None else low + 2, low + 2)
    count = draw(st.integers(min_value=low, max_value=high))
    if sig and sig.parity == "odd" and count % 2 == 0:
        count += 1
    if sig and sig.parity == "even" and count % 2 == 1:
        count += 1
    args = draw(st.lists(expr, min_size=count, max_size=count))
    return f"{name}{draw(SPACE)}({', '.join(args)})"


def _binary_text(parts) -> str:
    left, op, right, space = parts
    if op == "|":  # union operands must be paths or filters: "a | -1" is not XPath
        left, right = f"({left})", f"({right})"
    return f"{left} {space}{op}{space} {right}"


def expressions():
    # A bare "/" before an operator name reads as a path ("/ or x" is "/or" then "x"), so the
    # generator writes it in parentheses, as the printer does.
    atoms = st.one_of(NUMBERS, LITERALS, NAMES, st.just("."), st.just(".."), st.just("(/)"))

    def extend(inner):
        binary = st.tuples(
            inner,
            st.sampled_from(
                ["or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod", "|"]
            ),
            inner,
            SPACE,
        ).map(_binary_text)
        return st.one_of(
            binary,
            inner.map(lambda e: f"-{e}"),
            inner.map(lambda e: f"({e})"),
            st.tuples(inner, inner).map(lambda t: f"({t[0]})[{t[1]}]"),
            paths(inner),
            calls(inner),
        )

    return st.recursive(atoms, extend, max_leaves=8)


@settings(max_examples=400, deadline=None)
@given(expressions())
def test_unparse_round_trips_and_is_a_fixed_point(source):
    first = parse(source)
    text = first.unparse()
    second = parse(text)
    assert second == first, f"{source!r} -> {text!r}"
    assert second.unparse() == text


ENV = make_env(tree(DATA["rep"]), {"x": tree(SECONDARY["prov"])}, CHOICE_LABELS)


@settings(max_examples=200, deadline=None)
@given(expressions())
def test_evaluating_any_expression_fails_only_with_xpath_eval_error(source):
    """A form's expression, however odd, never crashes the validator with a Python error."""
    expr = parse(source)
    node = find(ENV.root, "/data/members[2]/age")
    for evaluate in (expr.evaluate, expr.eval_string, expr.eval_number, expr.eval_boolean):
        try:
            evaluate(node, ENV)
        except XPathEvalError as exc:
            assert exc.message and exc.message_vi
