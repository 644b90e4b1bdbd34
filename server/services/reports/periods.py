"""The period a report or export covers: a year, a programme phase, or any dates.

Periods are half-open, `start` <= day < `end`, like assignments and pairs. A request names
one of: `year=2026`; `phase=2021-2025` (the programme's five-year phases); `from=` and `to=`
(ISO dates, `to` included, as a person says "to 30 June"). With nothing given, the current
calendar year.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass

from server.problems import Problem

_PHASE = re.compile(r"^(\d{4})-(\d{4})$")
#: Years a report may name: the programme's records start in the 2010s.
FIRST_YEAR, LAST_YEAR = 2000, 2100


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # the first day after the period
    label: str

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    def params(self) -> dict[str, str]:
        """The query parameters that name this period again (links, exports)."""
        if self.label.isdigit():
            return {"year": self.label}
        if _PHASE.match(self.label):
            return {"phase": self.label}
        return {"from": self.start.isoformat(), "to": self.last_day.isoformat()}

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(dt.date(year, 1, 1), dt.date(year + 1, 1, 1), str(year))

    @classmethod
    def parse(cls, args: Mapping[str, str], today: dt.date) -> Period:
        """The period `args` names; a `Problem` 400.50 says what to fix."""
        year, phase = args.get("year"), args.get("phase")
        start, end = args.get("from"), args.get("to")
        given = [
            name for name, v in (("year", year), ("phase", phase), ("from", start or end)) if v
        ]
        if len(given) > 1:
            raise Problem("400.50", reason="give one of year, phase, or from and to")
        if year:
            return cls.year(_year(year))
        if phase:
            m = _PHASE.match(phase.strip())
            if not m or not FIRST_YEAR <= int(m[1]) <= int(m[2]) <= LAST_YEAR:
                raise Problem("400.50", reason=f"phase '{phase}' is not like 2021-2025")
            first, last = int(m[1]), int(m[2])
            return cls(dt.date(first, 1, 1), dt.date(last + 1, 1, 1), f"{first}-{last}")
        if start or end:
            if not (start and end):
                raise Problem("400.50", reason="give both from and to")
            a, b = _date(start, "from"), _date(end, "to")
            if b < a:
                raise Problem("400.50", reason="'to' is before 'from'")
            return cls(a, b + dt.timedelta(days=1), f"{a.isoformat()} – {b.isoformat()}")
        return cls.year(today.year)


def _year(text: str) -> int:
    if not text.strip().isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise Problem("400.50", reason=f"year '{text}' is not a year like 2026")
    return int(text)


def _date(text: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise Problem("400.50", reason=f"'{name}' ({text}) is not a date like 2026-06-30") from None
