"""Real forms load: pyxform's own example XLSForms and the benchmark household visit."""

import pytest

from forms.load import load_form
from forms.xform import parse_xform
from forms.xlsform import XLSFORM_EXTENSIONS
from tests.shared import BENCH_KIT as BENCH
from tests.shared import CORPUS, corpus_forms, require

FORMS = corpus_forms(XLSFORM_EXTENSIONS)


@pytest.fixture(scope="module", autouse=True)
def _corpus_is_there() -> None:
    require(CORPUS, "The XLSForm corpus")


def test_the_corpus_is_there():
    assert len(FORMS) >= 10


@pytest.mark.parametrize("path", FORMS, ids=lambda p: p.name)
def test_every_corpus_form_loads(path):
    model = load_form(path)
    assert model.form_id
    assert model.questions()
    assert model.xform.startswith(b"<?xml")
    # Everything parsed: the model read back from its own XForm has the same fields.
    assert list(parse_xform(model.xform).model.fields) == list(model.fields)


def test_multi_language_corpus_form_reads_each_language():
    model = load_form(CORPUS / "field-list.xlsx")
    assert model.default_language == "default"
    assert {"english", "chinese"} <= set(model.languages)


def test_household_visit_loads_the_same_from_xform_and_xlsform():
    require(BENCH, "The ODK Central load kit")
    from_xml = load_form(BENCH / "household_visit.xml")
    from_xlsx = load_form(BENCH / "household_visit.xlsx")
    assert from_xml.form_id == from_xlsx.form_id == "household_visit"
    assert list(from_xml.fields) == list(from_xlsx.fields)
    member = from_xml.field("/data/member")
    assert member.kind == "repeat"
    assert member.repeat_count.source.strip() == "/data/hh_size"
    assert from_xml.field("/data/visit/region").choices.items[0].name == "north"
    assert from_xml.instance_name is not None
