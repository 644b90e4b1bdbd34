"""What Alembic compares with the models (`include_name`, used by `migrations/env.py` and the
migrations test): not Procrastinate's tables (its job queue, made by a migration from its own
SQL, `server.jobs`), nor PostgreSQL partitions (their parent is the models' table,
`server.operations.partitions`)."""

from __future__ import annotations

from server.operations.partitions import is_partition_name


def include_name(name: str | None, type_: str, _parent_names) -> bool:
    if type_ != "table" or name is None:
        return True
    return not (name.startswith("procrastinate_") or is_partition_name(name))
