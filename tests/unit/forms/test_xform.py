"""Reading XForms (uploaded as is, or from pyxform) into the form model, safely."""

import pytest

from forms.errors import FormError
from forms.load import load_form
from forms.xform import parse_xform, read_xform, safe_xml

# Written by hand the way other tools write XForms: an orx-namespaced meta, inline
# items, relative refs inside a repeat, plain and itext labels, model-level actions.
VISIT = """<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml"
    xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"
    xmlns:odk="http://www.opendatakit.org/xforms">
 <h:head>
  <h:title>Thăm hộ</h:title>
  <model>
   <submission action="https://example.org/submission" method="post"/>
   <itext>
    <translation lang="English (en)">
     <text id="head:label"><value>Head of <output value=" /v/village "/></value>
      <value form="image">jr://images/head.png</value></text>
     <text id="head:required"><value>Please give the name</value></text>
     <text id="sex-f"><value>Female</value></text>
    </translation>
    <translation lang="Tiếng Việt (vi)" default="true()">
     <text id="head:label"><value>Chủ hộ ở <output value=" /v/village "/></value></text>
     <text id="head:required"><value>Hãy nhập tên</value></text>
     <text id="sex-f"><value>Nữ</value></text>
    </translation>
   </itext>
   <instance>
    <v id="visit" version="3">
     <start/><village/><head/><age>30</age><sex/><sex2/><score/><prefs/><when/><where/>
     <calc/><kid_changed/>
     <kids jr:template=""><kname/></kids>
     <kids><kname>left over</kname></kids>
     <orx:meta><orx:instanceID/><orx:instanceName/></orx:meta>
    </v>
   </instance>
   <instance id="sexes"><root>
    <item><itextId>sex-f</itextId><name>f</name><group>a</group></item>
    <item><itextId>sex-m</itextId><name>m</name><group>b</group></item>
   </root></instance>
   <instance id="villages" src="jr://file-csv/villages.csv"/>
   <bind nodeset="/v/start" type="dateTime" jr:preload="timestamp" jr:preloadParams="start"/>
   <bind nodeset="/v/head" type="string" required="true()"
         jr:requiredMsg="jr:itext('head:required')"/>
   <bind nodeset="/v/age" type="xsd:integer" constraint=". &gt;= 0" jr:constraintMsg="Too young"/>
   <bind nodeset="/v/sex" type="select1"/>
   <bind nodeset="/v/calc" type="decimal" calculate="/v/age * 2"/>
   <bind nodeset="/v/kids" relevant="/v/age &gt; 18"/>
   <bind nodeset="/v/kids/kname" type="string" readonly="false()"/>
   <bind nodeset="/v/orx:meta/orx:instanceID" type="string" readonly="true()" jr:preload="uid"/>
   <bind nodeset="/v/orx:meta/orx:instanceName" type="string" calculate="concat(/v/head, '-')"/>
   <setvalue event="odk-instance-first-load" ref="/v/when" value="now()"/>
   <odk:setgeopoint event="odk-instance-first-load" ref="/v/where"/>
  </model>
 </h:head>
 <h:body>
  <input ref="/v/village"><label>Village</label></input>
  <input ref="/v/head"><label ref="jr:itext('head:label')"/><hint>Full name</hint></input>
  <input ref="/v/age" appearance="numbers"><label>Age</label></input>
  <select1 ref="/v/sex"><label>Sex</label>
   <item><label>Female</label><value>f</value></item>
   <item><label>Male</label><value>m</value></item>
  </select1>
  <select1 ref="/v/sex2"><label>Sex (list)</label>
   <itemset nodeset="instance('sexes')/root/item[group != 'x']">
    <value ref="name"/><label ref="jr:itext(itextId)"/></itemset>
  </select1>
  <select ref="/v/prefs"><label>Village list</label>
   <itemset nodeset="instance('villages')/root/item">
    <value ref="name"/><label ref="label"/></itemset>
  </select>
  <range ref="/v/score" start="0" end="10" step="1"><label>Score</label></range>
  <group ref="/v/kids"><label>Kids</label>
   <repeat nodeset="/v/kids" jr:count=" /v/age " jr:noAddRemove="true()">
    <input ref="kname"><label>Kid</label>
     <setvalue event="xforms-value-changed" ref="/v/kid_changed" value="now()"/></input>
   </repeat>
  </group>
 </h:body>
</h:html>
"""


