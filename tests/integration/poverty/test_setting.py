"""GIUPHO_POVERTY_LOCAL_LINES: the province's lines are read and checked when the app starts."""

from __future__ import annotations

import json
from datetime import date

import pytest

from forms.poverty import classify
from server import create_app
from server.services.households import poverty


def _app(tmp_path, lines: dict):
    path = tmp_path / "lines.json"
    path.write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    return create_app(
        {
            "TESTING": True,
            "POVERTY_LOCAL_LINES": str(path),
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        },
        instance_path=str(tmp_path),
    )


def test_the_server_classifies_with_the_province_lines(tmp_path):
    higher = {"urban": {"poor": 2_300_000, "near_poor": 2_300_000, "average": 3_450_000}}
    app = _app(
        tmp_path,
        {
            "legal_basis": "Quyết định 5/2022/QĐ-UBND",
            "standards": {"vn-2022-2026": {"income_lines": higher}},
        },
    )
    with app.app_context():
        found = poverty.standards()
        assert classify(2_300_000, "urban", 3, date(2025, 1, 1), standards=found).status == "poor"


def test_a_wrong_lines_file_stops_the_server_at_start_naming_the_setting(tmp_path):
    lower = {"rural": {"poor": 1_000_000}}
    with pytest.raises(poverty.PovertySettingError) as caught:
        _app(
            tmp_path,
            {"legal_basis": "QĐ 1", "standards": {"vn-2022-2026": {"income_lines": lower}}},
        )
    assert "GIUPHO_POVERTY_LOCAL_LINES" in str(caught.value)
    assert "only raise" in str(caught.value)
