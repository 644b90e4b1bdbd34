"""The programme's structure: admin units, agencies and where they help, who helps whom.

- `units`: official provinces and communes from `vietnamadminunits` (2025, or the pre-2025
  list with its districts), villages by hand or from a spreadsheet
- `agencies`: agencies, teams and organisations; their assignments to communes and villages
  for a phase or dates, under the commune's category
- `pairs`: a cadre, team or organisation helping one household, with priority, capacity
  note and history (reassignment ends a pair the day the next starts)

Periods are half-open (`starts_on` <= day < `ends_on`), days in the programme's time zone.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import current_app


def today() -> dt.date:
    """Today in the programme's time zone (`TIMEZONE`, Asia/Ho_Chi_Minh by default)."""
    return dt.datetime.now(ZoneInfo(current_app.config["TIMEZONE"])).date()
