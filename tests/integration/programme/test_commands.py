"""`giupho units|agencies|assignments|pairs ...` as an operator runs them: thin over the
services, the operator's language, errors on stderr with a failing exit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.cli import main
from server.db import db
from server.models import AdminUnit
from server.models.programme import Pair
from tests.integration.programme.world import household


@pytest.fixture
def giupho(runner):
    def run(*args: str):
        return runner.invoke(main, list(args))

    return run


def test_units_import_a_province_with_or_without_districts_and_villages_from_a_file(
    app, giupho, tmp_path
):
    done = giupho("units", "import", "11", "--commune", "03325", "--commune", "03316")
    assert done.exit_code == 0, done.output
    assert "Tỉnh Điện Biên" in done.output and "3" in done.output
    legacy = giupho("units", "--lang", "en", "import", "54", "--districts", "--commune", "22249")
    assert legacy.exit_code == 0 and "1 district(s), 1 commune(s)" in legacy.output
    sheet = tmp_path / "thon.csv"
    sheet.write_text("commune,code,name,kind\n03325,01,Bản Phăng,Bản\n03316,,Bản Nà Tấu,Bản\n")
    villages = giupho("units", "villages", str(sheet))
    assert villages.exit_code == 0, villages.output
    assert "11/03325/01" in villages.output and "11/03316/01" in villages.output
    sheet.write_text("commune,code,name\n03325,01,Bản Phăng Mới\n99999,,Bản Ma\n")
    bad = giupho("units", "villages", str(sheet))
    assert bad.exit_code == 1 and "99999" in bad.output
    with app.app_context():
        assert (
            db.session.scalar(sa.select(AdminUnit.name).where(AdminUnit.path == "11/03325/01"))
            == "Bản Phăng"
        )  # nothing changed by the bad file
    unknown = giupho("units", "import", "00")
    assert unknown.exit_code == 1 and "00" in unknown.output


def test_agencies_assignments_and_pairs_from_the_command_line(app, giupho, places):
    assert (
        giupho(
            "users",
            "create",
            "lo.van.a",
            "--name",
            "Lò Văn A",
            "--role",
            "cadre",
            "--unit",
            places.village_a1,
            "--password",
            "mat-khau-1",
        ).exit_code
        == 0
    )
    made = giupho("agencies", "create", "SLD", "--name", "Sở Lao động", "--home-unit", "11")
    assert made.exit_code == 0, made.output
    team = giupho(
        "agencies",
        "create",
        "SLD-T1",
        "--name",
        "Tổ 1",
        "--kind",
        "team",
        "--parent",
        "SLD",
        "--home-unit",
        "11",
    )
    assert team.exit_code == 0, team.output
    edited = giupho(
        "agencies", "edit", "SLD", "--name", "Sở Lao động - TB&XH", "--lead", "lo.van.a"
    )
    assert edited.exit_code == 0 and "lead=lo.van.a" in edited.output
    assert "SLD-T1" in giupho("agencies", "list").output
    added = giupho(
        "assignments",
        "add",
        "SLD",
        places.commune_a,
        "--phase",
        "2026-2030",
        "--category",
        "special_difficulty",
    )
    assert added.exit_code == 0 and "2026-2030" in added.output
    again = giupho("assignments", "add", "SLD", places.commune_a, "--from", "2027-01-01")
    assert again.exit_code == 1 and "Sở Lao động - TB&XH" in again.output
    province = giupho("assignments", "--lang", "en", "add", "SLD", "11")
    assert province.exit_code == 1 and "not a commune or village" in province.output
    assignment_id = added.output.split()[0]
    assert giupho("assignments", "list", "--current").output.count("SLD") == 1
    ended = giupho("assignments", "end", assignment_id, "--on", "2028-01-01")
    assert ended.exit_code == 0 and "2028-01-01" in ended.output

    with app.app_context():
        one = household(places.village_a1, "Lò Văn Một", "MP-001")
        two = household(places.village_a2, "Lò Thị Hai", "MP-002")
        one_id, two_id = one.id, two.id
    paired = giupho("pairs", "add", "MP-001", "lo.van.a", "--priority", "1", "--note", "Có đất")
    assert paired.exit_code == 0 and one_id in paired.output
    pair_id = paired.output.split()[0]
    twice = giupho("pairs", "add", one_id, "lo.van.a")
    assert twice.exit_code == 1 and "Lò Văn Một" in twice.output
    moved = giupho("pairs", "reassign", pair_id, "SLD-T1", "--reason", "Chuyển công tác")
    assert moved.exit_code == 0 and "SLD-T1" in moved.output
    history = giupho("pairs", "list", "--household", "MP-001", "--all").output
    assert "lo.van.a" in history and "SLD-T1" in history
    assert "lo.van.a" not in giupho("pairs", "list", "--household", "MP-001").output
    ended = giupho("pairs", "end", moved.output.split()[0], "--reason", "Thoát nghèo")
    assert ended.exit_code == 0, ended.output
    gone = giupho("pairs", "end", "999999")
    assert gone.exit_code == 1 and "999999" in gone.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Pair)) == 2
    assert two_id  # paired from a file in the next test


def test_pairs_import_prints_each_bad_row_and_creates_nothing(app, giupho, places, tmp_path):
    assert (
        giupho(
            "users",
            "create",
            "lo.van.a",
            "--name",
            "Lò Văn A",
            "--role",
            "cadre",
            "--unit",
            places.village_a1,
            "--password",
            "mat-khau-1",
        ).exit_code
        == 0
    )
    with app.app_context():
        household(places.village_a1, "Lò Văn Một", "MP-001")
        household(places.village_a2, "Lò Thị Hai", "MP-002")
    sheet = tmp_path / "cap-doi.csv"
    sheet.write_text("household,helper,priority\nMP-001,lo.van.a,1\nMP-002,ai.do,2\n")
    bad = giupho("pairs", "import", str(sheet))
    assert bad.exit_code == 1 and "ai.do" in bad.output and "3" in bad.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Pair)) == 0
    sheet.write_text("household,helper,priority\nMP-001,lo.van.a,1\nMP-002,lo.van.a,2\n")
    good = giupho("pairs", "import", str(sheet))
    assert good.exit_code == 0 and "2" in good.output
    assert giupho("pairs", "list", "--helper", "lo.van.a").output.count("lo.van.a") == 2