@pytest.fixture(scope="module")
def visit():
    return read_xform(VISIT)


def src(expr):
    return expr.source.strip() if expr is not None else None


def test_settings_are_read_from_the_root_title_and_submission(visit):
    assert (visit.form_id, visit.version, visit.title) == ("visit", "3", "Thăm hộ")
    assert visit.root_name == "v"
    assert visit.submission_url == "https://example.org/submission"
    assert src(visit.instance_name) == "concat(/v/head, '-')"
    assert visit.md5.startswith("md5:")


def test_labels_are_read_per_language_and_default_language_detected(visit):
    assert visit.languages == ["English (en)", "Tiếng Việt (vi)"]
    assert visit.default_language == "Tiếng Việt (vi)"
    head = visit.field("/v/head")
    assert head.label.get("English (en)") == "Head of ${/v/village}"
    assert head.label.get("Tiếng Việt (vi)") == "Chủ hộ ở ${/v/village}"
    assert head.hint.get() == "Full name"
    assert head.required_message.get("English (en)") == "Please give the name"
    assert visit.field("/v/age").constraint_message.get() == "Too young"


def test_default_language_can_be_chosen_but_must_exist():
    assert read_xform(VISIT, default_language="English (en)").default_language == "English (en)"
    with pytest.raises(FormError) as caught:
        read_xform(VISIT, default_language="fr")
    assert caught.value.problems[0].code == "language.unknown"


def test_namespaced_meta_becomes_plain_paths(visit):
    assert visit.field("/v/meta/instanceID").preload == ("uid", "")
    assert visit.field("/v/meta/instanceID").kind == "meta"
    assert visit.field("/v/meta").kind == "group"


def test_kinds_and_datatypes(visit):
    kinds = {p: (f.kind, f.datatype, f.control) for p, f in visit.fields.items()}
    assert kinds["/v"] == ("group", "", None)
    assert kinds["/v/start"] == ("meta", "dateTime", None)
    assert kinds["/v/age"] == ("question", "int", "input")
    assert kinds["/v/sex"] == ("question", "select_one", "select1")
    assert kinds["/v/prefs"] == ("question", "select_multiple", "select")
    assert kinds["/v/calc"] == ("calculate", "decimal", None)
    assert kinds["/v/kids"] == ("repeat", "", None)
    assert kinds["/v/kids/kname"] == ("question", "string", "input")
    assert visit.field("/v/kids/kname").in_repeat
    assert visit.field("/v/age").appearance == "numbers"
    assert visit.field("/v/score").range == {"start": "0", "end": "10", "step": "1"}


def test_binds_become_parsed_expressions(visit):
    age = visit.field("/v/age")
    assert src(age.constraint) == ". >= 0"
    assert src(visit.field("/v/head").required) == "true()"
    assert src(visit.field("/v/kids").relevant) == "/v/age > 18"
    assert src(visit.field("/v/calc").calculate) == "/v/age * 2"
    assert src(visit.field("/v/kids/kname").readonly) == "false()"
    assert visit.field("/v/start").preload == ("timestamp", "start")
    assert age.default == "30"


def test_repeat_count_template_and_fixed_size(visit):
    kids = visit.field("/v/kids")
    assert src(kids.repeat_count) == "/v/age"
    assert kids.no_add_remove is True
    # One element per repeat, without jr:template, so an empty submission can be built.
    kids_nodes = visit.template.children_named("kids")
    assert len(kids_nodes) == 1
    assert kids_nodes[0].attrs == {}
    assert kids_nodes[0].find("kname").text == ""


