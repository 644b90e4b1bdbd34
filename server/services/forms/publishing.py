"""Forms management: upload (XLSForm or XForm) as a draft, publish, close; keep every version.

Uploads go through `forms.load_form`, the one path from a file to a form
model, so what the server stores is exactly what it will validate against.
A version, once uploaded, never changes: uploading the same form id and
version again is accepted only if the XForm is identical.

`actor=None` means the system itself (commands loading the shipped forms):
no role or scope check applies. Views always pass the signed-in user.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path, PurePath

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import contains_eager

import forms.errors
from forms.errors import FormError
from forms.load import load_form
from server.db import db
from server.models import AdminUnit, Form, FormState, FormVersion, User
from server.models.base import utcnow
from server.problems import N_, Problem
from server.services import audit, transactional
from server.services.access import scope
from server.services.sync import changes

FORM_SUFFIXES = frozenset({".xlsx", ".xls", ".csv", ".md", ".xml"})
# Located through a module file: the package itself may be a namespace in an editable install.
LIBRARY_DIR = Path(forms.errors.__file__).resolve().parent / "library"

#: The words of 409.2 for a version's state and the change asked. Dotted ids: "published"
#: is one word in English but not in Vietnamese ("đã phát hành" as a state, "phát hành" as
#: an action).
STATE_WORDS = {
    FormState.DRAFT: N_("form_state.draft"),
    FormState.PUBLISHED: N_("form_state.published"),
    FormState.CLOSED: N_("form_state.closed"),
}
_ACTION_WORDS = {"published": N_("form_action.published"), "closed": N_("form_action.closed")}


@dataclass
class UploadResult:
    version: FormVersion
    created: bool  # False when the same version was already there, unchanged


def _read_form(data: bytes, filename: str):
    """The form model of an uploaded file, or Problem 400.4 listing every form problem."""
    if PurePath(filename).suffix.lower() not in FORM_SUFFIXES:
        raise Problem("400.5", filename=filename)
    limit = current_app.config["MAX_FORM_BYTES"]
    if len(data) > limit:
        raise Problem("413.1", limit=limit)
    try:
        return load_form(data, filename)
    except FormError as exc:
        raise Problem(
            "400.4",
            details={"problems": [p.to_dict() for p in exc.problems]},
            count=len(exc.problems),
        ) from None


def find_version(form_id: str, version: str) -> FormVersion | None:
    """The stored version `version` of `form_id`, or None."""
    stmt = (
        sa.select(FormVersion)
        .join(Form)
        .where(Form.form_id == form_id, FormVersion.version == version)
    )
    return db.session.scalar(stmt)


def get_version(user: User, form_id: str, version: str) -> FormVersion:
    """The version, if `user` may see it; else Problem 404.2 (not 403: never confirm it exists)."""
    stmt = (
        scope.form_versions(user)
        .join(Form)
        .where(Form.form_id == form_id, FormVersion.version == version)
    )
    found = db.session.scalar(stmt)
    if found is None:
        raise Problem("404.2", form_id=form_id, version=version)
    return found


def get_form(user: User, form_id: str) -> tuple[Form, list[FormVersion]]:
    """Form `form_id` and the versions of it `user` may see (oldest first); Problem 404.3 when
    they may see none of it (the same answer as for a form that does not exist)."""
    stmt = (
        scope.form_versions(user)
        .join(Form)
        .where(Form.form_id == form_id)
        .order_by(FormVersion.id)
        .options(contains_eager(FormVersion.form).joinedload(Form.unit))
    )
    versions = list(db.session.scalars(stmt))
    if not versions:
        raise Problem("404.3", form_id=form_id)
    return versions[0].form, versions


def _form_for(model, actor: User | None, unit: AdminUnit | None) -> Form:
    """The `Form` row for an upload (new, unsaved on first upload); checks who may add to it."""
    form = db.session.scalar(sa.select(Form).where(Form.form_id == model.form_id))
    if form is None:
        return Form(form_id=model.form_id, title=model.title, unit=unit, created_by_id=_id(actor))
    if actor is None:
        return form
    if form.unit is not None:
        scope.require_unit(actor, form.unit)
    elif not scope.is_admin(actor):
        raise Problem("403.2", what=model.form_id)
    return form


@transactional
def upload(
    data: bytes, filename: str, actor: User | None, unit: AdminUnit | None = None
) -> UploadResult:
    """Store an uploaded form file as a draft version.

    `unit` limits who sees a new form; it defaults to the uploader's single
    assigned unit, and only an admin may upload a form for everyone.
    """
    if actor is not None:
        scope.require_role(actor, *scope.FORM_MANAGERS)
        unit = _upload_unit(actor, unit)
    model = _read_form(data, filename)
    form = _form_for(model, actor, unit)
    md5 = hashlib.md5(model.xform, usedforsecurity=False).hexdigest()
    existing = find_version(model.form_id, model.version) if form.id is not None else None
    if existing is not None:
        if existing.md5 != md5:
            raise Problem("409.1", form_id=model.form_id, version=model.version)
        return UploadResult(existing, created=False)
    form.title = model.title  # the newest upload names the form
    version = FormVersion(
        form=form,
        version=model.version,
        title=model.title,
        md5=md5,
        xform=model.xform,
        source=data,
        source_filename=PurePath(filename).name,
        created_by_id=_id(actor),
        entity_dataset=model.entity.dataset if model.entity else None,
    )
    db.session.add(version)
    audit.record(
        actor,
        "form.upload",
        version,
        form_id=model.form_id,
        version=model.version,
        warnings=[str(w) for w in model.warnings],
    )
    return UploadResult(version, created=True)


def _id(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


def _upload_unit(actor: User, unit: AdminUnit | None) -> AdminUnit | None:
    if unit is not None:
        scope.require_unit(actor, unit)
        return unit
    if scope.is_admin(actor):
        return None
    if len(actor.units) != 1:
        raise Problem("400.2", field="unit")
    return actor.units[0]


def _transition(
    actor: User | None, form_id: str, version: str, target: FormState, allowed_from: set[FormState]
) -> FormVersion:
    if actor is None:
        found = find_version(form_id, version)
        if found is None:
            raise Problem("404.2", form_id=form_id, version=version)
    else:
        scope.require_role(actor, *scope.FORM_MANAGERS)
        found = get_version(actor, form_id, version)
        if found.form.unit is not None:
            scope.require_unit(actor, found.form.unit)
    if found.state == target:
        return found
    if found.state not in allowed_from:
        raise Problem(
            "409.2",
            form_id=form_id,
            version=version,
            state=STATE_WORDS[found.state],
            action=_ACTION_WORDS[target.value],
        )
    found.state = target
    now = utcnow()
    if target == FormState.PUBLISHED:
        found.published_at, found.closed_at = now, None
    else:
        found.closed_at = now
    audit.record(actor, f"form.{target.value}", found, form_id=form_id, version=version)
    changes.record("form_version", str(found.id), "update", found.form.unit_id)
    return found


@transactional
def publish(actor: User | None, form_id: str, version: str) -> FormVersion:
    """Make a draft (or reopen a closed) version available to tablets.

    Submissions kept in quarantine because this version was unknown are
    processed now, in the same transaction (sync contract R5).
    """
    from server.services.receiving import quarantine  # it reads forms: imported when needed

    found = _transition(
        actor, form_id, version, FormState.PUBLISHED, {FormState.DRAFT, FormState.CLOSED}
    )
    quarantine.reprocess_form_version(form_id, version, actor)
    return found


@transactional
def close(actor: User | None, form_id: str, version: str) -> FormVersion:
    """Stop offering a published version; its submissions stay and late ones are still kept."""
    return _transition(actor, form_id, version, FormState.CLOSED, {FormState.PUBLISHED})


def visible_forms(
    user: User, state: FormState | None = None
) -> list[tuple[Form, list[FormVersion]]]:
    """The forms `user` may see with their visible versions (optionally one state), by form id."""
    stmt = (
        scope.form_versions(user)
        .join(Form)
        .order_by(Form.form_id, FormVersion.id)
        .options(contains_eager(FormVersion.form).joinedload(Form.unit))
    )
    if state is not None:
        stmt = stmt.where(FormVersion.state == state)
    return _grouped(stmt)


def every_form() -> list[tuple[Form, list[FormVersion]]]:
    """Every form with every version, by form id: what the operator's command lists."""
    stmt = (
        sa.select(FormVersion)
        .join(Form)
        .order_by(Form.form_id, FormVersion.id)
        .options(contains_eager(FormVersion.form))
    )
    return _grouped(stmt)


def _grouped(stmt: sa.Select) -> list[tuple[Form, list[FormVersion]]]:
    grouped: dict[int, tuple[Form, list[FormVersion]]] = {}
    for version in db.session.scalars(stmt):
        grouped.setdefault(version.form_pk, (version.form, []))[1].append(version)
    return list(grouped.values())


def library_files() -> list[Path]:
    """The forms the project ships, in a stable order."""
    return sorted(LIBRARY_DIR.glob("*.xlsx"))


def _already_loaded(path: Path, data: bytes) -> bool:
    """Whether this exact file was uploaded before (saves converting it on every start)."""
    stmt = sa.select(FormVersion.id).where(
        FormVersion.source_filename == path.name, FormVersion.source == data
    )
    return db.session.scalar(stmt.limit(1)) is not None


@transactional
def load_library(actor: User | None = None) -> list[FormVersion]:
    """Upload and publish every shipped form not loaded yet; loaded ones are left as they are."""
    loaded = []
    for path in library_files():
        data = path.read_bytes()
        if _already_loaded(path, data):
            continue
        result = upload(data, path.name, actor)
        if result.created:
            publish(actor, result.version.form.form_id, result.version.version)
        loaded.append(result.version)
    return loaded
