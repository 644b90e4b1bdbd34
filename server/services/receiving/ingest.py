"""Ingest: every submission, from OpenRosa or the JSON sync API, is received here (R1-R8).

One path for both protocols: read the body (`forms.instance`: hostile XML is
refused and not kept), find the form version (published or closed), check
who may send it and for which place, hash the answers canonically
(`forms.canonical`), validate (`forms.validation`), then INSERT with a
database constraint as the guard (R7: UNIQUE instance_id on SQLite, the
claim in `submission_instances` on PostgreSQL; `ON CONFLICT DO NOTHING`, so
a known instanceID inserts nothing and spoils nothing). When the instanceID is
known, the stored record decides: same hash, a resend (R2: attachments it
lacks are added); another hash, a conflict (R3: quarantined, linked to the
stored record). An edit (`deprecatedID`) replaces the current version of
its record (R4). A submission that breaks its form is stored with its
issues and not applied to its household (R6). Whatever cannot be stored as
a submission (unknown form, unreadable body, outside the sender's area,
conflicts) is kept in quarantine with the reason, never dropped; see
`server.services.receiving.quarantine` for processing it later (R5). Everything
happens in the caller's transaction (R8).

Steps are public for `server.services.receiving.batch`, which runs a JSON push
batch through the same rules with grouped writes: `read_xml` / `read_item`
(read, writing nothing), `prepare` (every check, up to the INSERT), `store`
(the INSERT and the household effects), `accepted` / `already_stored` (the
receipt).

Throughput: form models are loaded once per process (`form_models`), places
and scopes come from memory (`submission_places`), the rest of what a batch
asks again and again once per transaction (`txcache`), and the writes are
Core statements on the session's connection (`ingest_store`: on PostgreSQL a
new submission, its payload and its audit row are one statement).
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from forms.canonical import answers_hash
from forms.errors import SubmissionError
from forms.instance import Submission as ParsedSubmission
from forms.instance import from_answers, parse_submission, to_answers
from forms.tree import Node
from forms.validation import ValidationResult
from server import i18n, json_codec
from server.models import Device, User
from server.problems import N_, Problem
from server.services import transactional
from server.services.duplicates import detection as dedup
from server.services.forms import loaded as form_models
from server.services.forms import places
from server.services.forms.loaded import LoadedForm
from server.services.households import versions as households
from server.services.monitoring import evidence as visit_evidence
from server.services.programme import ledger
from server.services.receiving import bounds
from server.services.receiving import store as ingest_store
from server.services.receiving.store import (
    Delivery,
    IncomingAttachment,
    Stale,
    StoredSubmission,
    add_attachments,
    insert_submission,
    keep_in_quarantine,
    review_state,
    stored_submission,
)

XML_TYPE = "text/xml"
JSON_TYPE = "application/json"
#: Parse errors that only an attack produces (no ODK client writes a DOCTYPE): refused
#: and not kept, so nobody opens the payload later.
HOSTILE = frozenset({"xml_doctype_forbidden"})
#: Element count and depth past the limits (`MAX_SUBMISSION_ELEMENTS`, `_DEPTH`): refused
#: and not kept, like an oversized body (issue 13, finding 4).
SHAPE_LIMITS = {"too_many_elements": "413.4", "xml_too_deep": "413.5"}
#: UUIDv5 namespace of instance IDs derived from content (submissions that carry none).
DERIVED_ID_NAMESPACE = uuid.UUID("0b8f3c0e-5d2a-4f7e-9d61-6a1c2e4b7f90")

__all__ = [
    "IncomingAttachment",
    "Receipt",
    "derived_instance_id",
    "receive_answers",
    "receive_xml",
]


@dataclass
class Receipt:
    """What happened to one submission, and what the protocol answers (see the sync contract).

    `result`: accepted | duplicate | conflict | invalid | quarantined, or
    refused (too large, or hostile XML: nothing stored). `status` is the OpenRosa status:
    201 accepted/invalid, 202 duplicate, 409 conflict, 404/403/400
    quarantined, 413 refused.
    """

    result: str
    status: int
    instance_id: str | None = None
    submission_id: int | None = None
    quarantine_id: int | None = None
    review_state: str | None = None
    problem: Problem | None = None
    issues: list[dict] = field(default_factory=list)
    received_at: dt.datetime | None = None
    household_id: str | None = None
    household_version: int | None = None
    attachments_added: int = 0

    @property
    def stored(self) -> bool:
        """Whether the submission is on the server as a submission (new or earlier)."""
        return self.result in ("accepted", "duplicate", "invalid")


def derived_instance_id(digest: str) -> str:
    """A stable instanceID for a submission that has none: the same answers, the same id.

    A random one would make every resend a new record (odk-interop.md).
    """
    return f"uuid:{uuid.uuid5(DERIVED_ID_NAMESPACE, digest)}"


@transactional
def receive_xml(
    xml: bytes,
    *,
    user: User,
    device: Device | None = None,
    attachments: Iterable[IncomingAttachment] = (),
    incomplete: bool = False,
    device_time: dt.datetime | str | None = None,
    clock_offset_ms: float | None = None,
    lang: str = "vi",
) -> Receipt:
    """Receive submission XML (OpenRosa, or the `xml` of a JSON push item).

    `incomplete` marks one POST of a submission split over several (Collect's
    `*isIncomplete*`): its attachments accumulate on the same instance. `lang` is the
    sender's language (vi or en), kept with anything quarantined.
    """
    delivery = Delivery(
        user,
        device,
        bytes(xml),
        XML_TYPE,
        tuple(attachments),
        incomplete,
        _time(device_time),
        _number(clock_offset_ms),
        lang,
    )
    return _receive_xml(delivery)


@transactional
def receive_answers(
    item: Mapping[str, Any], *, user: User, device: Device | None = None, lang: str = "vi"
) -> Receipt:
    """Receive one JSON push item: `{"instance_id", "form_id", "version", "deprecated_id",
    "answers", "device_time", "clock_offset_ms"}` or `{"xml": "..."}`."""
    return _receive_item(item, delivery_of_item(item, user, device, lang))


def keep_unprocessable(
    item: Any, *, user: User, device: Device | None = None, lang: str = "vi"
) -> Receipt:
    """Keep a push item that failed for a reason that is not transient (a server fault, a
    value nothing checked) in quarantine, as received, with a final answer (400.14).

    The last resort of issue 13, finding 1: nothing a cadre sent is lost or stuck in a
    retry loop. The caller runs it in its own SAVEPOINT, after the failed one.
    """
    is_map = isinstance(item, Mapping)
    d = Delivery(user, device, _json_bytes(item), JSON_TYPE, lang=lang)
    instance_id = item.get("instance_id") if is_map else None
    form_id = item.get("form_id") if is_map else None
    version = item.get("version") if is_map else None
    return _quarantine(
        d,
        Problem("400.14"),
        instance_id=instance_id if isinstance(instance_id, str) else None,
        form_ref=(
            form_id if isinstance(form_id, str) else None,
            None if version is None else str(version),
        ),
    )


def delivery_of_item(item: Any, user: User, device: Device | None, lang: str) -> Delivery:
    """The delivery of one JSON push item: its bytes as they will be kept, its device clock."""
    is_map = isinstance(item, Mapping)
    return Delivery(
        user,
        device,
        _json_bytes(item),
        JSON_TYPE,
        device_time=_time(item.get("device_time")) if is_map else None,
        clock_offset_ms=_number(item.get("clock_offset_ms")) if is_map else None,
        lang=lang,
    )


@dataclass(frozen=True)
class Unreadable:
    """Why a delivery cannot be read, as reading found it: `kept()` puts it in quarantine.

    Reading writes nothing, so a push batch is read before its transaction
    takes the write lock (`ingest_batch.read_batch`).
    """

    problem: Problem
    instance_id: str | None = None
    form_ref: tuple[str | None, str | None] | None = None

    def kept(self, d: Delivery) -> Receipt:
        return _quarantine(d, self.problem, instance_id=self.instance_id, form_ref=self.form_ref)


def _receive_xml(d: Delivery) -> Receipt:
    readable = readable_xml(d)
    return readable if isinstance(readable, Receipt) else _receive(readable, d)


def readable_xml(d: Delivery) -> ParsedSubmission | Receipt:
    """The parsed XML of a delivery, or the receipt of a body that cannot be read."""
    read = read_xml(d)
    return read.kept(d) if isinstance(read, Unreadable) else read


def read_xml(d: Delivery) -> ParsedSubmission | Receipt | Unreadable:
    """The parsed XML of a delivery; a refusal receipt (nothing is kept of hostile or
    oversized bodies); or why it cannot be read (kept in quarantine). Writes nothing."""
    limit = current_app.config["MAX_SUBMISSION_BYTES"]
    if len(d.payload) + sum(len(a.data) for a in d.attachments) > limit:
        return Receipt("refused", 413, problem=Problem("413.1", limit=limit))
    config = current_app.config
    try:
        parsed = parse_submission(
            d.payload,
            max_bytes=limit,
            max_elements=config["MAX_SUBMISSION_ELEMENTS"],
            max_depth=config["MAX_SUBMISSION_DEPTH"],
        )
    except SubmissionError as exc:
        if exc.code in HOSTILE:
            problem = Problem("400.9", reason=exc.message, reason_vi=exc.message_vi)
            return Receipt("refused", 400, problem=problem)
        if exc.code in SHAPE_LIMITS:  # refused in the streaming count, before any work
            problem = Problem(SHAPE_LIMITS[exc.code], limit=_shape_limit(exc.code))
            return Receipt("refused", problem.status, problem=problem)
        code = "413.2" if exc.status == 413 else "400.7"
        return Unreadable(Problem(code, reason=exc.message, reason_vi=exc.message_vi))
    return _bounded(parsed)


def _shape_limit(code: str) -> int:
    key = "MAX_SUBMISSION_ELEMENTS" if code == "too_many_elements" else "MAX_SUBMISSION_DEPTH"
    return current_app.config[key]


def _bounded(parsed: ParsedSubmission) -> ParsedSubmission | Unreadable:
    """The parsed submission, or why its identity cannot be stored (`bounds`: 400.10-400.13)."""
    problem = bounds.parsed_problem(parsed)
    if problem is None:
        return parsed
    parsed.root.release()
    return Unreadable(problem, parsed.instance_id, (parsed.form_id, parsed.version))


def _receive_item(item: Any, d: Delivery) -> Receipt:
    read = read_item(item, d)
    if isinstance(read, Unreadable):
        return read.kept(d)
    if isinstance(read, Receipt):
        return read
    parsed, form = read
    return _receive(parsed, d, form)


def read_item(
    item: Any, d: Delivery
) -> tuple[ParsedSubmission, LoadedForm | None] | Receipt | Unreadable:
    """The submission a JSON push item carries (and its form when known), a refusal
    receipt, or why it cannot be read. Writes nothing."""
    if not isinstance(item, Mapping):
        return Unreadable(_unreadable(N_("a push item must be a JSON object.")))
    form_id, version, answers = item.get("form_id"), item.get("version"), item.get("answers")
    version = None if version is None else str(version)
    instance_id = item.get("instance_id") if isinstance(item.get("instance_id"), str) else None
    # Before any work: kept as received, a final answer. The payload (the item as written
    # by `_json_bytes`, unless it is a quarantined one run again) speeds up the check.
    problem = bounds.item_problem(item, d.payload if d.requeued is None else None)
    if problem is not None and problem.status == 413:
        return Receipt("refused", 413, instance_id, problem=problem)
    if problem is not None:
        form_ref = (form_id if isinstance(form_id, str) else None, version)
        return Unreadable(problem, instance_id, form_ref)
    if isinstance(item.get("xml"), str):
        try:
            d.payload, d.content_type = item["xml"].encode("utf-8"), XML_TYPE
        except UnicodeEncodeError:  # a lone surrogate: kept as the JSON it came in
            return Unreadable(Problem("400.11", field="xml"), instance_id)
        read = read_xml(d)
        return read if isinstance(read, Receipt | Unreadable) else (read, None)
    if not isinstance(form_id, str) or not isinstance(answers, Mapping):
        return Unreadable(_unreadable(N_("a push item needs 'form_id' and 'answers'.")))
    form = form_models.receiving(form_id, version)
    if form is None:
        problem = Problem("404.5", form_id=form_id, version=version or "")
        return Unreadable(problem, instance_id, (form_id, version))
    entities: list[Node] = []  # noted while the tree is built: `from_root` need not walk it
    try:
        root = from_answers(answers, form.model, entities=entities)
        _fill_meta(root, item)
    except SubmissionError as exc:
        problem = Problem("400.7", reason=exc.message, reason_vi=exc.message_vi)
        return Unreadable(problem, instance_id, (form_id, version))
    read = _bounded(ParsedSubmission.from_root(root, raw=d.payload, entity_nodes=entities))
    return read if isinstance(read, Unreadable) else (read, form)


def _fill_meta(root: Node, item: Mapping[str, Any]) -> None:
    """Put the item's instance_id / deprecated_id in `meta`, as the XML of the same visit has them.

    Raises SubmissionError when the item and its answers name different ids.
    """
    meta = root.child("meta") or root.append(Node("meta"))
    for key, tag in (("instance_id", "instanceID"), ("deprecated_id", "deprecatedID")):
        given = item.get(key)
        if not isinstance(given, str) or not given.strip():
            continue
        node = meta.child(tag)
        if node is None:
            meta.append(Node(tag, given.strip()))
        elif node.text.strip() != given.strip():
            values = f"{given!r}, meta/{tag} {node.text.strip()!r}"
            message = N_("'%(key)s' differs from meta/%(tag)s in the answers: %(values)s.")
            params = {"key": key, "tag": tag, "values": values}
            raise SubmissionError(
                "ids_differ", message % params, i18n.gettext(message, "vi") % params
            )


@dataclass
class Prepared:
    """A readable submission checked up to its INSERT: what the writes need."""

    parsed: ParsedSubmission
    d: Delivery
    form: LoadedForm
    digest: str
    instance_id: str
    previous: StoredSubmission | None
    household: households.HouseholdState | None
    place: places.Place
    validation: Any
    answers: dict | None = None  # the stored answers document, when the caller made it
    fingerprint: str | None = None  # of `answers` for D4, when the caller made it

    @property
    def entity(self):
        return self.parsed.entity if self.form.model.entity is not None else None


def _receive(parsed: ParsedSubmission, d: Delivery, form: LoadedForm | None = None) -> Receipt:
    """The rules, in order, for a readable submission."""
    try:
        prepared = prepare(parsed, d, form)
        return prepared if isinstance(prepared, Receipt) else store(prepared)
    finally:
        parsed.root.release()  # freed now, not by the cyclic collector (`Node.release`)


def prepare(
    parsed: ParsedSubmission,
    d: Delivery,
    form: LoadedForm | None = None,
    digest: str | None = None,
    locked: dict[str, households.HouseholdState | None] | None = None,
    validation: ValidationResult | None = None,
) -> Prepared | Receipt:
    """Everything before the INSERT: form, rights, identity, edit checks, place, validation.

    `locked` holds household rows a batch already read and locked (by id);
    `validation`, the result of validating `parsed` against `form` when the
    caller already has it.
    """
    form = form or form_models.receiving(parsed.form_id, parsed.version)
    if form is None:
        problem = Problem("404.5", form_id=parsed.form_id or "?", version=parsed.version or "")
        return _quarantine(d, problem, parsed)
    if not places.may_submit(d.user, form):
        return _quarantine(d, Problem("403.4", form_id=form.form_id), parsed)
    digest = digest or answers_hash(parsed.root)
    instance_id = parsed.instance_id or derived_instance_id(digest)
    previous = None
    if parsed.deprecated_id:
        # A resend of an edit is a resend (R2), even once it made its predecessor superseded.
        stored = stored_submission(instance_id)
        if stored is not None:
            return already_stored(stored, digest, parsed, d, instance_id)
        previous = stored_submission(parsed.deprecated_id)
        if previous is None:
            problem = Problem("404.4", deprecated_id=parsed.deprecated_id)
            return _quarantine(d, problem, parsed, instance_id)
        if previous.superseded:
            problem = Problem("409.4", deprecated_id=parsed.deprecated_id)
            return _quarantine(d, problem, parsed, instance_id, linked=previous.id)
    entity = parsed.entity if form.model.entity is not None else None
    household = None
    if entity is not None and entity.id and entity.update:
        key = households.normalise_id(entity.id)
        if locked is not None and key in locked:
            household = locked[key]
        else:
            household = households.current(key, lock=True)
    place = places.resolve(form, parsed.root, household, d.user)
    if not places.allowed(d.user, place):
        return _quarantine(d, places.refusal(place), parsed, instance_id)
    if validation is None:
        validation = form.validator.validate(parsed.root)
    return Prepared(parsed, d, form, digest, instance_id, previous, household, place, validation)


def store(p: Prepared) -> Receipt:
    """The INSERT guarded by the unique instanceID, then the household effects (R1-R4)."""
    applies = p.validation.ok and p.entity is not None
    # A new record with no household effect: its audit row is known now and goes with the
    # INSERT (on PostgreSQL in the same statement).
    audit = None if applies or p.previous is not None else receive_audit(p, None)
    answers = p.answers if p.answers is not None else to_answers(p.parsed.root, p.form.model)
    try:
        submission = insert_submission(
            p.d,
            p.form,
            p.parsed,
            p.instance_id,
            p.digest,
            p.validation,
            p.place,
            p.previous,
            answers=answers,
            audit=audit,
        )
    except Stale:
        problem = Problem("409.4", deprecated_id=p.parsed.deprecated_id)
        return _quarantine(p.d, problem, p.parsed, p.instance_id, linked=p.previous.id)
    if submission is None:  # the unique instanceID: it is already here (R2, R3, R7)
        stored = stored_submission(p.instance_id)
        return already_stored(stored, p.digest, p.parsed, p.d, p.instance_id)
    effect = None
    if applies:
        props, label = entity_values(p)
        if p.previous is not None:
            effect = households.replace_edit(
                p.previous.id, submission.id, p.entity, props, label, p.place
            )
        else:
            applied: list[tuple[int, str]] = []
            effect = households.apply(
                submission.id, p.entity, props, label, p.place, p.household, applied=applied
            )
            if applied:  # D4 from what is in hand, not read back
                dedup.double_entry_of(d4_facts(p, submission, applied[0][1], answers))
    ledger.write_form_entries(support_rows(p, submission, effect, answers))
    return accepted(p, submission, effect, audited=audit is not None, answers=answers)


def d4_facts(
    p: Prepared, submission: StoredSubmission, household_id: str, answers: dict
) -> dedup.Facts:
    """What D4 compares of a new submission applied to `household_id`."""
    return dedup.Facts(
        submission_id=submission.id,
        household_id=household_id,
        root_id=submission.root_id,
        form_pk=p.form.form_pk,
        submitter_id=p.d.user.id,
        at=p.d.device_time or submission.received_at,
        commune_id=p.place.commune_id,
        answers=answers,
    )


def support_rows(p: Prepared, submission: StoredSubmission, effect, answers: dict) -> list[dict]:
    """The ledger entries of a new valid submission's support repeat (`ledger.form_entry_rows`);
    an invalid one's are written when a reviewer accepts it (`households.accept`)."""
    if not p.validation.ok or not answers.get("support"):
        return []
    return ledger.form_entry_rows(
        answers,
        submission_id=submission.id,
        submitter=p.d.user,
        household_id=effect.household_id if effect else None,
        commune_id=p.place.commune_id,
        village_id=p.place.village_id,
        received_on=submission.received_at.date() if submission.received_at else None,
    )


