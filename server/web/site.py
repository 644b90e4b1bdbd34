"""The site's blueprint: its routes' home, security headers, CSRF, languages and error pages.

Apart from the package's `init_app`, so the view modules that add routes to `bp`
import it from here and the package imports them, with no circle between them.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint
from werkzeug.exceptions import HTTPException

from server.problems import Problem
from server.web import csrf, errors, i18n

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/site/static",
)


#: No framing (clickjacking of the review buttons), scripts and styles from this site only.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _security_headers(response):
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


bp.before_request(csrf.protect)
bp.after_request(_security_headers)
bp.context_processor(i18n.template_globals)
bp.context_processor(csrf.template_globals)
bp.register_error_handler(Problem, errors.on_problem)
bp.register_error_handler(HTTPException, errors.on_http_error)
bp.register_error_handler(sa.exc.OperationalError, errors.on_database_unavailable)
bp.register_error_handler(Exception, errors.on_unexpected)
