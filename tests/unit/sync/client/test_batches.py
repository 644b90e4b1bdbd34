"""C2: push batches are capped by count and by bytes, and keep the device's order (H4)."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from sync.client import LocalStore, SyncClient, Synchronizer
from sync.client.engine import Limits


@settings(max_examples=30, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=3000), min_size=0, max_size=40),
    max_items=st.integers(min_value=1, max_value=10),
    max_bytes=st.integers(min_value=200, max_value=8000),
)
def test_c2_batches_are_capped_by_count_and_bytes_in_order(tmp_path_factory, sizes, max_items,
                                                           max_bytes):  # fmt: skip
    store = LocalStore(tmp_path_factory.mktemp("store") / "tablet.sqlite3")
    with store.transaction():  # one commit for the setup
        for number, size in enumerate(sizes):
            item = {"instance_id": f"uuid:{number}", "form_id": "f", "answers": {"x": "a" * size}}
            store.save(item)
    syncer = Synchronizer(store, SyncClient("http://unused.test"),
                          limits=Limits(batch_items=max_items, batch_bytes=max_bytes))  # fmt: skip
    batches = syncer._batches(store.pending())
    flat = [item.instance_id for batch in batches for item in batch]
    assert flat == [f"uuid:{n}" for n in range(len(sizes))]  # all of them, in order
    for batch in batches:
        assert 1 <= len(batch) <= max_items
        size = sum(len(json.dumps(i.item, ensure_ascii=False).encode()) for i in batch)
        assert size <= max_bytes or len(batch) == 1  # only a lone item may exceed the cap
    store.close()
