"""`giupho-sync` in a real terminal (a pseudo-terminal driven by pexpect), as a subprocess:
what the terminal tests share."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[3]
CHOOSE = "Chọn số \\(hoặc gõ giá trị\\): "
TEXT = re.escape("] > ")


def spawn(home: Path, *args: str) -> pexpect.spawn:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIUPHO_")}
    env |= {"GIUPHO_SYNC_HOME": str(home), "PYTHONIOENCODING": "utf-8", "COLUMNS": "200"}
    # A terminal's Ctrl-C: pytest-xdist's workers ignore SIGINT, and an ignored signal stays
    # ignored across exec, so the client would never see the ^C a person types.
    return pexpect.spawn(sys.executable, ["-m", "sync.client.cli", *args], cwd=str(ROOT),
                         env=env, encoding="utf-8", timeout=60, dimensions=(50, 200),
                         preexec_fn=_default_sigint)  # fmt: skip


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run_client(home: Path, *args: str) -> str:
    child = spawn(home, *args)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    return child.before


class Officer:
    """Answers questions the way a person at the terminal does: read, then type."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child

    def answer(self, question: str, value: str, prompt: str = CHOOSE) -> str:
        """Wait for `question` and its prompt, type `value`; returns what was shown."""
        self.child.expect(re.escape(question))
        self.child.expect(prompt)
        shown = self.child.before
        self.child.sendline(value)
        return shown

    def told(self, text: str) -> None:
        self.child.expect(re.escape(text))
