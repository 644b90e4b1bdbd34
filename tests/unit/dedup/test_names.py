"""Vietnamese names as matching keys (domain.md "Names"; the name part of rule D2)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.dedup import names

VIETNAMESE = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ"
text = st.text(alphabet=VIETNAMESE + VIETNAMESE.upper() + " '’-ÐKkhngtr", max_size=30)


@pytest.mark.parametrize(
    "typed, other",
    [
        ("Hoà", "Hòa"),
        ("Thuỷ", "Thủy"),
        ("khoẻ", "khỏe"),
        ("Nguyễn Thị Thuý", "NGUYỄN THỊ THÚY"),
        ("Lý Văn Quý", "Lí Văn Quí"),
        ("ÐINH VĂN AN", "Đinh Văn An"),  # Icelandic Ð typed for Đ
        ("H’Nghia Êban", "H'Nghia  Êban"),
        ("  Trần   Văn  Tú ", "Trần Văn Tú"),
    ],
)
def test_d2_one_canonical_key_for_spellings_of_one_name(typed, other):
    assert names.canonical(typed) == names.canonical(other)


@pytest.mark.parametrize(
    "word, placed",
    [("hoà", "hòa"), ("thuỷ", "thủy"), ("hoàng", "hoàng"), ("quả", "quả"), ("giữ", "giữ"),
     ("người", "người"), ("ngoài", "ngoài"), ("khuỷu", "khuỷu"), ("huỳnh", "huỳnh"),
     ("mùa", "mùa"), ("nguyễn", "nguyễn"), ("gì", "gì")],
)  # fmt: skip
def test_d2_tone_mark_goes_on_the_vowel_one_rule_chooses(word, placed):
    assert names.syllable(word) == placed


def test_d2_different_tones_stay_different():
    assert names.canonical("Lan") != names.canonical("Lân")
    assert names.canonical("Hòa") != names.canonical("Hóa")


@pytest.mark.parametrize(
    "a, b",
    [("Nguyen Van An", "Nguyễn Văn An"), ("Huỳnh Thị Mai", "Hoàng Thị Mai"),
     ("Võ Văn Kiệt", "Vũ Văn Kiệt"), ("Dang Van Duc", "Đặng Văn Đức"), ("H Râu", "H'Râu")],
)  # fmt: skip
def test_d2_folded_key_forgives_accents_regional_spellings_and_apostrophes(a, b):
    assert names.folded(a) == names.folded(b)


def test_d2_kinh_name_family_first_given_last_middle_optional():
    full, short = names.parse("Nguyễn Văn An"), names.parse("Nguyễn An")
    assert (full.family, full.given) == (short.family, short.given) == ("nguyen", "an")


@pytest.mark.parametrize(
    "a, b",
    [("Y Ngông Niê Kdăm", "Niê Kdăm Y Ngông"), ("H'Nghia Êban", "Êban H’Nghia"),
     ("H'Nghia Êban", "H Nghia Eban")],
)  # fmt: skip
def test_d2_central_highlands_names_parse_the_same_in_either_order(a, b):
    pa, pb = names.parse(a), names.parse(b)
    assert pa.highland and pb.highland
    assert (pa.family, pa.given) == (pb.family, pb.given)


def test_d2_highland_given_name_follows_the_prefix():
    assert names.parse("Y Ngông Niê Kdăm").given == "ngong"
    assert names.parse("Ksor Y Blang").family == "ksor"


@given(text)
def test_d2_canonical_is_idempotent(value):
    once = names.canonical(value)
    assert names.canonical(once) == once


@given(text)
def test_d2_nfd_input_gives_the_nfc_key(value):
    nfd = unicodedata.normalize("NFD", value)
    assert names.canonical(nfd) == names.canonical(value)
    assert names.folded(nfd) == names.folded(value)


@given(text)
def test_d2_folded_key_is_ascii_and_idempotent(value):
    key = names.folded(value)
    assert key == names.folded(key)
    assert all(c.isascii() for c in key if c.isalpha())


@given(text)
def test_d2_accents_stripped_input_folds_the_same(value):
    assert names.folded(names.strip_accents(value)) == names.folded(value)


# -- issue 17: highland prefixes, typing leftovers, tone marks -------------------------------


@pytest.mark.parametrize(
    "typed, other",
    [
        ("Ksor H'Lin", "Ksor HLin"),  # apostrophe dropped, prefix glued on
        ("H'Ly Niê", "HLy Nie"),
        ("H'Nghia Êban", "H Nghia Êban"),
        ("H’Nghia Êban", "HNGHIA EBAN"),  # capitals: the prefix is read off the folded word
        ("Y Ngông Niê Kdăm", "YNgông Niê Kdăm"),
        ("K'Brơi Kơ Să", "KBrơi Kơ Să"),
        ("Ka Nhung Liêng Hót", "KaNhung Liêng Hót"),
    ],
)
def test_issue17_highland_prefix_with_or_without_apostrophe_or_space(typed, other):
    assert names.folded(typed) == names.folded(other)
    assert names.parse(typed).given == names.parse(other).given


@pytest.mark.parametrize(
    "typed, meant",
    [
        ("Hungf", "Hùng"),  # Telex: tone key at the end
        ("Hufng", "Hùng"),  # Telex: tone key after the vowel
        ("Nguyeenx Vawn Hungf", "Nguyễn Văn Hùng"),
        ("Huwowng", "Hương"),
        ("Hu7ng", "Hưng"),  # VNI
        ("D9a8ng5 Xua6n", "Đặng Xuân"),
    ],
)
def test_issue17_telex_and_vni_leftovers_fold_to_the_name(typed, meant):
    assert names.folded(typed) == names.folded(meant)


def test_issue17_highland_names_ending_in_r_keep_it():
    """The Telex hỏi key r is not read: Jrai and Ê Đê names end in r."""
    assert names.parse("Ksor Y Blang").family == "ksor"
    assert names.folded("Ksơr") == names.folded("Ksor") == "ksor"


@pytest.mark.parametrize(
    "typed, other",
    [
        ("Nguyễn Thị Hoà", "Nguyen Thi Hoa"),
        ("Hùng", "Húng"),
        ("Thủy", "Thuỵ"),
        ("Lê Hòa", "Lê Hoà"),
    ],
)
def test_issue17_missing_or_wrong_tone_marks_fold_the_same(typed, other):
    assert names.folded(typed) == names.folded(other)
