"""The shared material some tests read: forms and workloads the project did not make.

It lives in `../shared` beside the project root (CI has it there), or wherever
`GIUPHO_SHARED` points. A user's clone has none: the tests that read it skip,
with a reason that says how to supply it. Under `GIUPHO_REQUIRE_ALL=1` (CI) its
absence fails them instead, so CI never passes on material it did not read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GIUPHO_SHARED") or ROOT.parent / "shared")
CORPUS = SHARED / "corpus" / "xlsform"
BENCH_KIT = SHARED / "bench" / "openrosa-load"


def require(path: Path, what: str) -> None:
    """Skip the calling test when `path` is missing (fail it under GIUPHO_REQUIRE_ALL=1)."""
    if path.exists():
        return
    message = (
        f"{what} is not at {path}: set GIUPHO_SHARED to the folder holding the project's "
        "shared material (corpus/xlsform/, bench/openrosa-load/) to run this test"
    )
    if os.environ.get("GIUPHO_REQUIRE_ALL") == "1":
        pytest.fail(f"{message}; GIUPHO_REQUIRE_ALL=1 requires it")
    pytest.skip(message)


def corpus_forms(suffixes: Iterable[str]) -> list:
    """The corpus's form files with these suffixes, as test parameters.

    Without the corpus, one placeholder parameter: a module's `require` fixture then
    skips (or fails) it with the reason above, instead of pytest's bare "empty
    parameter set", which GIUPHO_REQUIRE_ALL could not turn into a failure.
    """
    wanted = set(suffixes)
    found = sorted(p for p in CORPUS.glob("*") if p.suffix in wanted)
    return found or [pytest.param(None, id="no-corpus")]
