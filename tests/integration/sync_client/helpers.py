"""What the sync client tests share: queued visits with photos, and the server-side check."""

from __future__ import annotations

import copy
import hashlib
import random
import uuid

import sqlalchemy as sa

from sync.client import Attachment, LocalStore, RetryPolicy, SyncClient, Timeouts
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import registration, visit


def photo(seed: int, size: int = 3000) -> bytes:
    """A stand-in JPEG: random bytes (incompressible, like a real photo)."""
    rng = random.Random(seed)
    return b"\xff\xd8\xff\xe0" + rng.randbytes(size - 4)


def registrations(count: int, village: str = "03325_01") -> list[dict]:
    """Push items registering `count` households (distinct names, to keep dedup quiet)."""
    out = []
    for number in range(count):
        name = f"Lò Văn Thử{number:03d}"
        out.append(answers_item(registration(head_name=name, village=village)))
    return out


def queue_visits(store: LocalStore, households: list[str], count: int, photo_size: int = 3000):
    """`count` visits spread over `households`, each with one photo, saved to the outbox.

    One visit per household is built through the forms engine; the others
    are copies with their own instanceID and plan text. Returns
    {instance_id: sha256 of its photo}.
    """
    templates = [answers_item(visit(h, base_version=1)) for h in households]
    expected = {}
    with store.transaction():  # test setup: one commit for all (each save alone is durable)
        for number in range(count):
            item = copy.deepcopy(templates[number % len(templates)])
            instance_id = f"uuid:{uuid.uuid4()}"
            item["instance_id"] = instance_id
            item["answers"]["meta"]["instanceID"] = instance_id
            item["answers"]["plan"]["plan_agreed"] = f"Kế hoạch số {number}"
            data = photo(number, photo_size)
            target = households[number % len(households)]
            store.save(item, [Attachment("anh.jpg", data, "image/jpeg")], household_id=target)
            expected[instance_id] = hashlib.sha256(data).hexdigest()
    return expected


def fast_client(url: str, token: str, **kwargs) -> SyncClient:
    """A client with short timeouts and backoff (a test cannot wait minutes)."""
    kwargs.setdefault("timeouts", Timeouts(connect=2.0, read=5.0))
    kwargs.setdefault("retry", RetryPolicy(attempts=30, base=0.01, cap=0.2))
    return SyncClient(url, token=token, **kwargs)


def server_state(database_url: str, instance_ids: list[str]) -> dict:
    """What the server holds of `instance_ids`: submissions per id, and each photo's sha256
    (checked against the bytes in the file store, the database's `blobs`)."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT instance_id, id FROM submissions")).all()
            wanted = set(instance_ids)
            count: dict[str, int] = {}
            by_id = {}
            for instance_id, sid in rows:
                if instance_id in wanted:
                    count[instance_id] = count.get(instance_id, 0) + 1
                    by_id[sid] = instance_id
            photos: dict[str, list[str]] = {}
            for sid, sha, path in conn.execute(
                sa.text("SELECT submission_id, sha256, storage_path FROM attachments")
            ):
                if sid in by_id:
                    parts = conn.execute(
                        sa.text("SELECT data FROM blobs WHERE key = :key ORDER BY part"),
                        {"key": path},
                    ).scalars()
                    kept = hashlib.sha256(b"".join(parts)).hexdigest()
                    assert kept == sha, f"attachment {path} is damaged in the store"
                    photos.setdefault(by_id[sid], []).append(sha)
            quarantined = sum(
                1
                for (instance_id,) in conn.execute(sa.text("SELECT instance_id FROM quarantine"))
                if instance_id in wanted
            )
    finally:
        engine.dispose()
    return {"count": count, "photos": photos, "quarantined": quarantined}


def household_ids(items: list[dict]) -> list[str]:
    return [item["answers"]["meta"]["entity"]["@id"] for item in items]
