"""Filling a form in a terminal, through the forms engine (the `giupho-sync fill` command).

`Questionnaire` walks the form's fields in order and asks each relevant
question through two injected functions (`ask(prompt) -> str`, `say(text)`),
so the same code serves the terminal and the tests. Relevance, choice
filters and calculations are evaluated on the answers so far by the forms
engine (`forms.validation.compute` and the form's XPath expressions);
every answer is checked by `forms.validation.validate` (type, constraint,
required, choice) and asked again with the form's message until it passes.
Repeats are asked as "add another?" (or `repeat_count` times). Households
the user holds locally stand in for the form's external `households` list.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from forms.instance import to_answers
from forms.model import Field, FormModel
from forms.tree import Node
from forms.validation import compute, validate
from forms.xpath import Env, XPathError
from sync.client.i18n import LANGUAGES, N_, translations

Ask = Callable[[str], str]
Say = Callable[[str], None]

#: What the questionnaire says itself (the questions are the form's, in its own languages):
#: English message ids, their Vietnamese in the `giupho_sync` catalogue (`sync.client.i18n`).
CHOOSE = N_("Choose a number (or type the value)")
CHOOSE_MANY = N_("Choose numbers separated by spaces")
# TRANSLATORS: a yes/no question; c, có, y and yes all answer yes (YES below).
ADD_REPEAT = N_("Add a «%(label)s»? (y/n)")
NO_CHOICE = N_("No option fits the previous answers.")
INVALID_CHOICE = N_("Not a valid choice: %(value)s")
FILE = N_("Path of the file (empty for none)")
NO_FILE = N_("File not found: %(path)s")
#: Answers to ADD_REPEAT that mean yes, whatever the language.
YES = frozenset(("c", "có", "y", "yes"))

_WIDGETS = ("input", "select1", "select", "range", "rank", "trigger")


def form_language(form: FormModel, lang: str) -> str | None:
    """The form's language name for "vi" or "en" ("Tiếng Việt (vi)"), else its default."""
    for name in form.languages:
        low = name.lower()
        if f"({lang})" in low or low == lang or (lang == "vi" and "việt" in low):
            return name
        if lang == "en" and "english" in low:
            return name
    return form.default_language


@dataclass
class FilledForm:
    root: Node
    answers: dict[str, Any]
    instance_id: str
    entity_id: str | None
    base_version: int | None
    properties: dict[str, str] = field(default_factory=dict)
    #: Files the upload questions named: (file name in the answers, path on this computer).
    files: list[tuple[str, str]] = field(default_factory=list)


