"""`giupho users ...` and `giupho devices ...`, run as an operator runs them (the `giupho`
group through `app.test_cli_runner()`): thin over the services, the operator's language,
clear errors with a non-zero exit."""

from __future__ import annotations

import base64
import json
import re
import zlib

import pytest

from server.cli import main
from server.models import Role
from server.services.access import auth, users
from tests.integration.helpers import bearer
from tests.integration.openrosa.world import OPENROSA, load_shipped_forms


@pytest.fixture
def giupho(runner):
    def run(*args: str, input: str | None = None):
        return runner.invoke(main, list(args), input=input)

    return run


def test_create_list_edit_and_reset_a_users_password(app, places, giupho):
    created = giupho("users", "create", "lo.van.sinh", "--name", "Lò Văn Sinh",
                     "--role", "cán bộ", "--unit", "03325", "--unit", "11/03325/01")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "lo.van.sinh" in created.output and "Cán bộ" in created.output
    temporary = re.search(r": (\S+)\s*$", created.output).group(1)
    with app.app_context():
        assert auth.authenticate_password("lo.van.sinh", temporary) is not None
    listed = giupho("users", "--lang", "en", "list", "--unit", "11/03325/01")
    assert listed.exit_code == 0 and "lo.van.sinh" in listed.output and "Cadre" in listed.output
    edited = giupho("users", "edit", "lo.van.sinh", "--role", "commune_official",
                    "--unit", "11/03325")  # fmt: skip
    assert edited.exit_code == 0, edited.output
    assert "Cán bộ xã" in edited.output and "11/03325)" in edited.output
    reset = giupho("users", "reset-password", "lo.van.sinh")
    assert reset.exit_code == 0, reset.output
    password = reset.output.rsplit(": ", 1)[1].strip()
    with app.app_context():
        assert auth.authenticate_password("lo.van.sinh", temporary) is None
        assert auth.authenticate_password("lo.van.sinh", password) is not None


def test_errors_are_told_in_the_operators_language_with_a_failing_exit(app, places, giupho):
    unknown = giupho("users", "create", "x", "--name", "X", "--role", "trưởng thôn")
    assert unknown.exit_code == 1 and "không phải là một vai trò" in unknown.output
    in_english = giupho("users", "--lang", "en", "create", "x", "--name", "X", "--role", "cadre",
                        "--unit", "11/99999")  # fmt: skip
    assert in_english.exit_code == 1 and "There is no admin unit '11/99999'" in in_english.output
    nobody = giupho("users", "deactivate", "nobody")
    assert nobody.exit_code == 1 and "nobody" in nobody.output


def test_deactivate_and_activate_take_effect_at_once(app, client, places, make_user, giupho):
    make_user("cadre_a", Role.CADRE, places.village_a1)
    with app.app_context():
        _device, token = auth.register_device(users.find("cadre_a"), "Tab")
    assert giupho("users", "deactivate", "cadre_a").exit_code == 0
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 401
    assert giupho("users", "activate", "cadre_a").exit_code == 0
    assert client.get("/api/v1/forms", headers=bearer(token)).status_code == 200


def test_an_import_prints_each_bad_row_and_creates_nothing(app, places, giupho, tmp_path):
    sheet = tmp_path / "can-bo.csv"
    sheet.write_text("username,full_name,role,units\nmot,Một,cán bộ,03325\n"
                     "hai,Hai,cán bộ,11/55555\n", encoding="utf-8")  # fmt: skip
    bad = giupho("users", "import", str(sheet))
    assert bad.exit_code == 1
    assert "3" in bad.output and "units" in bad.output and "11/55555" in bad.output
    with app.app_context():
        assert users.find("mot") is None
    sheet.write_text("username,full_name,role,units\nmot,Một,cán bộ,03325\n", encoding="utf-8")
    good = giupho("users", "import", str(sheet))
    assert good.exit_code == 0 and "mot" in good.output


def test_enrol_prints_the_url_and_qr_and_writes_the_png_and_revoke_ends_it(
    app, client, places, make_user, giupho, tmp_path
):
    make_user("cadre_a", Role.CADRE, places.village_a1)
    with app.app_context():
        load_shipped_forms()
    png = tmp_path / "qr.png"
    enrolled = giupho("devices", "enrol", "cadre_a", "--name", "Tab 1", "--png", str(png),
                      "--url", "http://localhost/")  # fmt: skip
    assert enrolled.exit_code == 0, enrolled.output
    url = re.search(r"http://localhost/key/\S+", enrolled.output).group(0)
    assert "\u2580" in enrolled.output or "\u2588" in enrolled.output  # the QR, drawn
    assert png.read_bytes().startswith(b"\x89PNG")
    path = url.removeprefix("http://localhost")
    assert client.get(f"{path}/formList", headers=OPENROSA).status_code == 200
    listed = giupho("devices", "list", "cadre_a")
    assert listed.exit_code == 0 and "Tab 1" in listed.output
    assert url.rsplit("/", 1)[1] not in listed.output  # the token is shown at enrolment only
    device_id = listed.output.split()[0]
    revoked = giupho("devices", "revoke", device_id)
    assert revoked.exit_code == 0, revoked.output
    assert client.get(f"{path}/formList", headers=OPENROSA).status_code == 401
    assert "thu hồi" in giupho("devices", "list").output


def test_the_qr_settings_printed_for_a_device_decode_to_its_url(app, places, make_user):
    make_user("cadre_a", Role.CADRE, places.village_a1)
    from server.services.access import devices

    with app.app_context():
        enrolment = devices.enrol(users.find("cadre_a"), "Tab", None, "http://localhost")
        settings = json.loads(zlib.decompress(base64.b64decode(enrolment.qr_payload)))
    assert settings["general"]["server_url"] == enrolment.url
