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

What is already known is not typed again: values a question's trigger sets
from the household record (`<setvalue>` on `xforms-value-changed`) and the
answers of a returned record being corrected are offered as the current value
(Enter keeps it); the answers of a draft being resumed are taken as they are,
and the questions go on where the draft stopped. `on_answer` is called after
every answer, so the caller can keep the draft (see `state`).

Where the officer types, they type as Vietnamese people write: a choice by
number, by value or by a few letters of its label (accents and case
ignored), and numbers the vi-VN way (see `parse_number`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from forms.instance import to_answers
from forms.model import Field, FormModel
from forms.tree import Node
from forms.validation import compute, validate
from forms.xpath import Env, XPathError
from sync.client.i18n import LANGUAGES, N_, YES, translations

Ask = Callable[[str], str]
Say = Callable[[str], None]

#: What the questionnaire says itself (the questions are the form's, in its own languages):
#: English message ids, their Vietnamese in the `giupho_sync` catalogue (`sync.client.i18n`).
CHOOSE = N_("Choose a number (or type the value)")
CHOOSE_MANY = N_("Choose numbers separated by spaces")
# TRANSLATORS: a yes/no question; c, có, y and yes all answer yes (i18n.YES).
ADD_REPEAT = N_("Add a «%(label)s»? (y/n)")
NO_CHOICE = N_("No option fits the previous answers.")
INVALID_CHOICE = N_("Not a valid choice: %(value)s")
FILE = N_("Path of the file (empty for none)")
NO_FILE = N_("File not found: %(path)s")
NO_MATCH = N_("No option matches «%(value)s». Type a number, or other letters of the name.")
SEVERAL_MATCH = N_("%(count)s options match «%(value)s»: choose one by its number.")
PICKED = N_("Chosen: %(label)s")
MANY_OPTIONS = N_("%(count)s options: type a few letters to search, or a number.")
# TRANSLATORS: shown under a question that already has a value (from the household record,
# the record being corrected, or the form's default).
CURRENT = N_("Now: %(value)s (Enter keeps it, «-» empties it)")
RESUMED = N_("Going on from where the draft stopped.")
NOT_A_NUMBER = N_(
    "Not a number: %(value)s. Write it the Vietnamese way: dots between thousands "
    "(2.500.000), a comma before decimals (2,5), or digits alone (2500000)."
)
NOT_WHOLE = N_("A whole number is asked here (no decimals): %(value)s")
#: The kind of answer each question type asks for, shown in its prompt ("[whole number] > ").
TYPE_WORDS = {
    "string": N_("text"),
    "int": N_("whole number"),
    "decimal": N_("number"),
    "date": N_("date, YYYY-MM-DD"),
    "time": N_("time, HH:MM"),
    "dateTime": N_("date and time, YYYY-MM-DDTHH:MM"),
    "geopoint": N_("GPS: latitude longitude"),
    "barcode": N_("code"),
}
#: Beyond this many options, the list is shown only after a search (a village's households).
LIST_LIMIT = 30

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
        answered: Mapping[str, str] | None = None,
        defaults: Mapping[str, str] | None = None,
        files: Mapping[str, str] | None = None,
        on_answer: Callable[[], None] | None = None,
        replaces: str | None = None,
        entity_id: str | None = None,
    ) -> None:
        """`answered`: answers of a draft by key (indexed path, or "+" and the path of a
        repeat instance for "add it?"), taken without asking; `defaults`: answers offered
        as the current value (a returned record); `files`: file name -> path of the
        draft's upload answers; `on_answer`: called after each answer (keep `state`).
        `replaces`: the instanceID this form corrects (an edit: `meta/deprecatedID`, R4),
        and `entity_id` the household that record registered (kept, not made anew)."""
        self.replaces = replaces
        self.entity_id = entity_id
        # The households held on this device stand in for the form's external list, for
        # the questions and for the form's own calculations (the last classification).
        self.instances = dict(form.instances)
        self.instances["households"] = _households_instance(households)
        form = dataclasses.replace(form, instances=self.instances)
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
        self.repeat_templates: dict[str, Node] = {}
        self.files: dict[str, str] = dict(files or {})  # answer -> path on this computer
        self._version = 0  # bumped on every change of the answers
        self._cache: tuple[Node, int, Node] | None = None
        self.replay = dict(answered or {})
        self.defaults = dict(defaults or {})
        self.answered: dict[str, str] = {}  # this fill's answers by key, in order
        self.on_answer = on_answer or (lambda: None)
        #: The label of the question being asked (where an interruption stopped).
        self.asking: str | None = None
        self._replayed = False
        self._kept_at: str | None = None
        self._repeats = {f.path for f in form.fields.values() if f.kind == "repeat"}
        self._triggers: dict[str, list] = {}
        for fld in form.fields.values():
            for action in fld.setvalues:
                if action.trigger and "xforms-value-changed" in action.event:
                    self._triggers.setdefault(action.trigger, []).append(action)

    def state(self) -> dict[str, Any]:
        """What a draft keeps: the answers so far, the offered values, the files named."""
        return {"answered": dict(self.answered), "defaults": self.defaults,
                "files": dict(self.files), "stopped_at": self.asking}  # fmt: skip

    def _ask(self, key: str, prompt: str) -> str:
        """The officer's answer for `key`, live (the question so far was said)."""
        if self.answered and self._kept_at != self.asking:
            # The draft names the question now asked: where a closed terminal stopped.
            self._kept_at = self.asking
            self.on_answer()
        return self.ask_raw(prompt)

    def _key(self, node: Node) -> str:
        """The path of `node` with the position of every repeat instance on it, even a lone
        one (/data/member[1]/member_name), as validation issues and answers name it."""
        chain = []
        while node is not None:
            chain.append(node)
            node = node.parent
        plain, out = "", []
        for step in reversed(chain):
            plain += "/" + step.name
            if plain in self._repeats and step.parent is not None:
                position = step.parent.children_named(step.name).index(step) + 1
                out.append(f"{step.name}[{position}]")
            else:
                out.append(step.name)
        return "/" + "/".join(out)

    def _going_on(self) -> None:
        """Before the first question asked live after a draft's answers: say so."""
        if self.replay and not self._replayed:
            self._replayed = True
            self.say(self._(RESUMED))

    def _record(self, key: str, value: str) -> None:
        self.answered[key] = value
        self.on_answer()

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
                key = f"+{self._key(parent)}/{repeat.name}[{done + 1}]"
                if key in self.replay:
                    answer = self.answered[key] = self.replay[key]
                else:
                    self._going_on()
                    self.asking = label
                    prompt = self._(ADD_REPEAT, label=label) + " "
                    if key in self.defaults:
                        self.say("  " + self._(CURRENT, value=self.defaults[key]))
                    answer = self._ask(key, prompt).strip().lower()
                    if not answer and key in self.defaults:
                        answer = self.defaults[key]
                    self._record(key, answer)
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
        key = self._key(node)
        if key in self.replay and self._take(question, node, self.replay[key]):
            self.answered[key] = self.replay[key]
            return
        current = self.defaults.get(key, node.text)
        shown = options if options is None or len(options) <= LIST_LIMIT else None
        self.asking = label
        self._going_on()
        while True:
            self.say(f"\n{label}" + (f"\n  ({hint})" if hint else ""))
            if shown:
                for number, (_value, text) in enumerate(options, 1):
                    if shown is options or (number, text) in shown:
                        self.say(f"  {number}. {text}")
            elif options:
                self.say("  " + self._(MANY_OPTIONS, count=len(options)))
            if current:
                self.say("  " + self._(CURRENT, value=self._shown(current, options)))
            prompt = self._prompt(question, options)
            raw = self._ask(key, prompt).strip()
            if not raw and current:
                raw = current
            elif raw == "-":
                raw = ""
            if question.control == "upload":
                value, error = self._file(raw)
            else:
                value, error = self._parse(question, options, raw)
            if isinstance(error, list):  # several options match: show only those
                shown = error
                self.say("  " + self._(SEVERAL_MATCH, count=len(error), value=raw))
                continue
            if error:
                self.say(f"  ! {error}")
                continue
            if self._take(question, node, value, say=True):
                self._record(key, value)
                return

    def _take(self, question: Field, node: Node, value: str, say: bool = False) -> bool:
        """Put `value` in `node` if the form accepts it (its triggers fire); else say why."""
        node.text = value
        self._changed()
        problems = self._problems(node)
        if not problems:
            self._fire(question, node)
            return True
        for message in problems if say else ():
            self.say(f"  ! {message}")
        node.text = ""
        self._changed()
        return False

    def _fire(self, question: Field, node: Node) -> None:
        """The `<setvalue>` actions this answer triggers: values the household record gives
        (offered as the current value of their questions, which come later)."""
        actions = self._triggers.get(question.path)
        if not actions:
            return
        prefix = self._key(node)
        for action in actions:
            if action.value is None:
                continue
            computed, here = self._computed(node)
            try:
                value = action.value.eval_string(here, self._env(computed))
            except XPathError:
                continue
            target = _follow(_root_of(node), _indexed_like(action.ref, prefix))
            if target is not None:
                target.text = value
                self._changed()

    def _shown(self, value: str, options) -> str:
        """A current value as the officer reads it (a choice by its number and label)."""
        for number, (option, text) in enumerate(options or (), 1):
            if option == value:
                return f"{number}. {text}"
        return value

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
        words = TYPE_WORDS.get(question.datatype)
        return f"[{self._(words) if words else question.datatype}] > "

    def _parse(self, question: Field, options, raw: str):
        """(value, None), or ("", the message of what is wrong), or ("", [(number, label)])
        when a search matches several options."""
        if raw and question.datatype in ("int", "decimal") and not options:
            value, problem = parse_number(raw, whole=question.datatype == "int")
            return value, problem and self._(problem, value=raw)
        if not options or not raw:
            return raw, None
        values = [v for v, _t in options]
        picked = []
        several = question.datatype == "select_multiple"
        tokens = raw.split() if several else [raw]
        for token in tokens:
            if token.isdigit() and 1 <= int(token) <= len(options):
                picked.append(values[int(token) - 1])
            elif token in values:
                picked.append(token)
            elif several:
                return "", self._(INVALID_CHOICE, value=token)
            else:  # a few letters of the label: search, accents and case ignored
                found = search(options, token)
                if not found:  # a number out of the list, or letters of no option
                    message = INVALID_CHOICE if token.isdigit() else NO_MATCH
                    return "", self._(message, value=token)
                if len(found) > 1:
                    return "", found
                number, text = found[0]
                self.say("  " + self._(PICKED, label=text))
                picked.append(values[number - 1])
        return " ".join(picked), None

    def _problems(self, node: Node) -> list[str]:
        """The validation messages about `node` once the answers so far are computed."""
        computed, _here = self._computed(node)
        result = validate(self.form, computed, now=self.now())
        path = self._key(node)
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
        if self.replaces and meta is not None:
            replaced = meta.child("deprecatedID") or meta.append(Node("deprecatedID"))
            replaced.text = self.replaces
        entity_id, base_version, properties = None, None, {}
        declaration = self.form.entity
        entity = meta.child("entity") if meta is not None else None
        if declaration is not None and entity is not None:
            if "create" in entity.attrs:
                entity_id = self.entity_id or str(uuid.uuid4())
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


