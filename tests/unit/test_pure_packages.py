"""The pure packages (forms/, and the protocol and merge of sync/) import neither Flask nor
SQLAlchemy, so the tablet client and the command line can use them without the server. Nor
does forms/ import Babel: its gettext catalogue is read with the standard library."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import forms

ROOT = Path(__file__).resolve().parents[2]
WEB_MODULES = ("flask", "flask_sqlalchemy", "sqlalchemy", "werkzeug")
BUILD_MODULES = ("babel", "flask_babel")  # pybabel extracts and compiles; nothing runs on it


def _all_modules(package) -> list[str]:
    # Only modules under the package's own folder: an editable install's path hook can
    # make other folders named like the package (tests/unit/forms) look like part of it.
    own = str(ROOT / package.__name__)
    return [
        m.name
        for m in pkgutil.walk_packages([own], prefix=package.__name__ + ".")
        if not m.name.endswith(".cli")  # the CLI imports click, still not Flask; checked apart
    ]


def test_forms_imports_neither_flask_nor_sqlalchemy_nor_babel():
    modules = [*_all_modules(forms), "forms.cli"]
    assert len(modules) > 5, "expected the forms package to have its modules"
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"leaked = sorted(m for m in {WEB_MODULES + BUILD_MODULES!r} if m in sys.modules)\n"
        "print(','.join(leaked))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "", f"forms/ pulled in {out.stdout.strip()}"
