"""`giupho support kinds|record|list|import` as an operator runs them."""

from __future__ import annotations

import pytest

from server.cli import main
from server.db import db
from server.services.programme import ledger
from tests.integration.programme.world import build


@pytest.fixture
def giupho(runner):
    def run(*args: str):
        return runner.invoke(main, list(args))

    return run


@pytest.fixture
def world(app):
    with app.app_context():
        ledger.load_catalogue()
        built = build()
        ids = {"household_a": built.household_a.id}
        db.session.remove()
    return ids


def test_the_catalogue_is_listed_added_to_and_trimmed(giupho, world):
    listed = giupho("support", "kinds")
    assert listed.exit_code == 0 and "Bộ sách giáo khoa" in listed.output
    added = giupho("support", "kinds", "--add", "ducks", "--category", "goods", "--unit", "head",
                   "--name-vi", "Vịt bầu", "--name-en", "Ducks")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "Vịt bầu / Ducks" in added.output
    gone = giupho("support", "kinds", "--deactivate", "ducks")
    assert "Vịt bầu / Ducks (inactive)" in gone.output
    bad = giupho("support", "kinds", "--add", "geese", "--category", "goods", "--unit", "flock",
                 "--name-vi", "Ngỗng")  # fmt: skip
    assert bad.exit_code == 1 and "flock" in bad.output


def test_support_is_recorded_listed_and_imported(giupho, world, tmp_path):
    made = giupho("support", "record", "works", "11/03325", "--quantity", "1",
                  "--value", "850000000", "--agency", "SYT", "--source", "agency",
                  "--on", "2025-09-02", "--description", "Đường bê tông")  # fmt: skip
    assert made.exit_code == 0, made.output
    assert "850.000.000 đ" in made.output and "11/03325" in made.output
    rice = giupho("support", "record", "rice", world["household_a"], "--quantity", "30")
    assert rice.exit_code == 0, rice.output
    listed = giupho("support", "list", "--kind", "works")
    assert listed.exit_code == 0 and "works" in listed.output and "rice" not in listed.output
    refused = giupho("support", "record", "rice", world["household_a"], "--quantity", "0")
    assert refused.exit_code == 1 and "0" in refused.output

    sheet = tmp_path / "ho-tro.csv"
    sheet.write_text("kind,unit,quantity,value_vnd\nsugar,03325,48,960000\nbogus,03325,1,1\n")
    bad = giupho("support", "import", str(sheet))
    assert bad.exit_code == 1 and "bogus" in bad.output
    sheet.write_text("kind,unit,quantity,value_vnd\nsugar,03325,48,960000\n")
    good = giupho("support", "--lang", "en", "import", str(sheet))
    assert good.exit_code == 0 and "1 entry(ies) recorded." in good.output