def known_answers(form: FormModel, answers: Mapping[str, Any]) -> dict[str, str]:
    """The answers of a record (JSON answers, `forms.instance.to_answers`) as the keys a
    `Questionnaire` offers them by: each question's indexed path, and for each repeat
    "+path[n]" = "c" for its instances and "k" after the last (asked "add another?")."""
    out: dict[str, str] = {}

    def walk(fld: Field, value: Any, path: str) -> None:
        for child in fld.children:
            if child.name not in value or child.kind in ("meta", "calculate"):
                continue
            here = value[child.name]
            if child.kind == "repeat":
                instances = here if isinstance(here, list) else [here]
                for number, item in enumerate(instances, 1):
                    out[f"+{path}/{child.name}[{number}]"] = "c"
                    if isinstance(item, Mapping):
                        walk(child, item, f"{path}/{child.name}[{number}]")
                out[f"+{path}/{child.name}[{len(instances) + 1}]"] = "k"
            elif child.kind == "group" and isinstance(here, Mapping):
                walk(child, here, f"{path}/{child.name}")
            elif child.kind == "question" and isinstance(here, str | int | float):
                out[f"{path}/{child.name}"] = str(here)

    walk(form.root, answers, f"/{form.root_name}")
    return out


# -- what the officer types ------------------------------------------------------------------