def test_inline_items_itemsets_filters_and_external_lists(visit):
    inline = visit.field("/v/sex").choices
    assert [(c.name, c.label.get()) for c in inline.items] == [("f", "Female"), ("m", "Male")]
    assert inline.nodeset is None
    listed = visit.field("/v/sex2").choices
    assert listed.instance_id == "sexes"
    assert listed.filtered is True
    assert src(listed.nodeset) == "instance('sexes')/root/item[group != 'x']"
    first = listed.items[0]
    assert first.name == "f"
    assert first.label.get("Tiếng Việt (vi)") == "Nữ"
    assert first.extra == {"group": "a"}
    external = visit.field("/v/prefs").choices
    assert external.external is True
    assert external.items == []
    assert visit.external_instances == {"villages": "jr://file-csv/villages.csv"}


def test_secondary_instances_are_node_trees(visit):
    root = visit.instances["sexes"]
    assert root.name == "root"
    assert [i.find("name").text for i in root.children_named("item")] == ["f", "m"]


def test_actions_are_attached_to_the_field_they_set(visit):
    (when,) = visit.field("/v/when").setvalues
    assert (when.event, when.kind, src(when.value), when.trigger) == (
        "odk-instance-first-load",
        "setvalue",
        "now()",
        None,
    )
    (where,) = visit.field("/v/where").setvalues
    assert (where.kind, where.value) == ("setgeopoint", None)
    (changed,) = visit.field("/v/kid_changed").setvalues
    assert (changed.event, changed.trigger) == ("xforms-value-changed", "/v/kids/kname")
    assert visit.field("/v/kid_changed").kind == "calculate"


def test_one_setvalue_per_event_for_dynamic_defaults_in_repeats():
    form = """
| survey |
| | type | name | label | default |
| | begin_repeat | r | R | |
| | date | d | D | today() |
| | end_repeat | | | |
"""
    model = load_form(form, "dyn.md")
    events = sorted(s.event for s in model.field("/data/r/d").setvalues)
    assert events == ["odk-instance-first-load", "odk-new-repeat"]


ENTITY_FORM = """
| survey |
| | type | name | label | save_to |
| | text | hh_name | Name | full_name |
| | integer | members | Members | member_count |
| | text | cccd | ID | |
| entities |
| | list_name | label | entity_id | create_if | update_if |
| | households | concat('Hộ ', ${hh_name}) | ${cccd} | ${members} > 0 | ${members} > 5 |
"""


def test_entities_sheet_gives_the_declaration():
    (entity,) = load_form(ENTITY_FORM, "hh.md").entities
    assert entity.dataset == "households"
    assert entity.path == "/data/meta/entity"
    assert entity.spec_version == "2024.1.0"
    assert entity.properties == {"full_name": "/data/hh_name", "member_count": "/data/members"}
    assert src(entity.create_if) == "/data/members  > 0"
    assert src(entity.update_if) == "/data/members  > 5"
    assert src(entity.entity_id) == "/data/cccd"
    assert "/data/hh_name" in src(entity.label)
    assert "__version" in src(entity.base_version)
    assert entity.trunk_version is not None and entity.branch_id is not None
    assert not entity.static_create and not entity.static_update


def test_create_only_entity_gets_a_uuid_and_a_static_create():
    form = ENTITY_FORM.replace("| entity_id | create_if | update_if |", "|").replace(
        "| ${cccd} | ${members} > 0 | ${members} > 5 |", "|"
    )
    (entity,) = load_form(form, "hh.md").entities
    assert entity.static_create is True
    assert entity.update_if is None
    assert src(entity.entity_id) == "uuid()"


@pytest.mark.parametrize("version", ["2022.1.0", "2023.1", "2024.1.0", "2025.1.0", "2025.1.3"])
def test_entities_versions_up_to_2025_1_are_accepted(version):
    xform = _entity_xform().replace("2024.1.0", version)
    assert read_xform(xform).entity.spec_version == version


