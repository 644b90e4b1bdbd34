"""A province's own lines on top of the national standards (a deployment setting).

Provinces may set poverty lines higher than the national ones for their own
programmes, and a deployment may fill in the figures of a standard that are
not gazetted yet (its `provisional` parts). The file names the standards it
changes by id:

    {"authority": "UBND tỉnh Điện Biên",
     "legal_basis": "Quyết định 12/2026/QĐ-UBND",
     "standards": {"vn-2027-2030": {"income_lines": {"rural": {"poor": 2400000,
                                                              "near_poor": 2400000,
                                                              "average": 3600000}}}}}

Only income lines change. A gazetted line may only be raised (a province
cannot define away the national poor); a provisional one may take any value.
The result is checked like the shipped file (order of the lines), so a
mistake stops the server at start with a message naming the figure.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from typing import Any

from forms.i18n import N_
from forms.poverty.standards import (
    AREAS,
    INCOME_POOR,
    Standard,
    StandardSet,
    _fail,
    _income_lines,
)


def _local_standard(standard: Standard, raw: Mapping[str, Any], basis: str) -> Standard:
    lines = raw.get("income_lines")
    if not isinstance(lines, Mapping) or not set(lines) <= set(AREAS) or not lines:
        raise _fail(
            N_("local lines for %(standard)s need income_lines for rural and/or urban"),
            standard=standard.id,
        )
    merged = {area: dict(standard.income_lines[area]) for area in AREAS}
    provisional = {g.field for g in standard.provisional_parts}
    for area, bands in lines.items():
        if not isinstance(bands, Mapping):
            raise _fail(N_("local lines for %(standard)s: bad entry"), standard=standard.id)
        for band, value in bands.items():
            if band not in merged[area] or not isinstance(value, int) or isinstance(value, bool):
                raise _fail(
                    N_(
                        "local lines for %(standard)s: %(area)s.%(band)s must be a known band "
                        "with a whole number of VND"
                    ),
                    standard=standard.id,
                    area=area,
                    band=band,
                )
            national = merged[area][band]
            gazetted = f"income_lines.{band}" not in provisional
            if gazetted and national is not None and value < national:
                raise _fail(
                    N_(
                        "local lines for %(standard)s: %(area)s.%(band)s %(value)s is under the "
                        "national line %(national)s (a province may only raise it)"
                    ),
                    standard=standard.id,
                    area=area,
                    band=band,
                    value=value,
                    national=national,
                )
            merged[area][band] = value
    checked = _income_lines({"id": standard.id, "income_lines": merged})
    set_bands = {band for bands in lines.values() for band in bands if band != INCOME_POOR}
    kept = tuple(
        g
        for g in standard.provisional_parts
        if not (g.field.startswith("income_lines.") and g.field.split(".", 1)[1] in set_bands)
    )
    return dataclasses.replace(
        standard,
        income_lines=checked,
        legal_basis=f"{standard.legal_basis}; {basis}",
        provisional_parts=kept,
        sources=(*standard.sources, ("income_lines (local)", basis)),
    )


def apply_local_lines(base: StandardSet, data: Mapping[str, Any]) -> StandardSet:
    """`base` with the lines of a local lines document (see the module doc)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("standards"), Mapping):
        raise _fail(N_("local lines need a 'standards' object keyed by standard id"))
    basis = str(data.get("legal_basis") or "").strip()
    if not basis:
        raise _fail(N_("local lines need the 'legal_basis' that sets them"))
    authority = str(data.get("authority") or "").strip()
    basis = f"{basis} ({authority})" if authority else basis
    changed = dict(data["standards"])
    known = {s.id for s in base.standards}
    unknown = sorted(set(changed) - known)
    if unknown:
        raise _fail(N_("local lines name unknown standards: %(ids)s"), ids=", ".join(unknown))
    standards = tuple(
        _local_standard(s, changed[s.id], basis) if s.id in changed else s for s in base.standards
    )
    return dataclasses.replace(base, standards=standards)


def load_local_lines(base: StandardSet, path: str | os.PathLike[str]) -> StandardSet:
    """`base` with the local lines file at `path` applied; StandardsError when it is wrong."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError) as exc:
        raise _fail(N_("cannot read the local lines file: %(error)s"), error=exc) from exc
    return apply_local_lines(base, data)
