"""Every expression pyxform writes for the real XLSForms of the corpus parses, prints back to
an equal tree, calls only supported functions and references fields that exist."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree
from pyxform.xls2xform import convert

from forms.xpath import SUPPORTED_FUNCTIONS, parse
from tests.shared import CORPUS, corpus_forms, require

FORMS = corpus_forms((".xls", ".xlsx", ".md"))
BIND_ATTRIBUTES = {"relevant", "constraint", "calculate", "required", "readonly"}
# The entities sheet of this form gives the label as the bare word l1, which XPath reads as a
# path to a child field that does not exist: exactly what references() is for.
UNKNOWN_REFERENCES = {"case_insensitivity.xlsx": {"/data/meta/entity/label/l1"}}


def _local(name: str) -> str:
    return name.rpartition("}")[2]


def _instance_paths(element, prefix: str = "") -> set[str]:
    path = f"{prefix}/{_local(element.tag)}"
    found = {path} | {f"{path}/@{_local(a)}" for a in element.attrib}
    for child in element:
        found |= _instance_paths(child, path)
    return found


def _expressions(xform: str):
    """(context path, expression) for binds, setvalues and itemsets of an XForm."""
    root = ElementTree.fromstring(xform.encode("utf-8"))
    for element in root.iter():
        tag = _local(element.tag)
        attrs = {_local(k): v for k, v in element.attrib.items()}
        if tag == "bind":
            for name in BIND_ATTRIBUTES & attrs.keys():
                yield attrs["nodeset"], attrs[name]
        elif tag == "setvalue" and "value" in attrs:
            yield attrs["ref"], attrs["value"]
        elif tag == "itemset":
            yield "/" + _local(next(iter(_primary(root))).tag), attrs["nodeset"]


def _primary(root):
    model = next(e for e in root.iter() if _local(e.tag) == "model")
    return next(e for e in model if _local(e.tag) == "instance")


@pytest.fixture(scope="module", params=FORMS, ids=lambda p: p.name)
def form(request) -> tuple[str, str]:
    return request.param.name, convert(str(request.param), validate=False).xform


@pytest.fixture(scope="module", autouse=True)
def _corpus_is_there() -> None:
    require(CORPUS, "The XLSForm corpus")


def test_the_corpus_is_there():
    assert len(FORMS) >= 10


def test_corpus_expressions_parse_round_trip_and_reference_real_fields(form):
    name, xform = form
    root = ElementTree.fromstring(xform.encode("utf-8"))
    fields = _instance_paths(next(iter(_primary(root))))
    unknown: set[str] = set()
    checked = 0
    for context, source in _expressions(xform):
        expr = parse(source)
        assert parse(expr.unparse()) == expr, source
        assert expr.functions() <= SUPPORTED_FUNCTIONS, source
        unknown |= expr.references(context) - fields
        checked += 1
    assert checked > 0
    assert unknown == UNKNOWN_REFERENCES.get(name, set())