@pytest.mark.parametrize("version", ["2026.1", "2025.2.0", "next"])
def test_newer_entities_versions_are_refused(version):
    xform = _entity_xform().replace("2024.1.0", version)
    with pytest.raises(FormError) as caught:
        read_xform(xform)
    (problem,) = caught.value.problems
    assert problem.code == "entities.version"
    assert version in problem.message and "2025.1" in problem.message
    assert "2025.1" in problem.message_vi


def _entity_xform() -> str:
    return load_form(ENTITY_FORM, "hh.md").xform.decode("utf-8")


# -- hostile and broken XML -------------------------------------------------------------------


@pytest.mark.parametrize(
    "xml",
    [
        '<!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]><x>&b;&b;</x>',
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
        '<!DOCTYPE x SYSTEM "http://example.org/x.dtd"><x/>',
    ],
    ids=["entity-expansion", "external-entity", "external-dtd"],
)
def test_doctypes_and_entities_are_refused(xml):
    with pytest.raises(FormError) as caught:
        safe_xml(xml)
    assert caught.value.problems[0].code == "xform.forbidden"


def test_size_limit_and_malformed_xml():
    with pytest.raises(FormError) as caught:
        safe_xml(b"<x>" + b" " * 200 + b"</x>", limit=100)
    assert caught.value.problems[0].code == "xform.too_large"
    with pytest.raises(FormError) as caught:
        read_xform("<h:html><unclosed>")
    assert caught.value.problems[0].code == "xform.unreadable"


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        ("<html><body/></html>", "h:head"),
        ("<html><head><model/></head></html>", "primary instance"),
        ("<html><head><model><instance><data/></instance></model></head></html>", "form id"),
    ],
)
def test_forms_without_the_parts_we_need_are_refused(xml, words):
    with pytest.raises(FormError, match=words) as caught:
        read_xform(xml)
    assert caught.value.problems[0].code == "xform.structure"


def test_binds_and_actions_on_missing_nodes_are_reported():
    first_action = '<setvalue event="odk-instance-first-load" ref="/v/when"'
    xml = VISIT.replace(first_action, '<bind nodeset="/v/ghost" type="int"/>' + first_action)
    xml = xml.replace('ref="/v/where"/>', 'ref="/v/nowhere"/>')
    problems = parse_xform(xml).problems
    assert [(p.code, p.field) for p in problems] == [
        ("bind.unknown_node", "/v/ghost"),
        ("bind.unknown_node", "/v/nowhere"),
    ]


def test_conflicting_binds_on_one_node_are_refused_split_ones_merge():
    split = VISIT.replace(
        '<bind nodeset="/v/calc"',
        '<bind nodeset="/v/age" relevant="true()"/><bind nodeset="/v/calc"',
    )
    model = read_xform(split)
    assert src(model.field("/v/age").relevant) == "true()"
    assert src(model.field("/v/age").constraint) == ". >= 0"
    conflicting = VISIT.replace(
        '<bind nodeset="/v/calc"', '<bind nodeset="/v/age" type="string"/><bind nodeset="/v/calc"'
    )
    with pytest.raises(FormError) as caught:
        read_xform(conflicting)
    assert [p.code for p in caught.value.problems] == ["bind.duplicate"]


def test_repeats_without_jr_template_keep_their_first_instance():
    xml = VISIT.replace('<kids jr:template=""><kname/></kids>', "<kids><kname>a</kname></kids>")
    model = read_xform(xml)
    (kids,) = model.template.children_named("kids")
    assert kids.find("kname").text == "a"
    assert model.field("/v/kids").kind == "repeat"


def test_twin_nodes_that_are_not_a_repeat_are_refused():
    xml = VISIT.replace("<calc/>", "<calc/><calc/>")
    with pytest.raises(FormError) as caught:
        read_xform(xml)
    assert [(p.code, p.field) for p in caught.value.problems] == [("field.duplicate", "/v/calc")]
