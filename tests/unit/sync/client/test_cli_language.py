"""`giupho-sync` speaks Vietnamese unless told `--lang en` (or GIUPHO_SYNC_LANG=en): its
messages are English message ids translated by the gettext catalogue `giupho_sync`."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sync.client import cli

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
