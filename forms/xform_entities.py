"""Entity declarations (ODK entities spec) read from a form's fields.

A form declares an entity with a `meta/entity` element (inside a repeat from
spec 2025.1) whose attributes and `label` child get their values from binds
and `setvalue` actions, and saves properties with `entities:saveto` binds.
"""

from __future__ import annotations

import re

from forms.errors import FormProblem, form_problem
from forms.model import EntityDeclaration, Field
from forms.xpath import Expr

ENTITIES_SUPPORTED = (2025, 1)
_VERSION_RE = re.compile(r"^(\d{4})\.(\d+)(?:\.(\d+))?$")


def read_entities(
    version: str, entity_paths: dict[str, str], fields: dict[str, Field]
) -> tuple[list[EntityDeclaration], list[FormProblem]]:
    """Declarations for the entity elements at `entity_paths` (path → dataset).

    Spec versions up to 2025.1 (any patch) are understood; a newer or
    unreadable version is refused, since its meaning cannot be guessed.
    """
    if not entity_paths:
        return [], []
    match = _VERSION_RE.match(version)
    if version and (not match or (int(match[1]), int(match[2])) > ENTITIES_SUPPORTED):
        supported = ".".join(map(str, ENTITIES_SUPPORTED))
        return [], [form_problem("entities.version", version=version, supported=supported)]
    problems = [
        form_problem("entities.declaration", field=path, detail="no dataset attribute")
        for path, dataset in entity_paths.items()
        if not dataset
    ]
    scopes = {p: p.rsplit("/meta/", 1)[0] for p in entity_paths}
    entities = [
        _entity(path, dataset, version, fields, scopes) for path, dataset in entity_paths.items()
    ]
    return entities, problems


def _entity(path, dataset, version, fields, scopes) -> EntityDeclaration:
    def value(name: str) -> Expr | None:
        """The bind calculate of a part, else its first-load setvalue (a new entity's uuid())."""
        f = fields.get(f"{path}/@{name}") or fields.get(f"{path}/{name}")
        if f is None:
            return None
        first_load = [s.value for s in f.setvalues if s.value is not None]
        return f.calculate or (first_load[0] if first_load else None)

    def static(name: str) -> bool:
        f = fields.get(f"{path}/@{name}")
        return f is not None and f.calculate is None and (f.default or "") in ("1", "true")

    return EntityDeclaration(
        dataset=dataset,
        spec_version=version,
        path=path,
        create_if=value("create"),
        update_if=value("update"),
        entity_id=value("id"),
        label=value("label"),
        base_version=value("baseVersion"),
        trunk_version=value("trunkVersion"),
        branch_id=value("branchId"),
        properties=_properties(scopes[path], fields, scopes),
        static_create=static("create"),
        static_update=static("update"),
    )


def _properties(scope: str, fields: dict[str, Field], scopes: dict[str, str]) -> dict[str, str]:
    """Saved properties in `scope`: saveto binds below it and not below a nearer entity."""
    props = {}
    for f in fields.values():
        if not f.saveto or not f.path.startswith(scope + "/"):
            continue
        nearest = max((s for s in scopes.values() if f.path.startswith(s + "/")), key=len)
        if nearest == scope:
            props[f.saveto] = f.path
    return props