#: A vi-VN number: digits with "." between groups of three, then "," and decimals; or
#: plain digits with an optional "," (or a lone ".") before decimals. Spaces between the
#: groups of three are read as the dots are.
_GROUPED = re.compile(r"^(\d{1,3}(?:[. ]\d{3})+)(?:,(\d+))?$")
_PLAIN = re.compile(r"^(\d+)(?:,(\d+))?$")
_MONEY = re.compile(r"\s*(?:đồng|đ|vnd|vnđ)$", re.IGNORECASE)


def parse_number(raw: str, *, whole: bool = False) -> tuple[str, str | None]:
    """A number typed the vi-VN way, as the form stores it ("2.500.000" -> "2500000",
    "2,5" -> "2.5"), or ("", a message id) when it is not one.

    The rule of vi-VN: "." separates thousands and "," the decimals, so "2.500.000",
    "2500000" and "2.500.000 đ" are two and a half million, and "2,5" two and a half.
    A dot that is not between groups of three ("2.5") is refused rather than guessed:
    read as thousands it is not a number, read as decimals it breaks the rule and a
    "1.500" next to it would mean something else. A whole number with decimals is refused.
    """
    text = _MONEY.sub("", raw.strip().replace("\u00a0", " ").replace("\u2212", "-"))
    sign = ""
    if text[:1] in "+-" and text[:1]:
        sign, text = ("-" if text[0] == "-" else ""), text[1:].strip()
    match = _GROUPED.match(text) or _PLAIN.match(text)
    if match is None:
        return "", NOT_A_NUMBER
    digits = re.sub(r"[. ]", "", match.group(1)).lstrip("0") or "0"
    decimals = (match.group(2) or "").rstrip("0")
    if decimals and whole:
        return "", NOT_WHOLE
    if sign and digits == "0" and not decimals:
        sign = ""
    return sign + digits + (f".{decimals}" if decimals else ""), None


