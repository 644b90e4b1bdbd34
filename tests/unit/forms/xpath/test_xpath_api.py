"""The public API others code against: parse/Expr/Env, typed evaluation, conversions, caching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forms.tree import Attr, Node
from forms.xpath import (
    SUPPORTED_FUNCTIONS,
    Env,
    Expr,
    XPathError,
    XPathEvalError,
    XPathSyntaxError,
    parse,
    to_boolean,
    to_number,
    to_string,
)
from forms.xpath.dates import VN_TZ
from forms.xpath.registry import IMPLEMENTATIONS
from forms.xpath.signatures import SIGNATURES
from tests.unit.forms.xpath.xpath_helpers import find, make_env, tree

HOUSEHOLD = tree(
    "<data><a>5</a><b></b><members><age>30</age></members><members><age>8</age></members>"
    "<meta><entity id='uuid:1'/></meta></data>"
)


def test_every_supported_function_has_an_implementation_and_a_signature():
    assert set(IMPLEMENTATIONS) == set(SIGNATURES) == SUPPORTED_FUNCTIONS
    assert {"if", "jr:choice-name", "indexed-repeat", "format-date", "distance"} <= (
        SUPPORTED_FUNCTIONS
    )
    assert "lower-case" not in SUPPORTED_FUNCTIONS


def test_errors_share_one_base_class():
    assert issubclass(XPathSyntaxError, XPathError)
    assert issubclass(XPathEvalError, XPathError)


def test_evaluate_returns_typed_values_and_nodes_in_document_order():
    env = Env(root=HOUSEHOLD)
    assert parse("/data/a > 3").evaluate(HOUSEHOLD, env) is True
    assert parse("/data/a * 2").evaluate(HOUSEHOLD, env) == 10.0
    assert parse("concat(/data/a, 'x')").evaluate(HOUSEHOLD, env) == "5x"
    nodes = parse("/data/members/age | /data/a").evaluate(HOUSEHOLD, env)
    assert [n.text for n in nodes] == ["5", "30", "8"]
    assert all(isinstance(n, Node) for n in nodes)
    attr = parse("/data/meta/entity/@id").evaluate(HOUSEHOLD, env)
    assert attr == [Attr(HOUSEHOLD.find("meta/entity"), "id")]


def test_eval_helpers_convert_with_xpath_rules():
    env = Env(root=HOUSEHOLD)
    assert parse("/data/a").eval_number(HOUSEHOLD, env) == 5.0
    assert parse("/data/a + 1").eval_string(HOUSEHOLD, env) == "6"
    assert parse("/data/b").eval_boolean(HOUSEHOLD, env) is True  # the node exists
    assert parse("string(/data/b)").eval_boolean(HOUSEHOLD, env) is False
    assert parse("/data/missing").eval_string(HOUSEHOLD, env) == ""
    assert parse("1 div 0").eval_string(HOUSEHOLD, env) == "Infinity"


def test_context_node_defaults_to_the_root_and_env_is_optional_for_constants():
    assert parse("name(.)").evaluate(None, Env(root=HOUSEHOLD)) == "data"
    assert parse("1 + 2").evaluate() == 3.0
    assert parse("round(2.5) = 3").eval_boolean() is True


def test_the_context_node_can_be_an_attribute():
    env = Env(root=HOUSEHOLD)
    attr = Attr(HOUSEHOLD.find("meta/entity"), "id")
    assert parse("concat(., '/', name(..))").evaluate(attr, env) == "uuid:1/entity"


def test_now_and_today_use_the_real_clock_in_vietnam_time_by_default():
    env = Env(root=HOUSEHOLD)
    before = datetime.now(VN_TZ)
    today = parse("today()").evaluate(HOUSEHOLD, env)
    now = parse("now()").evaluate(HOUSEHOLD, env)
    after = datetime.now(VN_TZ)
    assert today in {before.date().isoformat(), after.date().isoformat()}
    assert now.endswith("+07:00")
    moment = datetime.fromisoformat(now)
    assert before - timedelta(milliseconds=1) <= moment <= after


def test_fixed_clock_naive_times_are_local_and_tz_changes_the_offset():
    naive = Env(root=HOUSEHOLD, now=datetime(2024, 1, 2, 23, 30))
    assert parse("now()").evaluate(HOUSEHOLD, naive) == "2024-01-02T23:30:00.000+07:00"
    utc = Env(root=HOUSEHOLD, now=datetime(2024, 1, 2, 23, 30, tzinfo=VN_TZ), tz=UTC)
    assert parse("now()").evaluate(HOUSEHOLD, utc) == "2024-01-02T16:30:00.000+00:00"
    assert parse("today()").evaluate(HOUSEHOLD, utc) == "2024-01-02"


def test_uuid_without_a_generator_is_a_fresh_version_4_uuid():
    env = Env(root=HOUSEHOLD)
    first, second = (parse("uuid()").evaluate(HOUSEHOLD, env) for _ in range(2))
    assert first != second
    assert parse(f"regex('{first}', '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-4')").evaluate() is True
    guid = parse("uuid(12)").evaluate(HOUSEHOLD, env)
    assert len(guid) == 12 and guid.isalnum()


def test_choice_name_without_labels_is_empty():
    assert parse("jr:choice-name('1', '/data/a')").evaluate(HOUSEHOLD, Env(root=HOUSEHOLD)) == ""


def test_choice_name_resolves_relative_select_paths_from_the_current_node():
    asked = []
    env = Env(root=HOUSEHOLD, choice_name=lambda value, path: asked.append((value, path)) or "x")
    node = find(HOUSEHOLD, "/data/members[2]/age")
    assert parse("jr:choice-name(., ' ../age ')").evaluate(node, env) == "x"
    assert asked == [("8", "/data/members/age")]


def test_randomize_with_a_text_seed_is_reproducible():
    env = make_env(tree("<data/>"), {"l": tree("<root><i>1</i><i>2</i><i>3</i><i>4</i></root>")})
    expr = parse("join('', randomize(instance('l')/root/i, 'household-42'))")
    first = expr.evaluate(None, env)
    assert sorted(first) == list("1234")
    assert all(expr.evaluate(None, env) == first for _ in range(3))


def test_unknown_function_is_an_evaluation_error_naming_it():
    expr = parse("pulldatum('a')")
    assert expr.functions() == {"pulldatum"}
    with pytest.raises(XPathEvalError) as caught:
        expr.evaluate()
    assert "pulldatum()" in caught.value.message
    assert "pulldatum()" in caught.value.message_vi


def test_parse_caches_compiled_expressions_and_equality_is_structural():
    assert parse("/data/a + 1") is parse("/data/a + 1")
    assert parse("/data/a + 1") == parse(" /data/a  +  1 ")
    assert parse("1").source == "1" and repr(parse("1")) == "Expr('1')"
    assert isinstance(parse("1"), Expr)
    assert len({parse("1 + 1"), parse("1+1"), parse("2")}) == 2


def test_syntax_error_carries_source_and_pointer():
    with pytest.raises(XPathSyntaxError) as caught:
        parse("/data/a = ")
    assert caught.value.source == "/data/a = "
    assert caught.value.pointer() == "/data/a = \n          ^"


def test_conversion_helpers_follow_xpath_1_0_and_odk_dates():
    assert to_string(2.0) == "2" and to_string(True) == "true" and to_string([]) == ""
    assert to_string(float("nan")) == "NaN" and to_string(-0.0) == "0"
    assert to_number("2024-01-01") == 19723.0
    assert to_number(" 7 ") == 7.0 and to_number(False) == 0.0
    assert to_number([HOUSEHOLD.find("a")]) == 5.0
    assert to_boolean([]) is False and to_boolean([HOUSEHOLD.find("b")]) is True
    assert to_boolean(float("nan")) is False and to_boolean("false") is True


def test_predicate_positions_do_not_leak_into_later_evaluations():
    env = Env(root=HOUSEHOLD)
    inside = parse("/data/members[position() = 2]/age")
    outside = parse("position()")
    assert [n.text for n in inside.evaluate(HOUSEHOLD, env)] == ["8"]
    assert outside.evaluate(HOUSEHOLD, env) == 1.0
    with pytest.raises(XPathEvalError):
        parse("/data/members[foo()]").evaluate(HOUSEHOLD, env)
    assert outside.evaluate(find(HOUSEHOLD, "/data/members[2]"), env) == 2.0
