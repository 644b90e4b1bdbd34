"""The administration pages' blueprint, apart from the package's `__init__` (which imports
the page modules and nests it in the site's), so the modules that add routes to `bp`
import it from here with no circle between them."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("admin", __name__)
