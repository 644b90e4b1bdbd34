"""What tablets download: the forms a user may fill, their media and the entity lists they read.

Used by the OpenRosa form list and manifest. A form reads an entity list
when its XForm declares a CSV secondary instance named after a dataset that
forms create (`jr://file-csv/households.csv` for `households`); that file
is generated per user from the households in their scope, not uploaded. So is
the list of places a form reads (`jr://file-csv/places.csv`): the places the
user may register in, which the registration form's place questions offer.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from forms.poverty import media as poverty_media
from server.db import db
from server.models import Form, FormMedia, FormState, FormVersion, User
from server.services import txcache
from server.services.access import scope
from server.services.forms import loaded as form_models
from server.services.forms import places
from server.services.forms import publishing as forms
from server.services.households import lists as household_lists
from server.services.households import poverty

CSV_PREFIX = "jr://file-csv/"


@dataclass(frozen=True)
class EntityListFile:
    """A generated entity list a form reads: `filename` (households.csv), its MD5 and its
    content (None when only the MD5 was asked for: the manifest)."""

    dataset: str
    filename: str
    md5: str
    data: bytes | None = None


def listed_versions(user: User, form_id: str | None = None) -> list[FormVersion]:
    """The newest published version of each form `user` may see (Collect lists one per form)."""
    found = []
    for form, versions in forms.visible_forms(user, FormState.PUBLISHED):
        if form_id is None or form.form_id == form_id:
            found.append(versions[-1])  # ordered by id: the newest upload last
    return found


def version_for(user: User, form_id: str, version: str) -> FormVersion:
    """A published or closed version `user` may see; Problem 404.2 otherwise."""
    return forms.get_version(user, form_id, version)


def xform_bytes(version: FormVersion) -> bytes:
    """The XForm exactly as stored (its MD5 is the hash in the form list)."""
    return version.xform


def datasets() -> frozenset[str]:
    """The entity lists forms create (e.g. "households")."""

    def read() -> frozenset[str]:
        stmt = sa.select(FormVersion.entity_dataset).where(FormVersion.entity_dataset.is_not(None))
        return frozenset(db.session.scalars(stmt.distinct()))

    return txcache.remember("datasets", read)


def entity_lists_read(version: FormVersion) -> list[tuple[str, str]]:
    """(dataset, filename) of every entity list the form reads as a CSV attachment."""
    known = datasets()
    found = []
    for src in form_models.loaded(version.id).model.external_instances.values():
        if src.startswith(CSV_PREFIX):
            filename = src[len(CSV_PREFIX) :]
            dataset = filename.removesuffix(".csv")
            if dataset in known:
                found.append((dataset, filename))
    return sorted(set(found))


def entity_list_file(
    user: User, version: FormVersion, filename: str, *, body: bool = True
) -> EntityListFile | None:
    """The entity list `filename` for `user`, if the form reads one by that name (kept per
    scope: `household_lists.cached`); without `body`, only its MD5."""
    for dataset, name in entity_lists_read(version):
        if name == filename:
            kept = household_lists.cached(user, dataset, body=body)
            return EntityListFile(dataset, name, kept.md5, kept.data)
    return None


def place_lists_read(version: FormVersion) -> list[str]:
    """The file names of the generated lists the form reads besides entity lists: the places
    (`places.csv`) and the poverty lines of the deployment's standards (`poverty_lines.csv`)."""
    sources = form_models.loaded(version.id).model.external_instances.values()
    return [name for name in GENERATED if CSV_PREFIX + name in sources]


def place_list_file(user: User, version: FormVersion, filename: str) -> bytes | None:
    """The generated list `filename` for `user`, if the form reads one by that name."""
    if filename in place_lists_read(version):
        return GENERATED[filename](user)
    return None


#: The generated lists by file name, each made for the user who downloads it.
GENERATED = {
    places.PLACE_LIST: places.place_list,
    poverty_media.FILENAME: lambda _user: poverty_media.lines_csv(poverty.standards()),
}


def media(version: FormVersion) -> list[FormMedia]:
    """The uploaded media files of a version, by file name."""
    stmt = (
        sa.select(FormVersion)
        .where(FormVersion.id == version.id)
        .options(selectinload(FormVersion.media))
    )
    return list(db.session.scalar(stmt).media)


def media_file(version: FormVersion, filename: str) -> FormMedia | None:
    stmt = sa.select(FormMedia).where(
        FormMedia.form_version_id == version.id, FormMedia.filename == filename
    )
    return db.session.scalar(stmt)


def has_manifest(version: FormVersion) -> bool:
    """Whether the form list should offer a manifest: uploaded media or an entity list."""
    stmt = sa.select(FormMedia.id).where(FormMedia.form_version_id == version.id).limit(1)
    return (
        db.session.scalar(stmt) is not None
        or bool(entity_lists_read(version))
        or bool(place_lists_read(version))
    )


def may_read_dataset(user: User, dataset: str) -> bool:
    """Whether `user` may ask about `dataset` (the integrity check): a dataset of a visible form."""
    visible = scope.form_versions(user).join(Form).where(FormVersion.entity_dataset == dataset)
    return db.session.scalar(visible.with_only_columns(FormVersion.id).limit(1)) is not None
