"""What Alembic compares with the models (`include_name`, used by `migrations/env.py` and the
migrations test): not Procrastinate's tables (its job queue, made by a migration from its own
SQL, `server.jobs`), nor PostgreSQL partitions (their parent is the models' table,
`server.operations.partitions`), nor the objects by which each database guards R7 its own
way outside the models (`server.models.submissions`): on PostgreSQL the claims table
`submission_instances` and the foreign key submissions -> claims, on SQLite UNIQUE
(instance_id) on `submissions`.

A foreign key that refers to a partitioned table (`submissions`) is reflected once more per
partition, under a name PostgreSQL made (`attachments_submission_id_fkey3`): those copies are
PostgreSQL's, not the models' (whose foreign keys are all named `fk_...`,
`server.models.base.NAMING_CONVENTION`)."""

from __future__ import annotations

import re

from server.operations.partitions import is_partition_name

#: Database objects that exist on one backend only, on purpose (see the docstring).
_OUTSIDE_THE_MODELS = {
    ("table", "submission_instances"),
    ("foreign_key_constraint", "fk_submissions_instance_id_submission_instances"),
    ("unique_constraint", "uq_submissions_instance_id"),
}
_PARTITION_FOREIGN_KEY = re.compile(r"_fkey\d*$")


def include_name(name: str | None, type_: str, _parent_names) -> bool:
    if name is None:
        return True
    if (type_, name) in _OUTSIDE_THE_MODELS:
        return False
    if type_ == "foreign_key_constraint" and _PARTITION_FOREIGN_KEY.search(name):
        return False
    if type_ != "table":
        return True
    return not (name.startswith("procrastinate_") or is_partition_name(name))