def entity_values(p: Prepared) -> tuple[dict[str, str], str | None]:
    """The entity properties and label a valid submission saves."""
    computed = p.validation.computed
    return (
        households.properties_of(p.form, p.parsed.root, computed),
        households.label_of(p.form, p.entity, computed),
    )


def accepted(
    p: Prepared,
    submission: StoredSubmission,
    effect,
    audit_rows: list[dict] | None = None,
    *,
    audited: bool = False,
    answers: dict | None = None,
    evidence_rows: list[dict] | None = None,
) -> Receipt:
    """Attachments, the audit row, a visit's evidence and the receipt of a newly stored
    submission.

    With `audit_rows` (`evidence_rows`), the audit row (the visit's evidence) is added to
    that list for the caller to write with the others of its batch
    (`ingest_store.write_audit`, `visit_evidence.write`); `audited`: the INSERT wrote it
    already. `answers`: the stored answers document, when the caller has it.
    """
    added = add_attachments(submission.id, p.d.attachments, p.d.user)
    evidence = evidence_row(p, submission, effect, answers)
    together = []  # written in one statement on PostgreSQL (`insert_together`)
    if evidence is not None and evidence_rows is not None:
        evidence_rows.append(evidence)
    elif evidence is not None:
        together += visit_evidence.inserts([evidence])
    if not audited:
        row = ingest_store.audit_row(
            p.d.user, "submission.receive", submission.id, **receive_audit(p, effect)
        )
        if audit_rows is None:
            together.append((ingest_store.AUDIT, [row], None))
        else:
            audit_rows.append(row)
    ingest_store.insert_together(together)
    return Receipt(
        "accepted" if p.validation.ok else "invalid",
        201,
        submission.instance_id,
        submission.id,
        review_state=submission.review_state,
        issues=submission.issues or [],
        received_at=submission.received_at,
        household_id=effect.household_id if effect else None,
        household_version=effect.version if effect else None,
        attachments_added=added,
    )


