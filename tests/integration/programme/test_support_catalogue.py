"""The support catalogue is one list: the module, the shipped visit form and a migrated
database agree on every kind (the migration's literal is a snapshot of the module)."""

from __future__ import annotations

import sqlalchemy as sa

from forms.library import VISIT_XLSX
from forms.library.support_kinds import KINDS, LEGACY_CODES, UNITS
from forms.load import load_form
from server.db import db, upgrade_database
from server.models.support import SupportKind
from tests.integration.database import build_app, dispose_app
from tests.integration.test_migrations import fresh_url  # noqa: F401 (a fixture)


def _module_rows() -> list[tuple]:
    return [(k.code, k.category, k.unit, k.group, k.counts_pupils, k.vi, k.en) for k in KINDS]


def test_the_visit_form_offers_exactly_the_catalogue():
    form = load_form(VISIT_XLSX.read_bytes(), VISIT_XLSX.name)
    xform = form.xform if isinstance(form.xform, str) else form.xform.decode()
    for kind in KINDS:
        assert f"<name>{kind.code}</name><unit>{kind.unit}</unit>" in xform
        assert kind.vi in xform and kind.en in xform
        assert UNITS[kind.unit][0] in xform
    for code in ("capital",):  # an earlier form's code is not offered any more
        assert f"<name>{code}</name>" not in xform
    assert set(LEGACY_CODES.values()) <= {k.code for k in KINDS}


def test_a_migrated_database_holds_the_catalogue_of_the_module(fresh_url, tmp_path):  # noqa: F811
    app = build_app(fresh_url, str(tmp_path / "instance"))
    try:
        with app.app_context():
            upgrade_database()
            stored = db.session.scalars(sa.select(SupportKind).order_by(SupportKind.position))
            rows = [
                (k.code, k.category, k.unit, k.group, k.counts_pupils, k.name_vi, k.name_en)
                for k in stored
            ]
            db.session.remove()
    finally:
        dispose_app(app)
    assert rows == _module_rows()
