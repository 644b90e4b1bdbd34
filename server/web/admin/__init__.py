"""The administration pages under `/admin`: forms, users, devices, units, agencies, pairs and
the audit log, for admins, coordinators, agency leads and commune officials.

A blueprint nested in the site's (`server.web.site.bp`), so it shares the site's sign-in,
CSRF check, security headers, languages and error pages; its endpoints are
`web.admin.<view>`. As everywhere on the site, pages only parse the request, authorise
(`access.admin_required`: signed in with an administrative role) and render: what a user may
see and change inside that is decided by the services (`server.services.access`,
`server.services.programme`, `server.services.forms`), which also audit every change.

Modules, one per page group: `access` (the decorator, the record history shown on every
page), `forms`, `users`, `devices`, `units`, `agencies`, `pairs`, `support`, `audit`.
"""

from __future__ import annotations

from server.web.admin import (  # noqa: F401 - they add the routes to bp
    access,
    agencies,
    audit,
    devices,
    forms,
    pairs,
    support,
    units,
    users,
)
from server.web.admin.blueprint import bp
from server.web.site import bp as site_bp

site_bp.context_processor(access.template_globals)  # the header links every page
site_bp.add_app_template_filter(access.field_label, "field_label")
site_bp.register_blueprint(bp, url_prefix="/admin")
