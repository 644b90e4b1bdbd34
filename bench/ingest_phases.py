"""A submission-level benchmark hook: ingest throughput without HTTP, with a per-phase split.

    with app.app_context():
        timing = ingest_phases.measure(xml_bodies, user=cadre, device=tablet, per_transaction=1)
        print(timing.rate, timing.results, timing.phases_ms)

`per_transaction=1` is what one OpenRosa POST costs; larger values are what a
JSON push batch costs. The phase split swaps timed wrappers into the ingest
modules for the duration of the call only (never in production code paths)
and reports CPU milliseconds per submission, which stays meaningful on a
busy machine where wall time does not.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from forms.validation import FormValidator
from server.models import Device, User
from server.services import transactional
from server.services.households import batch as household_batch
from server.services.households import versions as households
from server.services.receiving import batch as ingest_batch
from server.services.receiving import ingest

#: (module, function name, phase) of the steps worth seeing separately.
PHASES = (
    (ingest, "parse_submission", "parse"),
    (ingest, "answers_hash", "hash"),
    (FormValidator, "validate", "validate"),
    (ingest, "insert_submission", "insert"),
    (ingest, "add_attachments", "attachments"),
    (households, "apply", "household"),
    (households, "replace_edit", "household"),
    (household_batch, "apply_many", "household"),
    (ingest_batch, "_insert", "insert"),
    (ingest, "_quarantine", "quarantine"),
)


@dataclass
class IngestTiming:
    count: int
    seconds: float
    cpu_seconds: float
    results: Counter = field(default_factory=Counter)
    phases_ms: dict[str, float] = field(default_factory=dict)  # CPU ms per submission

    @property
    def rate(self) -> float:
        """Submissions per second of wall time."""
        return self.count / self.seconds if self.seconds else 0.0


@contextlib.contextmanager
def timed_phases(totals: Counter) -> Iterator[None]:
    """Accumulate CPU seconds per phase into `totals` while the block runs."""
    saved = []
    for owner, name, phase in PHASES:
        original = getattr(owner, name)
        saved.append((owner, name, original))
        setattr(owner, name, _timed(original, phase, totals))
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def _timed(fn, phase: str, totals: Counter):
    def wrapper(*args, **kwargs):
        started = time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[phase] += time.process_time() - started

    return wrapper


def measure(
    bodies: Sequence[bytes | dict],
    *,
    user: User,
    device: Device | None = None,
    per_transaction: int = 1,
    phases: bool = True,
    grouped: bool = False,
) -> IngestTiming:
    """Receive `bodies` through ingest and time it: XML bytes as OpenRosa sends them, or
    dicts as JSON push items (`grouped`: each transaction's items as one
    `ingest_batch.receive_batch`, as the sync API does)."""
    totals: Counter = Counter()
    results: Counter = Counter()

    @transactional
    def one_transaction(chunk: Sequence[bytes | dict]) -> None:
        if grouped:
            for receipt in ingest_batch.receive_batch(chunk, user=user, device=device):
                results[receipt.result] += 1
            return
        for body in chunk:
            if isinstance(body, dict):
                receipt = ingest.receive_answers(body, user=user, device=device)
            else:
                receipt = ingest.receive_xml(body, user=user, device=device)
            results[receipt.result] += 1

    context = timed_phases(totals) if phases else contextlib.nullcontext()
    wall, cpu = time.perf_counter(), time.process_time()
    with context:
        for start in range(0, len(bodies), per_transaction):
            one_transaction(bodies[start : start + per_transaction])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    count = len(bodies) or 1
    split = {phase: seconds * 1000 / count for phase, seconds in totals.most_common()}
    return IngestTiming(len(bodies), wall, cpu, results, split)


__all__ = ["PHASES", "IngestTiming", "measure", "timed_phases"]
