"""`giupho-sync` commands: login with a password, clear messages when offline, status of the
outbox with what the server kept for review, households and forms after a pull."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sync.client import LocalStore, store_path
from sync.client.cli import main
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import registration, with_answer
from tests.integration.helpers import PASSWORD
from tests.integration.live import free_port


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        # Two tries per request: an offline test must not wait through a whole backoff.
        home = ["--home", str(tmp_path / "home"), "--attempts", "2"]
        return runner.invoke(main, [*home, *args], input=input)

    return run


def test_login_with_a_password_then_sync_forms_and_households(live, run, tmp_path):
    result = run("login", live.url, "-u", "cadre_a", input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Đã đăng nhập" in result.output and "cadre_a" in result.output
    store = LocalStore(store_path(tmp_path / "home", live.url, "cadre_a"))
    assert PASSWORD not in str(store.db.execute("SELECT * FROM meta").fetchall())
    store.close()
    synced = run("sync")
    assert synced.exit_code == 0, synced.output
    assert "Đã nhận" in synced.output
    forms = run("--lang", "en", "forms")
    assert "giupho_household_registration" in forms.output
    assert "giupho_household_visit" in forms.output


def test_a_wrong_password_is_said_plainly(live, run):
    result = run("login", live.url, "-u", "cadre_a", "--password", "không đúng")
    assert result.exit_code == 1
    assert "Máy chủ từ chối thông tin đăng nhập" in result.output


def test_offline_sync_keeps_the_data_and_says_what_to_do(run, tmp_path):
    nowhere = f"http://127.0.0.1:{free_port()}"
    assert run("login", nowhere, "-u", "cadre_a", "--token", "t").exit_code == 0
    store = LocalStore(store_path(tmp_path / "home", nowhere, "cadre_a"))
    store.save(answers_item(registration()))
    store.close()
    for lang, words in (("vi", "Không có mạng"), ("en", "No network")):
        result = run("--lang", lang, "sync")
        assert result.exit_code == 1
        assert words in result.output and "Traceback" not in result.output
    status = run("--lang", "en", "status")
    assert "Waiting to send: 1" in status.output


def test_status_shows_conflicts_with_the_servers_reason(live, run, tmp_path):
    token = live.world.tokens["cadre_a"]
    assert run("login", live.url, "-u", "cadre_a", "--token", token).exit_code == 0
    original = registration(village="03325_02")
    store = LocalStore(store_path(tmp_path / "home", live.url, "cadre_a"))
    store.save(answers_item(original))
    store.close()
    assert "1 accepted" in run("--lang", "en", "push").output
    store = LocalStore(store_path(tmp_path / "home", live.url, "cadre_a"))
    changed = with_answer(original, "head/head_name", "Lò Văn Khác")  # same id, new content
    store.save(answers_item(changed))
    store.close()
    # Vietnamese words for what the server did, not the protocol's ("1 conflict").
    assert "Đã gửi 1 biểu mẫu: 1 xung đột." in run("push").output
    status = run("status")
    assert "Máy chủ giữ lại, cần xử lý: 1" in status.output
    assert "Cần xem lại (người duyệt trả về): 0" in status.output
    assert "[xung đột]" in status.output and "đừng gửi lại" in status.output
