"""Each corpus XLSForm: a generated submission survives read, validate, write, read unchanged.

The generator fills every field of the form model with a valid value of its
type (or one of its choices), including text that XML must escape and
Vietnamese in NFC, so the round trip exercises escaping as well as structure.
"""

from __future__ import annotations

import random
import uuid

import pytest

from forms.canonical import answers_hash
from forms.instance import from_answers, parse_submission, to_answers, to_xml
from forms.load import load_form
from forms.model import Field, FormModel
from forms.tree import Node
from forms.validation import compute, validate
from tests.shared import CORPUS, corpus_forms, require

FORMS = corpus_forms((".xls", ".xlsx", ".md"))

TEXTS = ["Nguyễn Thị Hoà", "Lò Văn Minh & con <trai>", "H'Nghia Êban", 'Bản "Phố" 2']


def value_for(f: Field, rnd: random.Random) -> str:
    """A valid value for a question of datatype `f.datatype` (or one of its choices)."""
    if f.choices is not None and f.choices.items:
        names = [c.name for c in f.choices.items]
        if f.datatype in ("select_multiple", "rank"):
            return " ".join(rnd.sample(names, min(len(names), 2)))
        return rnd.choice(names)
    return {
        "int": str(rnd.randint(1, 9)),
        "decimal": f"{rnd.uniform(0, 100):.2f}",
        "date": "2025-09-17",
        "time": "10:30:00.000+07:00",
        "dateTime": "2025-09-17T10:30:00.000+07:00",
        "geopoint": "21.0285 105.8542 12.0 5.0",
        "geotrace": "21.0285 105.8542 0 0;21.0300 105.8600 0 0",
        "geoshape": "21.0 105.8 0 0;21.1 105.8 0 0;21.1 105.9 0 0;21.0 105.8 0 0",
        "boolean": "true",
        "binary": "photo-1.jpg",
        "barcode": "8934563138165",
    }.get(f.datatype, rnd.choice(TEXTS))


def fill(f: Field, node: Node, rnd: random.Random) -> None:
    """Fill `node` (the element of group or repeat `f`) as a client would."""
    for child in f.children:
        if child.kind == "attribute" and child.name == "id" and node.name == "entity":
            node.attrs["id"] = str(uuid.UUID(int=rnd.getrandbits(128), version=4))  # as uuid()
        elif child.kind == "attribute":
            node.attrs[child.name] = child.default or ""
        elif child.kind == "repeat":
            for _ in range(rnd.randint(1, 3)):
                fill(child, node.append(Node(child.name)), rnd)
        elif child.kind == "group":
            fill(child, node.append(Node(child.name)), rnd)
        elif child.path.endswith("/meta/instanceID"):
            node.append(Node(child.name, f"uuid:{uuid.UUID(int=rnd.getrandbits(128), version=4)}"))
        elif child.kind == "calculate" or child.readonly is not None:
            node.append(Node(child.name))  # calculates and notes: computed or empty
        else:
            node.append(Node(child.name, value_for(child, rnd)))


def generate(form: FormModel, seed: int = 1) -> Node:
    root = Node(form.root_name, attrs=dict(form.template.attrs))
    fill(form.root, root, random.Random(seed))
    return root


def shape(node: Node):
    return (node.name, node.text, sorted(node.attrs.items()), [shape(c) for c in node.children])


@pytest.fixture(scope="module", params=FORMS, ids=lambda p: p.name)
def form(request) -> FormModel:
    return load_form(request.param.read_bytes(), request.param.name)


@pytest.fixture(scope="module", autouse=True)
def _corpus_is_there() -> None:
    require(CORPUS, "The XLSForm corpus")


def test_corpus_is_present():
    assert len(FORMS) >= 14


def test_generated_submission_round_trips_unchanged(form):
    xml = to_xml(generate(form))
    first = parse_submission(xml)
    assert first.form_id == form.form_id
    before = shape(first.root)
    result = validate(form, first.root)
    assert shape(first.root) == before, "validate must leave the tree as it was given"
    kinds = {i.code for i in result.issues}
    assert not kinds & {"type", "choice", "unknown_field", "calculation_error", "entity_invalid"}
    written = to_xml(first)
    assert written == xml
    assert shape(parse_submission(written).root) == before


def test_generated_submission_round_trips_through_json(form):
    root = parse_submission(to_xml(generate(form, seed=2))).root
    again = from_answers(to_answers(root, form), form)
    assert shape(again) == shape(root)
    assert answers_hash(again) == answers_hash(root)


def test_compute_fills_calculates_without_touching_answers(form):
    root = parse_submission(to_xml(generate(form, seed=3))).root
    computed = compute(form, root)
    result = validate(form, root)
    for path, value in result.computed.items():
        assert isinstance(value, str), path
    answers = {f.path for f in form.questions() if f.kind == "question"}
    for original, new in zip(root.iter(), computed.iter(), strict=False):
        if original.path() in answers:
            assert original.text == new.text