class Questionnaire:
    def __init__(
        self,
        form: FormModel,
        *,
        ask: Ask,
        say: Say,
        lang: str = "vi",
        households: list[Mapping[str, Any]] = (),  # type: ignore[assignment]
        username: str = "",
        device_id: str = "giupho-sync",
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC).astimezone(),
    ) -> None:
        self.form = form
        self.ask_raw = ask
        self.say = say
        self.lang = lang if lang in LANGUAGES else "vi"
        self.translations = translations(self.lang)
        self.form_lang = form_language(form, self.lang)
        self.households = {str(h["id"]): h for h in households}
        self.username = username
        self.device_id = device_id
        self.now = now
        self.instances = dict(form.instances)
        self.instances["households"] = _households_instance(households)
        self.repeat_templates: dict[str, Node] = {}
        self.files: dict[str, str] = {}  # answer -> path on this computer
        self._version = 0  # bumped on every change of the answers
        self._cache: tuple[Node, int, Node] | None = None

    def _(self, message: str, **params) -> str:
        """`message` (an English message id) in the chosen language, `%(params)s` filled in."""
        text = self.translations.gettext(message)
        return text % params if params else text

    # -- the walk -----------------------------------------------------------------------------

    def run(self) -> FilledForm:
        root = self.form.template.copy()
        self._strip_repeats(self.form.root, root)
        self._preload(root, "start")
        self._fields(self.form.root, root)
        self._preload(root, "end")
        computed = compute(self.form, root, now=self.now())
        return self._finish(computed)

    def _strip_repeats(self, parent_field: Field, node: Node) -> None:
        """Keep each repeat's template aside; the filled form starts with no instances."""
        for child in parent_field.children:
            if child.kind == "repeat":
                for instance in node.children_named(child.name):
                    self.repeat_templates.setdefault(child.path, instance.copy())
                    node.remove(instance)
            elif child.kind == "group":
                sub = node.child(child.name)
                if sub is not None:
                    self._strip_repeats(child, sub)

    def _fields(self, parent_field: Field, node: Node) -> None:
        for child in parent_field.children:
            if child.kind == "repeat":
                self._repeat(child, node)
                continue
            target = node.child(child.name)
            if target is None or child.kind in ("calculate", "meta", "attribute"):
                continue
            if not self._relevant(child, target):
                _clear(target)
                self._changed()
                continue
            if child.kind == "group":
                label = child.label.get(self.form_lang)
                if label:
                    self.say(f"\n== {label} ==")
                self._fields(child, target)
            elif child.control in _WIDGETS or child.control == "upload":
                self._question(child, target)

    def _repeat(self, repeat: Field, parent: Node) -> None:
        template = self.repeat_templates.get(repeat.path)
        if template is None:
            return
        label = repeat.label.get(self.form_lang) or repeat.name
        count = None
        if repeat.repeat_count is not None:
            count = int(self._evaluate_number(repeat.repeat_count, parent) or 0)
        done = 0
        while True:
            # The repeat's relevance, from the answers so far (absolute paths; context: the
            # group it sits in), before offering another instance.
            if repeat.relevant is not None and not self._boolean(repeat.relevant, parent):
                return
            if count is not None:
                if done >= count:
                    return
            else:
                answer = self.ask_raw(self._(ADD_REPEAT, label=label) + " ")
                if answer.strip().lower() not in YES:
                    return
            instance = template.copy()
            _insert_after_siblings(parent, instance, self._template_position(repeat, parent))
            self._changed()
            done += 1
            self.say(f"\n-- {label} #{done} --")
            if self._relevant(repeat, instance):
                self._fields(repeat, instance)
            else:
                parent.remove(instance)
                self._changed()
                return

    def _template_position(self, repeat: Field, parent: Node) -> int:
        """Where a new repeat instance goes: after its siblings, or where the form puts it."""
        siblings = parent.children_named(repeat.name)
        if siblings:
            return parent.children.index(siblings[-1]) + 1
        parent_field = repeat.parent
        names = [f.name for f in parent_field.children] if parent_field else []
        after = set(names[names.index(repeat.name) + 1 :]) if repeat.name in names else set()
        for index, child in enumerate(parent.children):
            if child.name in after:
                return index
        return len(parent.children)

    # -- one question ---------------------------------------------------------------------------

    def _question(self, question: Field, node: Node) -> None:
        label = question.label.get(self.form_lang) or question.name
        label = self._interpolate(label, node)
        hint = question.hint.get(self.form_lang)
        readonly = question.readonly is not None and self._boolean(question.readonly, node)
        if question.datatype == "string" and question.control == "input" and readonly:
            self.say(label)  # a note
            return
        if question.control == "trigger":
            self.say(label)
            return
        options = self._options(question, node) if question.choices is not None else None
        if options is not None and not options:
            self.say(f"{label}\n  {self._(NO_CHOICE)}")
        while True:
            self.say(f"\n{label}" + (f"\n  ({hint})" if hint else ""))
            if options:
                for number, (_value, text) in enumerate(options, 1):
                    self.say(f"  {number}. {text}")
            prompt = self._prompt(question, options)
            raw = self.ask_raw(prompt).strip()
            if question.control == "upload":
                value, error = self._file(raw)
            else:
                value, error = self._parse(question, options, raw)
            if error:
                self.say(f"  ! {error}")
                continue
            node.text = value
            self._changed()
            problems = self._problems(node)
            if not problems:
                return
            for message in problems:
                self.say(f"  ! {message}")
            node.text = ""
            self._changed()

    def _file(self, raw: str) -> tuple[str, str | None]:
        """An upload answer: the file's name in the answers, its path kept for the outbox."""
        if not raw:
            return "", None
        path = os.path.expanduser(raw)
        if not os.path.isfile(path):
            return "", self._(NO_FILE, path=raw)
        name = os.path.basename(path)
        self.files[name] = path
        return name, None

    def _prompt(self, question: Field, options) -> str:
        if question.control == "upload":
            return f"{self._(FILE)}: "
        if question.datatype == "select_multiple":
            return f"{self._(CHOOSE_MANY)}: "
        if options:
            return f"{self._(CHOOSE)}: "
        return f"[{question.datatype}] > "

    def _parse(self, question: Field, options, raw: str) -> tuple[str, str | None]:
        if not options or not raw:
            return raw, None
        values = [v for v, _t in options]
        picked = []
        tokens = raw.split() if question.datatype == "select_multiple" else [raw]
        for token in tokens:
            if token.isdigit() and 1 <= int(token) <= len(options):
                picked.append(values[int(token) - 1])
            elif token in values:
                picked.append(token)
            else:
                return "", self._(INVALID_CHOICE, value=token)
        return " ".join(picked), None

    def _problems(self, node: Node) -> list[str]:
        """The validation messages about `node` once the answers so far are computed."""
        computed, _here = self._computed(node)
        result = validate(self.form, computed, now=self.now())
        path = node.indexed_path()
        key = "message_vi" if self.lang == "vi" else "message"
        out = []
        for issue in result.issues:
            if issue.path == path and issue.severity == "error":
                data = issue.to_dict()
                out.append(data.get(key) or data.get("message") or issue.code)
        return out

    def _options(self, question: Field, node: Node) -> list[tuple[str, str]]:
        source = question.choices
        labels = {c.name: c.label.get(self.form_lang) or c.name for c in source.items}
        if source.nodeset is None or (not source.filtered and not source.external):
            return [(c.name, labels[c.name]) for c in source.items]
        computed, here = self._computed(node)
        try:
            found = source.nodeset.evaluate(here, self._env(computed))
        except XPathError:
            return [(c.name, labels[c.name]) for c in source.items]
        out = []
        for item in found if isinstance(found, list) else []:
            value_node = item.child(source.value_ref) if hasattr(item, "child") else None
            if value_node is None:
                continue
            value = value_node.text
            label_node = item.child("label")
            out.append((value, labels.get(value) or (label_node.text if label_node else value)))
        return out

    # -- expressions ------------------------------------------------------------------------------

    def _env(self, root: Node) -> Env:
        return Env(root=root, instances=self.instances, now=self.now())

    def _computed(self, node: Node) -> tuple[Node, Node]:
        """The answers so far with calculates filled in, and `node`'s counterpart in them.

        Computed once per change of the answers (`_changed`), not once per question.
        """
        root = _root_of(node)
        if self._cache is None or self._cache[0] is not root or self._cache[1] != self._version:
            self._cache = (root, self._version, compute(self.form, root, now=self.now()))
        computed = self._cache[2]
        return computed, _follow(computed, node.indexed_path()) or computed

    def _changed(self) -> None:
        self._version += 1

    def _relevant(self, fld: Field, node: Node) -> bool:
        return fld.relevant is None or self._boolean(fld.relevant, node)

    def _boolean(self, expr, node: Node) -> bool:
        computed, here = self._computed(node)
        try:
            return expr.eval_boolean(here, self._env(computed))
        except XPathError:
            return True

    def _evaluate_number(self, expr, node: Node) -> float:
        computed, here = self._computed(node)
        try:
            return float(expr.evaluate(here, self._env(computed)) or 0)
        except (XPathError, ValueError, TypeError):
            return 0.0

    def _interpolate(self, label: str, node: Node) -> str:
        """`${/data/...}` references (and bare `/data/...` outputs) shown as their answers."""
        if "/" + self.form.root_name + "/" not in label:
            return label
        computed, _here = self._computed(node)

        def value(match: re.Match) -> str:
            found = _follow(computed, match.group(1) or match.group(2))
            return found.text if found is not None else match.group(0)

        root = re.escape(self.form.root_name)
        return re.sub(rf"\$\{{(/{root}/[^}}\s]+)\}}|(?<!\S)(/{root}/[\w/.-]+)", value, label)

    # -- metadata and the entity ------------------------------------------------------------------

    def _preload(self, root: Node, which: str) -> None:
        now = self.now()
        for fld in self.form.fields.values():
            if not fld.preload:
                continue
            node = _follow(root, fld.path)
            if node is None:
                continue
            kind, param = fld.preload
            if kind == "timestamp" and param == which:
                node.text = now.isoformat(timespec="milliseconds")
            elif which == "start" and kind == "date" and param == "today":
                node.text = now.date().isoformat()
            elif which == "start" and kind == "property":
                node.text = {"deviceid": self.device_id, "username": self.username}.get(param, "")

    def _finish(self, root: Node) -> FilledForm:
        meta = root.child("meta")
        instance_id = f"uuid:{uuid.uuid4()}"
        if meta is not None and meta.child("instanceID") is not None:
            meta.child("instanceID").text = instance_id
        entity_id, base_version, properties = None, None, {}
        declaration = self.form.entity
        entity = meta.child("entity") if meta is not None else None
        if declaration is not None and entity is not None:
            if "create" in entity.attrs:
                entity_id = str(uuid.uuid4())
            elif declaration.entity_id is not None:
                entity_id = declaration.entity_id.eval_string(root, self._env(root))
            held = self.households.get(entity_id or "")
            if held is not None and "update" in entity.attrs:
                base_version = int(held.get("version") or 0)
                entity.attrs["baseVersion"] = str(base_version)
                for attr in ("trunkVersion", "branchId"):
                    if not entity.attrs.get(attr):
                        entity.attrs.pop(attr, None)
            if entity_id:
                entity.attrs["id"] = entity_id
            label = declaration.label
            if label is not None and entity.child("label") is not None:
                entity.child("label").text = label.eval_string(root, self._env(root))
            for name, path in declaration.properties.items():
                node = _follow(root, path)
                if node is not None:
                    properties[name] = node.text
        answers = to_answers(root, self.form)
        named = {n.text for n in root.iter() if n.text in self.files}
        files = [(name, self.files[name]) for name in sorted(named)]
        return FilledForm(root, answers, instance_id, entity_id, base_version, properties, files)


