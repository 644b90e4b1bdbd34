"""The batch tasks, by name: each a thin call into its service (which owns its transactions).

Periodic ones carry their cron line: a Procrastinate worker defers them itself; without one
(the laptop), `giupho periodic` from cron does the same work.
"""

from __future__ import annotations

from server.jobs.registry import task
from server.operations import partitions
from server.services.households import periodic
from server.services.households import rebuild as household_rebuild
from server.services.receiving import uploads
from server.services.reports import jobs as export_jobs


@task("exports.run")
def export(job_id: int) -> None:
    """Make the file of an export job (`server.services.reports.jobs`)."""
    export_jobs.run(job_id)


@task("households.rebuild_commune")
def rebuild_commune(commune_key: int, batch_size: int = household_rebuild.BATCH) -> int:
    """Rebuild one commune's households from its checkpoint on; the differences found."""
    return len(household_rebuild.rebuild_commune(commune_key, batch_size))


@task("households.release", cron="5 * * * *")
def release() -> int:
    """Apply the held household updates whose wait is over (H5), hourly."""
    return periodic.release_in_batches()


@task("duplicates.recheck", cron="15 * * * *")
def recheck(hours: float = periodic.RECHECK_HOURS) -> int:
    """Look again for duplicates of the last day's registrations (D2), hourly."""
    return periodic.recheck(hours)


@task("partitions.ensure", cron="35 2 * * *")
def ensure_partitions() -> int:
    """Create the coming months' partitions on PostgreSQL (`server.operations.partitions`),
    daily; the number created."""
    return len(partitions.ensure().created)


@task("uploads.sweep", cron="50 3 * * *")
def sweep_uploads() -> int:
    """Delete the uploads left unfinished for `UPLOAD_EXPIRY_DAYS`, with their chunks, daily;
    the number deleted."""
    return uploads.sweep()
