"""Where the shared material lives: `../shared` beside the project root."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("GIUPHO_SHARED", ROOT.parent / "shared"))
CORPUS = SHARED / "corpus" / "xlsform"
BENCH_KIT = SHARED / "bench" / "openrosa-load"
