"""Identifiers and blocking keys (domain.md "Personal ID"; rules D1 and D2)."""

from __future__ import annotations

import ast
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.dedup import keys
from server.dedup.keys import Member, Profile

PACKAGE = Path(__file__).resolve().parents[3] / "server" / "dedup"
ALLOWED = {"__future__", "dataclasses", "functools", "hashlib", "json", "math", "re", "typing",
           "unicodedata", "rapidfuzz", "server"}  # fmt: skip


def test_dedup_package_is_pure():
    """server/dedup imports only the standard library, rapidfuzz and itself: no Flask or
    SQLAlchemy, so tools and the benchmark use it without the server."""
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            else:
                continue
            for module in modules:
                assert module.split(".")[0] in ALLOWED, f"{path.name} imports {module}"
                if module.startswith("server"):
                    assert module.startswith("server.dedup"), f"{path.name} imports {module}"


@pytest.mark.parametrize(
    "typed, number",
    [("0912345678", "0912345678"), ("+84 912 345 678", "0912345678"),
     ("84912345678", "0912345678"), ("0084912345678", "0912345678"),
     ("091.234.5678", "0912345678"), ("01651234567", "0351234567"), ("12345", "")],
)  # fmt: skip
def test_d2_phone_numbers_normalise_to_one_form(typed, number):
    assert keys.phone(typed) == number


def test_d1_cccd_is_twelve_digits_or_a_nine_digit_cmnd():
    assert keys.cccd("001 080 012 345") == "001080012345"
    assert keys.cccd("123456789") == "123456789"
    assert keys.cccd("12345") == ""


@pytest.mark.parametrize(
    "a, b, near",
    [("001080012345", "001080012346", True), ("001080012345", "001080013245", True),
     ("001080012345", "001080012345", False), ("001080012345", "001080099999", False)],
)  # fmt: skip
def test_d2_cccd_one_typing_error_apart_is_near(a, b, near):
    assert keys.cccd_near(a, b) is near


def test_d1_exact_keys_are_household_code_and_head_cccd_in_the_commune():
    code = keys.household_code("hgd-01 ")
    profile = Profile("Lò Văn Minh", cccd="001080012345", household_code=code)
    assert keys.exact_keys(profile, "7") == ["code:7:HGD01", "cccd:7:001080012345"]


def _profile(**changes) -> Profile:
    base = dict(name="Nguyễn Văn An", birth_year=1980, cccd="001080012345",
                phone="0912345678", village="03325_01", point=(21.0301, 105.8401))  # fmt: skip
    return Profile(**(base | changes))


@pytest.mark.parametrize(
    "variant",
    [_profile(name="Nguyen Van An", cccd="", phone="", point=None),  # accents missing
     _profile(name="Nguyễn An", cccd="", phone="", point=None),  # middle name dropped
     _profile(name="Nguyễn Văn Anh", birth_year=None, cccd="", phone=""),  # GPS only
     _profile(name="Nguyễn Văn Ánh", birth_year=None, cccd="", point=None),  # phone only
     _profile(name="Trần Văn Bình", cccd="001080012346", phone="", point=None)],  # CCCD typo
)  # fmt: skip
def test_d2_a_variant_shares_a_blocking_key_with_the_original(variant):
    assert set(keys.probe_keys(variant, "7")) & set(keys.index_keys(_profile(), "7"))


def test_d2_name_keys_belong_to_the_commune():
    other_commune = _profile(cccd="", phone="", point=None)
    assert not set(keys.probe_keys(other_commune, "8")) & set(keys.index_keys(_profile(), "7"))


def test_d2_gps_probe_covers_neighbouring_cells_within_the_cell_size():
    here = _profile(name="A", cccd="", phone="")
    step = keys.GPS_CELL_DEGREES * 0.9
    there = _profile(name="B", cccd="", phone="", point=(21.0301 + step, 105.8401 - step))
    assert set(keys.probe_keys(there, "7")) & set(keys.index_keys(here, "7"))
    assert keys.distance_m(here.point, there.point) < 300


def test_profile_round_trips_through_json():
    profile = _profile(members=(Member("Lò Thị Hoa", 1982, ""),))
    assert Profile.from_json(profile.to_json()) == profile


def test_profile_from_form_properties():
    profile = keys.profile_from(
        {"head_name": "Lò Văn Minh", "head_birth_year": "1980", "phone": "+84912345678",
         "geometry": "21.03 105.84 12 5", "village": "03325_01", "head_cccd": ""},
        members=[{"member_name": "Lò Thị Hoa", "member_birth_year": "1982"}],
    )  # fmt: skip
    assert profile.point == (21.03, 105.84) and profile.phone == "0912345678"
    assert profile.members == (Member("Lò Thị Hoa", 1982, ""),)


@given(st.text(max_size=20))
def test_d2_keys_do_not_depend_on_unicode_normal_form(name):
    nfd = Profile(unicodedata.normalize("NFD", name), birth_year=1990)
    nfc = Profile(unicodedata.normalize("NFC", name), birth_year=1990)
    assert keys.index_keys(nfd, "1") == keys.index_keys(nfc, "1")


@given(st.text(alphabet="0123456789 +.-", max_size=16))
def test_d2_phone_normalisation_is_idempotent(typed):
    once = keys.phone(typed)
    assert keys.phone(once) == once


def test_keys_fit_the_index_column_and_stay_exact():
    """Issue 13 (found by the OpenRosa fuzz): a head's name or household code longer than the
    key column stopped the household from being stored on PostgreSQL (500). Keys now fit,
    and a long key still finds the same household, not a different one."""
    from server.models import DuplicateKey

    assert DuplicateKey.__table__.c.key.type.length == keys.KEY_CHARS
    long_name = "Lò Văn " + "Minh" * 60
    profile = Profile(name=long_name, birth_year=1980, household_code="H" * 200, phone="0" * 150)
    other = Profile(name=long_name + "h", birth_year=1980, household_code="H" * 201)
    stored = keys.index_keys(profile, "c1")
    assert stored and all(len(k) <= keys.KEY_CHARS for k in stored)
    assert all(len(k) <= keys.KEY_CHARS for k in keys.probe_keys(profile, "c1"))
    assert set(keys.probe_keys(profile, "c1")) >= set(stored)
    assert set(keys.exact_keys(profile, "c1")) <= set(stored)
    assert not set(keys.exact_keys(other, "c1")) & set(stored)


def test_blocking_leaves_out_fuzzy_buckets_too_common_to_tell_households_apart():
    from server.dedup.keys import COMMON_KEY, discriminating

    crowd = {f"h{n}" for n in range(COMMON_KEY + 1)}
    few = {f"h{n}" for n in range(COMMON_KEY)}
    sharing = {
        "given:7:hoa|1982": crowd,  # every spouse named Hoa born 1982 in the commune
        "gps:1:2": crowd,  # one GPS cell holding a hamlet
        "given:7:hung|1980": few,
        "name:7:lo|thu": crowd,  # a full name and exact keys are never left out
        "cccd:7:001082001234": {"h1"},
    }
    assert sorted(discriminating(sharing)) == [
        "cccd:7:001082001234",
        "given:7:hung|1980",
        "name:7:lo|thu",
    ]
