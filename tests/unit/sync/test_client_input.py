"""What the cadre types in `giupho-sync fill`: numbers the vi-VN way ("." between thousands,
"," before decimals) and choices found by a few letters, accents, case and tone placement
ignored; and the progress bars say nothing when standard error is not a terminal."""

from __future__ import annotations

import io

import pytest

from sync.client.fill import NOT_A_NUMBER, NOT_WHOLE, fold, parse_number, search
from sync.client.progress import TerminalProgress


@pytest.mark.parametrize(
    ("typed", "whole", "stored"),
    [
        ("2.500.000", True, "2500000"),
        ("2500000", True, "2500000"),
        ("2.500.000 đ", True, "2500000"),
        ("2 500 000", True, "2500000"),
        ("2,5", False, "2.5"),
        ("1.234,50", False, "1234.5"),
        ("40,0", True, "40"),
        ("-3", True, "-3"),
        ("0", True, "0"),
    ],
)
def test_vietnamese_numbers_are_read_as_written(typed, whole, stored):
    assert parse_number(typed, whole=whole) == (stored, None)


@pytest.mark.parametrize(
    ("typed", "whole", "problem"),
    [
        ("2.5", False, NOT_A_NUMBER),  # a dot between thousands only: not guessed
        ("2,500,000", False, NOT_A_NUMBER),  # English grouping
        ("25.00", False, NOT_A_NUMBER),
        ("hai triệu", False, NOT_A_NUMBER),
        ("2,5", True, NOT_WHOLE),
    ],
)
def test_what_is_not_a_vietnamese_number_is_refused_with_its_reason(typed, whole, problem):
    assert parse_number(typed, whole=whole) == ("", problem)


HOUSEHOLDS = [("h1", "Nguyễn Văn Dình (1980)"), ("h2", "Lò Văn Hùng"), ("h3", "Hoàng Thị Hoà")]


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("nguyen van dinh", [1]),
        ("NGUYỄN", [1]),
        ("hung", [2]),
        ("van", [1, 2]),
        ("hòa", [3]),  # tone mark on the other vowel: hoà = hòa
        ("thi hoa", [3]),
        ("dinh hung", []),
        ("h2", [2]),  # the value itself
    ],
)
def test_a_few_letters_find_a_household_without_accents(typed, found):
    assert [number for number, _label in search(HOUSEHOLDS, typed)] == found


def test_folding_strips_marks_and_d_bar():
    assert fold("  Đặng   THỊ Thuỷ ") == fold("dang thi thủy") == "dang thi thuy"


def test_no_bars_when_standard_error_is_not_a_terminal():
    stream = io.StringIO()
    bars = TerminalProgress(lambda step: step, stream=stream)
    bars.step("upload", 10, 100)
    bars.transfer("upload", "k", "anh.jpg", 10, 100)
    bars.close()
    assert stream.getvalue() == ""


def test_bars_follow_a_resumed_upload_on_a_terminal():
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    bars = TerminalProgress(lambda step: {"upload": "Đang tải ảnh lên"}[step], stream=stream)
    bars.transfer("upload", "k", "anh.jpg", 60_000, 100_000)  # resumed: the server held 60%
    bars.step("upload", 60_000, 100_000)
    bars.transfer("upload", "k", "anh.jpg", 100_000, 100_000)
    bars.step("upload", 100_000, 100_000)
    shown = stream.getvalue()
    assert "anh.jpg" in shown and "60%" in shown
    assert "Đang tải ảnh lên" in shown and "100%" in shown
