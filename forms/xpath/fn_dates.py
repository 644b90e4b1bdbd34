"""Date and time functions: today, now, date, date-time, decimal-*, format-date(-time).

Invalid or empty input yields "" (or NaN for the decimal functions) rather
than an error, as ODK Web Forms does: a submission with an odd value must
still be checkable. JavaRosa raises XPathTypeMismatchException instead.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from forms.xpath.dates import (
    EPOCH,
    date_string,
    datetime_string,
    days_since_epoch,
    decimal_days,
    format_moment,
    from_decimal_days,
    parse_date,
    parse_datetime,
    parse_moment,
    parse_time,
)
from forms.xpath.registry import function
from forms.xpath.values import NAN, NUMBER_PATTERN, to_string

_DAY_SECONDS = 86_400.0


def _number_or_text(value):
    """Numbers (and numeric text, as Enketo accepts) as float; other values as text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float | int):
        return float(value)
    text = to_string(value)
    return float(text) if NUMBER_PATTERN.match(text) else text


def _moment(value, tz) -> datetime | None:
    """An instant for date arithmetic: numbers are days since the epoch (fraction = time)."""
    value = _number_or_text(value)
    if value is None:
        return None
    if isinstance(value, float):
        if value != value or math.isinf(value) or abs(value) > 3_000_000:
            return None
        return from_decimal_days(value, tz)
    moment = parse_moment(value, tz)
    return moment.astimezone(tz) if moment is not None else None


@function("today")
def fn_today(n, c):
    return date_string(c.now().date())


@function("now")
def fn_now(n, c):
    return datetime_string(c.now())


@function("date")
def fn_date(n, c, value):
    """date(): a number of days (fraction dropped) or a date/dateTime text, as 'YYYY-MM-DD'."""
    value = _number_or_text(value)
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value or math.isinf(value) or abs(value) > 3_000_000:
            return ""
        return date_string(EPOCH + timedelta(days=math.trunc(value)))
    day = parse_date(value)
    if day is not None:
        return date_string(day)
    moment = parse_datetime(value, c.tz)
    return date_string(moment.astimezone(c.tz).date()) if moment is not None else ""


@function("date-time")
def fn_date_time(n, c, value):
    moment = _moment(value, c.tz)
    return datetime_string(moment) if moment is not None else ""


@function("decimal-date-time")
def fn_decimal_date_time(n, c, value):
    """Days since 1970-01-01T00:00Z with the fraction; a bare date means local midnight."""
    value = _number_or_text(value)
    if isinstance(value, float):
        return value
    if value is None:
        return NAN
    moment = parse_moment(value, c.tz)
    return decimal_days(moment) if moment is not None else NAN


@function("decimal-date")
def fn_decimal_date(n, c, value):
    """Whole days for a date, fractional UTC days for a dateTime (Enketo's decimal-date)."""
    value = _number_or_text(value)
    if isinstance(value, float):
        return value
    if value is None:
        return NAN
    day = parse_date(value)
    if day is not None:
        return float(days_since_epoch(day))
    moment = parse_datetime(value, c.tz)
    return decimal_days(moment) if moment is not None else NAN


@function("decimal-time")
def fn_decimal_time(n, c, value):
    """Fraction of the local day: noon is 0.5, 18:00 is 0.75 (in the device's timezone)."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        x = float(value)
        return x - math.floor(x) if x == x and not math.isinf(x) else NAN
    text = to_string(value)
    moment = parse_time(text, c.tz, EPOCH) or parse_datetime(text, c.tz)
    if moment is None:
        return NAN
    local = moment.astimezone(c.tz).time()
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    return seconds / _DAY_SECONDS


@function("format-date", "format-date-time", params="-s")
def fn_format_date(n, c, value, pattern):
    moment = _moment(value, c.tz)
    return format_moment(moment, to_string(pattern)) if moment is not None else ""
