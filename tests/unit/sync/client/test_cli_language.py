"""`giupho-sync` speaks Vietnamese unless told `--lang en` (or GIUPHO_SYNC_LANG=en): its
messages are English message ids translated by the gettext catalogue `giupho_sync`."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from forms.library import VISIT_XLSX
from forms.xlsform import convert_xlsform
from sync.client import cli
from sync.client.store import LocalStore

VI = "Chưa đăng nhập. Hãy chạy: giupho-sync login ĐỊA_CHỈ_MÁY_CHỦ"
EN = "Not signed in. Run: giupho-sync login SERVER_URL"


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ([], {}, VI),
        (["--lang", "vi"], {}, VI),
        (["--lang", "en"], {}, EN),
        ([], {"GIUPHO_SYNC_LANG": "en"}, EN),
    ],
)
def test_messages_are_vietnamese_by_default_and_english_on_request(tmp_path, args, env, expected):
    env = {"GIUPHO_SYNC_LANG": None, **env}
    result = CliRunner().invoke(cli.main, ["--home", str(tmp_path), *args, "status"], env=env)
    assert result.exit_code == 1 and expected in result.output


def test_a_message_with_placeholders_is_filled_in_both_languages(tmp_path):
    for lang, expected in (("vi", "Lỗi: hết giờ"), ("en", "Error: hết giờ")):
        ctx = cli.Context(tmp_path, lang)
        assert ctx._("Error: %(reason)s", reason="hết giờ") == expected
    assert cli.Context(tmp_path, "fr").lang == "vi"


@pytest.mark.parametrize(
    ("args", "expected", "not_expected"),
    [
        ([], "Không có lựa chọn nào phù hợp với câu trả lời trước.", "No option fits"),
        (["--lang", "en"], "No option fits the previous answers.", "Không có lựa chọn"),
    ],
)
def test_the_questionnaire_is_vietnamese_by_default_and_english_on_request(
    tmp_path, monkeypatch, args, expected, not_expected
):
    """`giupho-sync fill` hands the language to the questionnaire (its texts: test_fill.py);
    with no household on the device, the first question has no option left."""
    xform = convert_xlsform(VISIT_XLSX.read_bytes(), VISIT_XLSX.name).xform
    monkeypatch.setattr(LocalStore, "form_xform", lambda self, form_id, version=None: ("1", xform))
    config = {"server": "http://127.0.0.1:5000", "username": "cadre_a"}
    (tmp_path / "config.json").write_text(json.dumps(config), "utf-8")
    command = ["--home", str(tmp_path), *args, "fill", "giupho_household_visit"]
    result = CliRunner().invoke(cli.main, command, input="\n", env={"GIUPHO_SYNC_LANG": None})
    assert expected in result.output and not_expected not in result.output