def evidence_row(p: Prepared, submission: StoredSubmission, effect, answers) -> dict | None:
    """The monitoring evidence of a new visit (`visit_evidence`), None for other forms."""
    if not visit_evidence.is_visit(p.form.model):
        return None
    if answers is None:
        answers = p.answers if p.answers is not None else to_answers(p.parsed.root, p.form.model)
    entity = p.entity
    household_id = effect.household_id if effect else None
    if household_id is None and entity is not None and entity.id:
        household_id = households.normalise_id(entity.id)
    offset = p.d.clock_offset_ms
    return visit_evidence.row_of_delivery(
        submission_id=submission.id,
        model=p.form.model,
        answers=answers,
        household_id=household_id,
        household_properties=p.household.properties if p.household else None,
        user_id=p.d.user.id,
        device_id=p.d.device.id if p.d.device is not None else None,
        commune_id=p.place.commune_id,
        village_id=p.place.village_id,
        received_at=submission.received_at,
        clock_offset_seconds=offset / 1000 if offset is not None else None,
        parts=p.d.attachments,
    )


def receive_audit(p: Prepared, effect) -> dict:
    """The details of the audit row of a received submission."""
    return {
        "instance_id": p.instance_id,
        "form_id": p.form.form_id,
        "version": p.form.version,
        "review_state": review_state(p.validation).value,
        "replaces": p.parsed.deprecated_id,
        "household": effect.household_id if effect else None,
        "household_version": effect.version if effect else None,
        "held_for_merge": effect.held if effect else None,
    }


