"""Parsing: XPath 1.0 lexical rules, the trees they give, canonical printing, syntax errors."""

from __future__ import annotations

import pytest

from forms.xpath import XPathSyntaxError, parse
from forms.xpath import ast as x


def path(*steps, absolute=False, base=None):
    return x.Path(tuple(steps), absolute=absolute, base=base)


def child(name, *preds):
    return x.Step("child", name, tuple(preds))


# --- the lexical disambiguation of XPath 1.0 section 3.7 ---


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("/data/div", path(child("data"), child("div"), absolute=True)),
        ("a div b", x.Binary("div", path(child("a")), path(child("b")))),
        ("div div div", x.Binary("div", path(child("div")), path(child("div")))),
        ("/data/*", path(child("data"), child("*"), absolute=True)),
        ("2 * 3", x.Binary("*", x.Number(2.0), x.Number(3.0))),
        ("* * *", x.Binary("*", path(child("*")), path(child("*")))),
        ("and and or", x.Binary("and", path(child("and")), path(child("or")))),
        ("a-b", path(child("a-b"))),
        ("a - b", x.Binary("-", path(child("a")), path(child("b")))),
        ("count (/a)", x.Call("count", (path(child("a"), absolute=True),))),
        ("jr:choice-name(.,'/q')", x.Call("jr:choice-name", (path(x.SELF), x.Literal("/q")))),
        ("orx:meta/orx:*", path(child("orx:meta"), child("orx:*"))),
        ("a//b", path(child("a"), x.DESCENDANT_OR_SELF, child("b"))),
        ("//b", path(x.DESCENDANT_OR_SELF, child("b"), absolute=True)),
        ("/", path(absolute=True)),
        ("../@id", path(x.PARENT, x.Step("attribute", "id"))),
        ("text()", path(x.Step("child", "text()"))),
        ("instance('p')/root", path(child("root"), base=x.Call("instance", (x.Literal("p"),)))),
        ("current()/..", path(x.PARENT, base=x.Call("current"))),
        ("(a)[1]", x.Filter(path(child("a")), (x.Number(1.0),))),
        ("-a", x.Neg(path(child("a")))),
        ("-a | b", x.Neg(x.Binary("|", path(child("a")), path(child("b"))))),
        ("1.", x.Number(1.0)),
        (".5", x.Number(0.5)),
        ('"it\'s"', x.Literal("it's")),
    ],
)
def test_tokens_are_read_as_xpath_1_0_says(source, tree):
    assert parse(source).ast == tree


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("child::a/attribute::b", "a/@b"),
        ("self::node()", "."),
        ("parent::node()/x", "../x"),
        ("/descendant-or-self::node()/x", "//x"),
        (" /data/a ", "/data/a"),
        ("(((1)))", "1"),
        ("concat( /data/b , '!' )", "concat(/data/b,'!')"),
        ("1 = 1.0", "1 = 1"),
    ],
)
def test_spellings_of_one_expression_give_equal_trees(one, other):
    assert parse(one) == parse(other)
    assert hash(parse(one)) == hash(parse(other))


def test_different_expressions_are_not_equal():
    assert parse("/data/a + 1") != parse("/data/a + 2")
    assert parse("a - b - c") != parse("a - (b - c)")


# --- canonical printing ---