def fold(text: str) -> str:
    """`text` for comparing what is typed with a label: accents and tone marks stripped
    (wherever the tone was placed: hoà = hòa), đ -> d, lower case, single spaces.

    Written here rather than imported: the project's Vietnamese folding
    (`server.dedup.names.folded`) is pure, but it lives under `server/`, whose package
    imports Flask at import time, and the client stays free of the server. Its name-key
    extras (regional spellings, Telex leftovers) are for matching names, not for finding
    a label by a few letters.
    """
    decomposed = unicodedata.normalize("NFD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.replace("đ", "d").split())


def search(options: list[tuple[str, str]], typed: str) -> list[tuple[int, str]]:
    """(number, label) of the options whose label (or value) holds every word typed, at the
    start of one of its words ("van din" finds "Nguyễn Văn Dình"), accents and case ignored."""
    wanted = fold(typed).split()
    found = []
    for number, (value, text) in enumerate(options, 1):
        words = fold(f"{text} {value}").split()
        if wanted and all(any(w.startswith(t) for w in words) for t in wanted):
            found.append((number, text))
    return found


# -- tree helpers ---------------------------------------------------------------------------


def _indexed_like(path: str, indexed: str) -> str:
    """`path` (no positions) with the positions `indexed` has on the steps they share: the
    node of the same repeat instance (/data/m/x, /data/m[2]/y -> /data/m[2]/x)."""
    steps, given = path.strip("/").split("/"), indexed.strip("/").split("/")
    out = []
    for number, step in enumerate(steps):
        if number < len(given) and given[number].split("[")[0] == step:
            out.append(given[number])
        else:
            out.extend(steps[number:])
            break
    return "/" + "/".join(out)


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
