"""Form versions as ingest and OpenRosa use them: the parsed `FormModel` and its validator.

Reading an XForm into a `FormModel` takes about 10 ms and preparing its
validator a few more, while a worker receives thousands of submissions per
form. A stored version never changes (only its state does), so each worker
process reads a version once and keeps it, keyed by the version's id. The
state (published, closed) is read from the database each transaction. The
cache lives in the app (`app.extensions`): ids are only meaningful for the
app's database.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from forms.load import load_form
from forms.model import FormModel
from forms.poverty import media as poverty_media
from forms.validation import FormValidator
from server.db import db
from server.models import Form, FormState, FormVersion
from server.services.households import poverty
from server.services.memory import memory

#: Versions that accept submissions: closed ones too, so late tablets never lose data.
RECEIVING = (FormState.PUBLISHED, FormState.CLOSED)
_CACHE_SIZE = 128


@dataclass(frozen=True)
class LoadedForm:
    """A stored form version with its model, validator and where its places are answered."""

    version_id: int
    form_pk: int  # the form's row (`FormVersion.form_pk`): D4 compares submissions by it
    form_id: str
    version: str
    unit_id: int | None  # the admin unit the form belongs to (None: everyone)
    model: FormModel
    validator: FormValidator
    commune_path: str | None
    village_path: str | None

    @property
    def entity_dataset(self) -> str | None:
        return self.model.entity.dataset if self.model.entity else None


def _place_path(model: FormModel, name: str) -> str | None:
    """The path of the choice question called `name` outside any repeat (the place the form
    is about, answered with a code). A free-text "village" answer is a name, not a code."""
    for f in model.questions():
        if f.name == name and not f.in_repeat and f.datatype == "select_one":
            return f.path
    return None


def _load(version_id: int) -> LoadedForm:
    version = db.session.get(FormVersion, version_id)
    model = load_form(version.xform, "form.xml")
    poverty_media.attach(model, poverty.standards())  # the lines the tablet reads, server-side
    return LoadedForm(
        version_id=version_id,
        form_pk=version.form_pk,
        form_id=model.form_id,
        version=model.version,
        unit_id=version.form.unit_id,
        model=model,
        validator=FormValidator(model),
        commune_path=_place_path(model, "commune"),
        village_path=_place_path(model, "village"),
    )


def loaded(version_id: int) -> LoadedForm:
    """The loaded form of version `version_id` (read from the database on first use)."""
    return memory("forms", _CACHE_SIZE).get(version_id, lambda: _load(version_id))


_RECEIVING = (
    sa.select(FormVersion.id)
    .join(Form)
    .where(
        Form.form_id == sa.bindparam("form_id"),
        FormVersion.version == sa.bindparam("version"),
        FormVersion.state.in_(RECEIVING),
    )
)


def _receiving_id(form_id: str, version: str) -> int | None:
    params = {"form_id": form_id, "version": version}
    return db.session.connection().execute(_RECEIVING, params).scalar()


def receiving(form_id: str | None, version: str | None) -> LoadedForm | None:
    """The form version that submissions for (`form_id`, `version`) go to, or None.

    Drafts do not receive: a submission for one is kept in quarantine until
    the version is published (sync contract R5). A form without a version
    attribute matches the version stored as "".
    """
    if not form_id:
        return None
    # Once a version receives it always does (published and closed both receive, and
    # no version goes back to draft), so a found id is kept for the app's life.
    key = (form_id, version or "")
    version_id = memory("receiving", 10_000).get(key, lambda: _receiving_id(*key))
    return loaded(version_id) if version_id is not None else None
