"""The giupho server: a Flask application assembled by `create_app`.

Nothing happens at import time; `create_app` builds the app in a fixed order
(defaults, instance and environment config, test config), binds the
extensions and registers the blueprints.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server import db, errors, jobs, limits, logs, operations, settings, storage, web
from server.api import bp as api_bp
from server.openrosa import bp as openrosa_bp
from server.schemas import fields
from server.services.households import poverty


def create_app(
    test_config: Mapping[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Build the giupho application.

    `test_config` overrides every other source of configuration; the keys are
    the config keys of `server.settings.SETTINGS` plus any Flask setting.
    `instance_path` replaces Flask's default instance folder (`instance/` next
    to the package), where the SQLite file, secret key and config.py live.
    """
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    configure(app, test_config)
    app.json.ensure_ascii = False  # Vietnamese text as UTF-8, not \u escapes.
    app.logger.setLevel(app.config["LOG_LEVEL"])
    logs.install(app)  # before anything logs: no secret in any log line

    app.url_map.converters["int"] = fields.BoundedInt  # before any route is added
    app.before_request(fields.check_request_query)
    db.init_app(app)
    jobs.init_app(app)  # binds the batch-work runner; starts nothing
    storage.init_app(app)  # attachments, upload chunks, exports: what every machine reaches
    poverty.init_app(app)  # the standards in force, with the province's lines: fails early
    errors.init_app(app)
    limits.init_app(app)  # before the blueprints' views are called
    operations.init_app(app)  # metrics, probes, request log: around every view
    app.register_blueprint(api_bp)
    app.register_blueprint(openrosa_bp)
    web.init_app(app)  # the review site, with Flask-Babel
    hops = app.config["PROXY_HOPS"]
    if hops:  # behind reverse proxies: the client's address and scheme from their headers
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def configure(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """Load the configuration: defaults < instance config.py < environment < test_config."""
    app.config.from_mapping(settings.defaults())
    app.config.from_pyfile("config.py", silent=True)
    app.config.update(settings.from_environ())
    if test_config is not None:
        app.config.update(test_config)
    settings.fill_instance_defaults(app.config, app.instance_path)
    if app.config.get("MAX_CONTENT_LENGTH") is None:
        app.config["MAX_CONTENT_LENGTH"] = max(
            app.config["MAX_SUBMISSION_BYTES"], app.config["MAX_FORM_BYTES"]
        )
