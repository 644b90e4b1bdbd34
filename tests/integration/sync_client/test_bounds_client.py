"""The real sync client against a live server: visits the server cannot store leave the
outbox with what to do, and the next sync works (issue 13, finding 1)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sync.client import LocalStore, store_path
from sync.client.cli import main
from tests.integration.contract.drivers import answers_item
from tests.integration.contract.submissions import registration


@pytest.fixture
def run(tmp_path):
    runner = CliRunner()

    def run(*args: str, input: str | None = None):
        home = ["--home", str(tmp_path / "home"), "--attempts", "2"]
        return runner.invoke(main, [*home, *args], input=input)

    return run


def _bad_items() -> list[dict]:
    long_id = answers_item(registration(head_name="Lò Văn Dài"))
    long_id["instance_id"] = long_id["answers"]["meta"]["instanceID"] = "uuid:" + "7" * 120
    nul = answers_item(registration(head_name="Lò Văn Rỗng"))
    nul["form_id"] = "giupho_household_registration\x00"
    early = answers_item(
        registration(head_name="Lò Văn Sớm"), device_time="0001-01-01T00:00:00+14:00"
    )
    return [long_id, nul, early]


def test_visits_the_server_cannot_store_leave_waiting_to_send(live, run, tmp_path):
    """issue 13, finding 1: the three items of the finding, pushed by `giupho-sync` with a
    valid one: the valid one is stored, the others are kept by the server and leave
    "Waiting to send"; `status` lists them with the server's reason and what to do, and the
    next push works."""
    token = live.world.tokens["cadre_a"]
    assert run("login", live.url, "-u", "cadre_a", "--token", token).exit_code == 0
    path = store_path(tmp_path / "home", live.url, "cadre_a")
    store = LocalStore(path)
    store.save(answers_item(registration(head_name="Lò Văn Hợp Lệ")))
    for item in _bad_items():
        store.save(item)
    store.close()
    pushed = run("--lang", "en", "push")
    assert pushed.exit_code == 0, pushed.output
    assert "1 accepted" in pushed.output
    store = LocalStore(path)
    try:
        assert store.pending() == []
        states = sorted(i.state for i in store.outbox())
    finally:
        store.close()
    assert states == ["quarantined"] * 3
    status = run("--lang", "en", "status")
    assert "Waiting to send: 0" in status.output
    assert "To look at (kept by the server): 3" in status.output
    assert "is too long" in status.output and "control character" in status.output
    assert "set the tablet's date and time" in status.output
    assert "These are not sent again" in status.output
    vi = run("status")
    assert "Những bản này sẽ không được gửi lại" in vi.output
    store = LocalStore(path)
    store.save(answers_item(registration(head_name="Lò Văn Tiếp")))
    store.close()
    assert "1 accepted" in run("--lang", "en", "push").output
