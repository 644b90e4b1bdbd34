"""The expression table (xpath_cases.CASES) evaluated by one parametrized test."""

from __future__ import annotations

import math

import pytest

from forms.xpath import XPathEvalError, parse
from forms.xpath.nodes import string_value
from tests.unit.forms.xpath.xpath_cases import (
    CASES,
    CHOICE_LABELS,
    DATA,
    SECONDARY,
    Approx,
    Nodes,
    Raises,
)
from tests.unit.forms.xpath.xpath_helpers import find, make_env, tree


@pytest.fixture(scope="module")
def envs():
    secondary = {name: tree(xml) for name, xml in SECONDARY.items()}
    return {key: make_env(tree(xml), secondary, CHOICE_LABELS) for key, xml in DATA.items()}


def test_the_table_is_large_and_covers_every_supported_function():
    from forms.xpath import SUPPORTED_FUNCTIONS

    assert len(CASES) >= 300
    called = set().union(*(parse(source).functions() for source, *_ in CASES))
    assert SUPPORTED_FUNCTIONS - called == set()


@pytest.mark.parametrize(("source", "data", "context", "expected"), CASES, ids=lambda v: str(v))
def test_expression(envs, source, data, context, expected):
    env = envs[data]
    node = find(env.root, context)
    expr = parse(source)
    if isinstance(expected, Raises):
        with pytest.raises(XPathEvalError) as caught:
            expr.evaluate(node, env)
        assert expected.fragment in caught.value.message
        assert caught.value.message_vi
        return
    result = expr.evaluate(node, env)
    if isinstance(expected, Nodes):
        assert isinstance(result, list)
        assert tuple(string_value(n) for n in result) == expected
    elif isinstance(expected, Approx):
        assert isinstance(result, float)
        assert result == pytest.approx(expected.value, rel=expected.rel, abs=1e-12)
    elif isinstance(expected, bool):
        assert result is expected
    elif isinstance(expected, float):
        assert isinstance(result, float), f"{result!r} is not a number"
        if math.isnan(expected):
            assert math.isnan(result)
        else:
            assert result == expected
    else:
        assert isinstance(result, str), f"{result!r} is not a string"
        assert result == expected
