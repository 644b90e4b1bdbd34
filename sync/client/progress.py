"""Progress bars of a long sync (photos on 2G), drawn with tqdm on the terminal.

One bar for each step as a whole (items sent, bytes of photos uploaded, changes
received) and one for each file going up or coming down while it moves: an
upload that resumes after a cut starts at the bytes the server already holds.
Nothing at all is drawn when standard error is not a terminal (a script, a log,
a cron job): the command's own summary lines say what happened.

tqdm rather than hand-drawn bars: it keeps several bars in place, rates and
remaining times included, and is thread-safe (uploads report from their
threads); the project already installs it (vietnamadminunits needs it).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm

from sync.client.engine import Progress

#: The unit of each step's overall bar: the upload is counted in bytes, the others in items.
BYTES = frozenset({"upload"})


class TerminalProgress(Progress):
    def __init__(self, label: Callable[[str], str], stream: TextIO | None = None) -> None:
        """`label(step)`: the words of a step's bar in the officer's language."""
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self.steps: dict[str, tqdm] = {}
        self.files: dict[str, tqdm] = {}
        self.lock = threading.Lock()

    def _bar(
        self, total: int, label: str, in_bytes: bool, leave: bool = True, initial: int = 0
    ) -> tqdm:
        return tqdm(
            total=max(total, 1),
            initial=initial,
            desc=label,
            file=self.stream,
            unit="B" if in_bytes else "",
            unit_scale=in_bytes,
            unit_divisor=1024,
            leave=leave,
            dynamic_ncols=True,
            mininterval=0.2,
        )

    def step(self, step: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        with self.lock:
            bar = self.steps.get(step)
            if bar is None:
                label, in_bytes = self.label(step), step in BYTES
                bar = self.steps[step] = self._bar(total, label, in_bytes, initial=done)
            bar.total = max(total, done, 1)
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
                del self.steps[step]

    def transfer(self, step: str, key: str, name: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        with self.lock:
            bar = self.files.get(key)
            if bar is None:
                # A resumed upload starts at the bytes the server already holds.
                bar = self.files[key] = self._bar(
                    total, f"  {name}", True, leave=False, initial=done
                )
            bar.total = max(total, done)
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
                del self.files[key]

    def close(self) -> None:
        """Close what an interruption left open (the terminal line is given back)."""
        with self.lock:
            for bar in [*self.files.values(), *self.steps.values()]:
                bar.close()
            self.files.clear()
            self.steps.clear()
