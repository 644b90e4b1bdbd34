"""references(), functions() and is_constant: what an expression reads, calls and depends on."""

from __future__ import annotations

import pytest

from forms.xpath import parse


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        ("/data/a = 'yes' and /data/b > 3", "/data/x", {"/data/a", "/data/b"}),
        (". >= 1 and . <= 20", "/data/g/q", {"/data/g/q"}),
        ("../age >= 16", "/data/members/name", {"/data/members/age"}),
        (" ../sex ='female' and  ../age >=15", "/data/m/q", {"/data/m/sex", "/data/m/age"}),
        ("../../hh", "/data/members/name", {"/data/hh"}),
        ("./../x", "/data/g/q", {"/data/g/x"}),
        ("/data/members[age > 18]/name", "/data", {"/data/members/name", "/data/members/age"}),
        ("/data/m[../hh = 3]/name", "/data", {"/data/m/name", "/data/hh"}),
        ("/data/rep[1]/x", "/data", {"/data/rep/x"}),
        ("/data/rep[position() = /data/i]/x", "/data", {"/data/rep/x", "/data/i"}),
        ("count(/data/members)", "/data/n", {"/data/members"}),
        ("instance('prov')/root/item[name = /data/p]/label", "/data/q", {"/data/p"}),
        (
            "instance('d')/root/item[prov = current()/../prov]/name",
            "/data/district",
            {"/data/prov"},
        ),
        ("instance('d')/root/item[prov = ../x]/name", "/data/q", set()),
        ("pulldata('d', 'label', 'name', /data/p)", "/data/q", {"/data/p"}),
        ("current()/../b", "/data/a", {"/data/b"}),
        ("current()", "/data/a", {"/data/a"}),
        ("/data/meta/entity/@id", "/data", {"/data/meta/entity/@id"}),
        ("../@id", "/data/meta/entity/label", {"/data/meta/entity/@id"}),
        ("/data/orx:meta/orx:instanceID", "/data", {"/data/meta/instanceID"}),
        ("/data/g/*", "/data", {"/data/g"}),
        ("count(/data/g/node())", "/data", {"/data/g"}),
        ("//name", "/data/x", {"/data"}),
        ("/data//name", "/data/x", {"/data"}),
        ("ancestor::g/x", "/data/g/q", {"/data"}),
        ("following-sibling::x", "/data/g/q", {"/data/g"}),
        ("indexed-repeat(/data/m/name, /data/m, 2)", "/data/x", {"/data/m/name", "/data/m"}),
        ("jr:choice-name(/data/q, '/data/q')", "/data/x", {"/data/q"}),
        ("(/data/a | /data/b)[1]", "/data/x", {"/data/a", "/data/b"}),
        ("(/data/a | /data/b)/c", "/data/x", {"/data/a/c", "/data/b/c"}),
        ("position(..)", "/data/m/x", {"/data/m"}),
        (
            "if(/data/a, /data/b, concat(/data/c, 'x'))",
            "/data/x",
            {"/data/a", "/data/b", "/data/c"},
        ),
        ("once(random())", "/data/x", set()),
        ("today()", "/data/x", set()),
        ("1 + 2", "/data/x", set()),
        ("/", "/data/x", set()),
    ],
)
def test_references_are_absolute_name_paths_in_the_primary_instance(source, context, expected):
    assert parse(source).references(context) == expected


def test_functions_lists_calls_with_their_prefix():
    expr = parse("concat(a, jr:choice-name(b, 'c'), foo(count(/x)))")
    assert expr.functions() == {"concat", "jr:choice-name", "foo", "count"}
    assert parse("1 + /data/a").functions() == set()


@pytest.mark.parametrize(
    "source",
    [
        "1 + 2",
        "concat('a', 'b')",
        "round(2.5)",
        "'x'",
        "string-length('abc')",
        "-(1 div 0)",
        "if(true(), 1, 2)",
    ],
)
def test_constant_expressions(source):
    assert parse(source).is_constant


@pytest.mark.parametrize(
    "source",
    [
        "today()",
        "now()",
        "random()",
        "uuid()",
        "/data/a",
        ".",
        "position()",
        "last()",
        "string()",
        "number()",
        "string-length()",
        "once('a')",
        "instance('x')/root",
        "current()",
        "concat('a', /data/b)",
        "randomize(instance('x')/root/item, 3)",
        "(/data/a)[1]",
    ],
)
def test_expressions_that_depend_on_data_clock_or_chance_are_not_constant(source):
    assert not parse(source).is_constant
