"""The site's search box (issue 20, point 1): households found by name however it is typed
(accents, case, tone-mark placement, đ/d), by a member's name, by CCCD and by phone, on
SQLite and PostgreSQL, through the folded search column kept with each household's profile."""

from __future__ import annotations

import re

import pytest

from forms.instance import to_xml
from server.db import db
from server.models import DuplicateProfile
from server.services.access import users
from server.services.receiving import ingest
from tests.integration.contract.submissions import household_id, registration
from tests.integration.web.site import Site


@pytest.fixture
def named(app, full_site: Site) -> dict[str, str]:
    """Three households of commune A whose names people type in many ways."""
    sent = {
        "dinh": registration(
            head_name="Nguyễn Văn Dình", head__head_cccd="011080123456", head__phone="0977123456"
        ),
        "thuy": registration(head_name="Lê Thị Thuỷ", head__head_sex="female",
                             head__phone="0966000111"),
        "hoa": registration(head_name="Đặng Văn Hòa", head__phone="0955000222"),
    }  # fmt: skip
    with app.app_context():
        cadre = users.find("cadre_a")
        for root in sent.values():
            assert ingest.receive_xml(to_xml(root), user=cadre).stored
        db.session.commit()
        db.session.remove()
    return {key: household_id(root) for key, root in sent.items()}


def _found(browser, q: str) -> set[str]:
    page = browser.get("/review/households", query_string={"q": q}).get_data(as_text=True)
    return set(re.findall(r'data-household="([^"]+)"', page))


@pytest.mark.parametrize(
    ("typed", "who"),
    [
        ("nguyen van dinh", "dinh"),  # no accents
        ("Nguyễn Văn Dình", "dinh"),  # as written
        ("NGUYỄN", "dinh"),  # capitals with accents (SQLite's LIKE folds ASCII only)
        ("  nguyễn   văn  ", "dinh"),  # spaces
        ("Thủy", "thuy"),  # the other tone placement (registered as Thuỷ)
        ("le thi thuy", "thuy"),
        ("văn hoà", "hoa"),  # registered as Hòa
        ("dang van", "hoa"),  # đ typed as d
        ("ĐẶNG", "hoa"),
        ("011080123456", "dinh"),  # CCCD
        ("080123", "dinh"),  # part of it
        ("0977123456", "dinh"),  # phone as stored
        ("+84 977 123 456", "dinh"),  # phone as people write it
    ],
)
def test_search_ignores_accents_case_and_tone_placement_and_finds_cccd_and_phone(
    named, browser_of, typed, who
):
    assert _found(browser_of("official_a"), typed) == {named[who]}


def test_search_finds_a_household_by_a_members_name_and_nothing_for_a_stranger(
    named, full_site: Site, browser_of
):
    browser = browser_of("official_a")
    everyone = _found(browser, "")
    assert named["dinh"] in everyone
    # Every registration of the fixtures has the spouse Lò Thị Hoa as a member.
    assert _found(browser, "lo thi hoa") == everyone
    assert _found(browser, "Sùng A Páo") == set()
    assert _found(browser, "%") == set()  # a LIKE wildcard is a character like any other
    assert _found(browser_of("official_b"), "nguyen van dinh") == set()  # scope holds


def test_the_search_column_follows_a_renamed_head(app, named, full_site: Site):
    from tests.integration.contract.submissions import visit

    with app.app_context():
        renamed = visit(named["dinh"], head__head_name="Nguyễn Văn Định")
        assert ingest.receive_xml(to_xml(renamed), user=users.find("cadre_a")).stored
        db.session.commit()
        stored = db.session.get(DuplicateProfile, named["dinh"]).search
        db.session.remove()
    assert stored.startswith("|nguyen van dinh|") and "|011080123456|" in stored