# -- tree helpers ---------------------------------------------------------------------------


def _root_of(node: Node) -> Node:
    while node.parent is not None:
        node = node.parent
    return node


def _follow(root: Node, path: str) -> Node | None:
    """The node at an absolute, optionally indexed path (/data/member[2]/name) under `root`."""
    steps = [s for s in path.strip("/").split("/") if s]
    if not steps or steps[0].split("[")[0] != root.name:
        return None
    node: Node | None = root
    for step in steps[1:]:
        name, _, index = step.partition("[")
        position = int(index.rstrip("]")) if index else 1
        matches = node.children_named(name) if node is not None else []
        if len(matches) < position:
            return None
        node = matches[position - 1]
    return node


def _clear(node: Node) -> None:
    node.text = ""
    for child in node.children:
        _clear(child)


def _insert_after_siblings(parent: Node, child: Node, position: int) -> None:
    parent.insert(position, child)


def _households_instance(households) -> Node:
    """The local households as the form's external `households` list (name, label, __version)."""
    root = Node("root")
    for household in households:
        item = Node("item")
        item.append(Node("name", str(household.get("id", ""))))
        item.append(Node("label", str(household.get("label") or household.get("id", ""))))
        item.append(Node("__version", str(household.get("version", ""))))
        for key, value in (household.get("properties") or {}).items():
            if isinstance(value, str | int | float) and key.isidentifier():
                item.append(Node(key, str(value)))
        root.append(item)
    return root
