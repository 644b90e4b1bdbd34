"""Values kept for the app's life: a bounded map per name, in `app.extensions`.

Form versions, admin units' ancestry and place codes never change once
stored, so each worker reads them once. The maps live in the app (a new app,
as each test builds, starts empty) and are bounded, so a worker's memory
stays flat however many units or versions it meets.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from flask import current_app

_CACHE_SIZE = 100_000  # about every village of the country


class Memory:
    """A bounded, thread-safe map of values that never change once read (None is not kept)."""

    def __init__(self, size: int = _CACHE_SIZE) -> None:
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, key, compute):
        with self._lock:
            if key in self._items:
                return self._items[key]
        value = compute()
        if value is not None:
            with self._lock:
                self._items[key] = value
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def memory(name: str, size: int = _CACHE_SIZE) -> Memory:
    """The app's memory called `name` (created on first use)."""
    memories = current_app.extensions.setdefault("giupho.memory", {})
    found = memories.get(name)
    if found is None:
        found = memories.setdefault(name, Memory(size))
    return found
