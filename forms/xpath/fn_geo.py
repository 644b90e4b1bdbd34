"""distance() and area() on geopoints, geotraces and geoshapes, with JavaRosa's formulas.

Both reproduce getodk/javarosa GeoUtils: a sphere of radius 6,378,100 m,
the spherical law of cosines between consecutive points, and for area the
sum of triangles fanned from the first point on an equirectangular
projection. A geopoint is "lat lon [alt [accuracy]]"; traces and shapes
separate points with ';'.
"""

from __future__ import annotations

import itertools
import math

from forms.i18n import N_
from forms.xpath.errors import eval_error
from forms.xpath.nodes import string_value
from forms.xpath.registry import function
from forms.xpath.values import to_string

EARTH_RADIUS_M = 6_378_100.0
_CIRCUMFERENCE_M = 2 * EARTH_RADIUS_M * math.pi


def _point(text: str, function_name: str) -> tuple[float, float]:
    parts = text.split()
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        lat = lon = math.nan
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise eval_error(
            N_("%(function)s() received '%(text)s', which is not a GPS point"),
            function=function_name,
            text=text,
        )
    return lat, lon


def _trace(text: str, function_name: str) -> list[tuple[float, float]]:
    return [_point(p, function_name) for p in text.split(";") if p.strip()]


def points_of(args, function_name: str) -> list[tuple[float, float]]:
    """One trace/shape value, or several geopoints (nodes of a node-set or arguments)."""
    texts = []
    for arg in args:
        if isinstance(arg, list):
            texts.extend(string_value(n) for n in arg)
        else:
            texts.append(to_string(arg))
    if len(texts) == 1:
        return _trace(texts[0], function_name)
    return [_point(t, function_name) for t in texts if t.strip()]


def _between(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lat2 = math.radians(a[0]), math.radians(b[0])
    delta = math.radians(a[1] - b[1])
    cosine = math.sin(lat1) * math.sin(lat2) + math.cos(lat1) * math.cos(lat2) * math.cos(delta)
    return math.acos(max(-1.0, min(1.0, cosine))) * EARTH_RADIUS_M


@function("distance")
def fn_distance(n, c, *args):
    points = points_of(args, "distance")
    return float(sum(_between(p, q) for p, q in itertools.pairwise(points)))


@function("area")
def fn_area(n, c, value):
    points = points_of([value], "area")
    if len(points) < 3:
        return 0.0
    lat0, lon0 = points[0]
    ys = [(lat - lat0) * _CIRCUMFERENCE_M / 360.0 for lat, _ in points[1:]]
    xs = [
        (lon - lon0) * _CIRCUMFERENCE_M * math.cos(math.radians(lat)) / 360.0
        for lat, lon in points[1:]
    ]
    total = sum((ys[i - 1] * xs[i] - xs[i - 1] * ys[i]) / 2 for i in range(1, len(xs)))
    return abs(total)
