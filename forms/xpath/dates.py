"""ODK date, dateTime and time values: parsing, days since the epoch, formatting.

Dates travel as "YYYY-MM-DD" strings and dateTimes as
"YYYY-MM-DDTHH:MM:SS.mmm+07:00" (the shape ODK Collect writes). Numbers for
dates count days since 1970-01-01: JavaRosa's `toNumeric(Date)` is
`DateUtils.daysSinceEpoch`, the number of whole local days, so a dateTime
converts to the day number of its local date (getodk/javarosa,
XPathFuncExpr.toNumeric and DateUtils.daysBetween). `decimal-date-time` keeps
the fraction, as an instant measured in UTC days.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache

VN_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # no DST in Vietnam since 1975
EPOCH = date(1970, 1, 1)
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)
_DAY = timedelta(days=1)

_OFFSET = r"(Z|[+-]\d{2}(?::?\d{2})?)?"
_DATE = re.compile(r"[\x20\t\r\n]*(-?\d{4,})-(\d{1,2})-(\d{1,2})[\x20\t\r\n]*\Z")
_DATETIME = re.compile(
    r"[\x20\t\r\n]*(-?\d{4,})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
    + _OFFSET
    + r"[\x20\t\r\n]*\Z"
)
_TIME = re.compile(
    r"[\x20\t\r\n]*(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?" + _OFFSET + r"[\x20\t\r\n]*\Z"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")  # datetime.weekday() order

# The same dates come back in every submission (today, the visit date, a constant such as
# '2000-01-01'), and parsing one costs a regular expression and several constructors, so
# what does not depend on the time zone is remembered: a text's date, a dateTime's local
# fields and offset, a pattern applied to local fields. Keys never hold an aware datetime
# or a time zone: those compare equal across zones (10:00+07:00 == 03:00Z), which would
# hand one zone's answer to another.
_REMEMBERED = 4096


@lru_cache(maxsize=_REMEMBERED)
def parse_date(text: str) -> date | None:
    """A "YYYY-MM-DD" date (month and day may be unpadded, as JavaRosa accepts), or None."""
    m = _DATE.match(text)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def _offset(text: str | None, tz: tzinfo) -> tzinfo:
    if not text:
        return tz
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
    return timezone(sign * timedelta(minutes=minutes))


def _clock(hour: str, minute: str, second: str | None, fraction: str | None) -> time:
    micro = round(float(fraction) * 1_000_000) if fraction else 0
    return time(int(hour), int(minute), int(second or 0), min(micro, 999_999))


def parse_datetime(text: str, tz: tzinfo) -> datetime | None:
    """An aware dateTime; without an offset the time is local to `tz`. None when invalid."""
    parts = _datetime_parts(text)
    if parts is None:
        return None
    fields, offset = parts
    # Positional: datetime.replace(tzinfo=...) costs six times as much on CPython 3.11.
    return datetime(*fields, tz if offset is None else offset)


@lru_cache(maxsize=_REMEMBERED)
def _datetime_parts(text: str) -> tuple[tuple[int, ...], tzinfo | None] | None:
    """A dateTime text's local fields (year to microsecond) and its own offset (None if
    it gives none)."""
    m = _DATETIME.match(text)
    if m is None:
        return None
    try:
        day = date(int(m[1]), int(m[2]), int(m[3]))
        clock = _clock(m[4], m[5], m[6], m[7])
        offset = _offset(m[8], UTC) if m[8] else None
    except ValueError:
        return None
    fields = (day.year, day.month, day.day, clock.hour, clock.minute, clock.second)
    return (*fields, clock.microsecond), offset


def parse_time(text: str, tz: tzinfo, on: date) -> datetime | None:
    """An ODK time ("HH:MM:SS.mmm+07:00") placed on the day `on`, or None."""
    m = _TIME.match(text)
    if m is None:
        return None
    try:
        return datetime.combine(on, _clock(m[1], m[2], m[3], m[4]), _offset(m[5], tz))
    except ValueError:
        return None


def parse_moment(text: str, tz: tzinfo) -> datetime | None:
    """A date (local midnight) or a dateTime as an aware datetime, or None."""
    day = parse_date(text)
    if day is not None:
        return datetime.combine(day, time(), tz)
    return parse_datetime(text, tz)


def days_since_epoch(day: date) -> int:
    return (day - EPOCH).days


def date_to_number(text: str, tz: tzinfo) -> float | None:
    """Whole days since the epoch of a date or dateTime string (local date), or None."""
    day = parse_date(text)
    if day is not None:
        return float(days_since_epoch(day))
    moment = parse_datetime(text, tz)
    if moment is not None:
        return float(days_since_epoch(moment.astimezone(tz).date()))
    return None


def decimal_days(moment: datetime) -> float:
    """Fractional days between the epoch and an instant (`decimal-date-time`)."""
    return (moment - _EPOCH_UTC) / _DAY


def from_decimal_days(days: float, tz: tzinfo) -> datetime:
    """The instant `days` after the epoch, seen in `tz` (JavaRosa `new Date(n * DAY_IN_MS)`)."""
    return (_EPOCH_UTC + timedelta(days=days)).astimezone(tz)


def date_string(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def datetime_string(moment: datetime) -> str:
    """ODK dateTime text with milliseconds and the offset, e.g. 2024-03-15T10:30:45.123+07:00."""
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return (
        f"{date_string(moment.date())}T{moment.hour:02d}:{moment.minute:02d}:"
        f"{moment.second:02d}.{moment.microsecond // 1000:03d}{sign}{minutes // 60:02d}:"
        f"{minutes % 60:02d}"
    )


def format_moment(moment: datetime, pattern: str) -> str:
    """Apply an ODK format-date pattern (%Y %y %m %n %b %d %e %a %H %h %M %S %3).

    Unknown escapes are copied through, as ODK Web Forms does; month and day
    names are English three-letter abbreviations, as the spec's examples.
    Only the local fields of `moment` count (its zone is not printed).
    """
    m = moment
    fields = (m.year, m.month, m.day, m.hour, m.minute, m.second, m.microsecond)
    return _format_local(fields, pattern)


@lru_cache(maxsize=_REMEMBERED)
def _format_local(fields: tuple[int, ...], pattern: str) -> str:
    moment = datetime(*fields)
    fields = {
        "Y": f"{moment.year:04d}",
        "y": f"{moment.year:04d}"[-2:],
        "m": f"{moment.month:02d}",
        "n": str(moment.month),
        "b": _MONTHS[moment.month - 1],
        "d": f"{moment.day:02d}",
        "e": str(moment.day),
        "a": _WEEKDAYS[moment.weekday()],
        "H": f"{moment.hour:02d}",
        "h": str(moment.hour),
        "M": f"{moment.minute:02d}",
        "S": f"{moment.second:02d}",
        "3": f"{moment.microsecond // 1000:03d}",
        "%": "%",
    }
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "%" and i + 1 < len(pattern) and pattern[i + 1] in fields:
            out.append(fields[pattern[i + 1]])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)