def already_stored(
    stored: StoredSubmission, digest: str, parsed: ParsedSubmission, d: Delivery, instance_id: str
) -> Receipt:
    """The instanceID is known: a resend (R2) or a conflicting resend (R3)."""
    if stored.canonical_hash != digest:
        problem = Problem("409.3", instance_id=instance_id)
        return _quarantine(d, problem, parsed, instance_id, linked=stored.id)
    added = add_attachments(stored.id, d.attachments, d.user)
    if added and visit_evidence.audit_part(d.attachments) is not None:
        visit_evidence.refresh(stored.id)  # the audit log came in a later POST of the visit
    return Receipt(
        "duplicate",
        202,
        stored.instance_id,
        stored.id,
        review_state=stored.review_state,
        issues=stored.issues or [],
        received_at=stored.received_at,
        attachments_added=added,
    )


def _quarantine(
    d: Delivery,
    problem: Problem,
    parsed: ParsedSubmission | None = None,
    instance_id: str | None = None,
    *,
    linked: int | None = None,
    form_ref: tuple[str | None, str | None] | None = None,
) -> Receipt:
    """Keep what could not be stored as a submission, with why; answer with the problem."""
    form_id, version = form_ref or ((parsed.form_id, parsed.version) if parsed else (None, None))
    instance_id = instance_id or (parsed.instance_id if parsed else None)
    if d.requeued is not None:
        item_id = d.requeued.id
    else:
        item_id = keep_in_quarantine(d, problem, instance_id, form_id, version, linked).id
    result = "conflict" if problem.status == 409 else "quarantined"
    return Receipt(result, problem.status, instance_id, linked, item_id, problem=problem)


def _unreadable(reason: str) -> Problem:
    """400.7 for a push item that is not one: `reason` is a message id (marked with `N_`)."""
    return Problem("400.7", reason=reason)


def _json_bytes(item: Any) -> bytes:
    """The item as it will be kept: compact UTF-8 JSON (anything unserialisable as text)."""
    return json_codec.dumps(item, default=str)


def _time(value: dt.datetime | str | None) -> dt.datetime | None:
    """A device time in UTC (naive ones are taken as UTC); None if unreadable."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    try:
        utc = value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    except (OverflowError, ValueError):  # 0001-01-01T00:00:00+14:00: see `bounds`
        return None
    return utc if bounds.EARLIEST <= utc <= bounds.LATEST else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an int beyond any float: see `bounds`
        return None
    return number if math.isfinite(number) else None