@pytest.mark.parametrize(
    ("source", "canonical"),
    [
        ("1+2*3", "1 + 2 * 3"),
        ("(1+2)*3", "(1 + 2) * 3"),
        ("1-(2-3)", "1 - (2 - 3)"),
        ("(1-2)-3", "1 - 2 - 3"),
        ("-(1+2)", "-(1 + 2)"),
        ("--1", "--1"),
        ("a - -b", "a - -b"),
        ("a|b|c", "a | b | c"),
        ("(a|b)[1]", "(a | b)[1]"),
        ("(a|b)/c", "(a | b)/c"),
        ("(a/b)/c", "(a/b)/c"),
        ("//a", "//a"),
        ("a//b", "a//b"),
        ("descendant-or-self::node()/a", "descendant-or-self::node()/a"),
        ("//descendant-or-self::node()/a", "//descendant-or-self::node()/a"),
        ("child::a", "a"),
        ("self::node()[1]", "self::node()[1]"),
        ("attribute::x", "@x"),
        ("ancestor::g/x", "ancestor::g/x"),
        (" /data/a ", "/data/a"),
        ("if(a,'b',\"c\")", "if(a, 'b', 'c')"),
        ('"it\'s"', '"it\'s"'),
        ("1.50", "1.5"),
        ("0.0000001", "0.0000001"),
        ("007", "7"),
        ("a = b = c", "a = b = c"),
        ("a = (b = c)", "a = (b = c)"),
        ("a or b and c", "a or b and c"),
        ("(a or b) and c", "(a or b) and c"),
        ("/", "/"),
        (
            "instance('x')/root/item[name=current()/../p]/label",
            "instance('x')/root/item[name = current()/../p]/label",
        ),
        ("not(selected( /data/skip , 'yes'))", "not(selected(/data/skip, 'yes'))"),
    ],
)
def test_unparse_gives_the_canonical_text(source, canonical):
    expr = parse(source)
    assert expr.unparse() == canonical
    assert parse(canonical) == expr


# --- syntax errors: where, and what to do about it ---


@pytest.mark.parametrize(
    ("source", "position", "fragment"),
    [
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("1 +", 3, "ends too early"),
        ("/data/a = ", 10, "ends too early"),
        ("-", 1, "ends too early"),
        ("concat('a', 'b'", 15, "Missing ')' to close 'concat('"),
        ("(1 + 2", 6, "Missing ')' to close '('"),
        ("/data/a[1", 9, "Missing ']'"),
        ("f(1 2)", 4, "',' or ')' to close 'f('"),
        ("'abc", 0, "never closed"),
        ("1 # 2", 2, "Unexpected character '#'"),
        ("/data/a b", 8, "Unexpected 'b': expected an operator"),
        ("${name} = 1", 1, "${...}"),
        ("$x", 0, "Variables"),
        ("round(1, 2, 3)", 0, "round() takes 1 to 2 arguments, not 3"),
        ("if(1, 2)", 0, "if() takes 3 arguments, not 2"),
        ("a and true(1)", 6, "true() takes 0 arguments"),
        ("indexed-repeat(/a, /b)", 0, "at least 3"),
        ("weighted-checklist(1, 2, 3)", 0, "even"),
        ("foo::bar", 0, "Unknown or unsupported axis 'foo::'"),
        ("namespace::x", 0, "axis"),
        ("a[]", 1, "Empty condition"),
        ("()", 0, "Empty parentheses"),
        (".[1]", 1, "cannot have a [condition]"),
        ("1 + * 2", 6, "Unexpected number 2"),
        ("/data/a == 1", 9, "Unexpected '='"),
        ("comment()", 0, "comment() nodes"),
        ("1.2.3", 3, "Unexpected number .3"),
        ("a div", 5, "ends too early"),
        ("a/", 2, "ends too early"),
        ("@", 1, "ends too early"),
        ("a[1]]", 4, "Unexpected ']'"),
        (",", 0, "Unexpected ','"),
        ("1" + "0" * 400, 0, "too large"),
    ],
)
def test_syntax_errors_say_where_and_what(source, position, fragment):
    with pytest.raises(XPathSyntaxError) as caught:
        parse(source)
    error = caught.value
    assert error.position == position
    assert fragment in error.message
    assert error.message_vi and error.message_vi != error.message
    assert error.source == source
    assert error.pointer().splitlines()[-1] == " " * position + "^"
    assert f"character {position + 1}" in str(error)


def test_vietnamese_messages_have_their_diacritics():
    with pytest.raises(XPathSyntaxError) as caught:
        parse("(1 + 2")
    assert caught.value.message_vi == "Thiếu ')' để đóng '(' mở ở ký tự 1"


def test_deep_nesting_is_a_syntax_error_not_a_crash():
    with pytest.raises(XPathSyntaxError) as caught:
        parse("(" * 5000 + "1" + ")" * 5000)
    assert "nested too deeply" in caught.value.message


def test_unknown_functions_parse_and_are_reported_by_functions():
    expr = parse("my-func(1) + jr:itext('x')")
    assert expr.functions() == {"my-func", "jr:itext"}
