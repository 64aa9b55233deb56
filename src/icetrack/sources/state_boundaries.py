"""U.S. state boundaries for the facility map, read offline from a file an installed package ships.

The ``plotly-geo`` package ships the U.S. Census Bureau's 2016 cartographic boundary file of the states
(``cb_2016_us_state_500k``, 1:500,000; public domain, https://www.census.gov/geographies/mapping-files/
time-series/geo/carto-boundary-file.html). ``vega_datasets``' ``us-10m`` TopoJSON is not in its wheel (it is
fetched from a CDN), so it cannot serve a machine without network. The shapefile is read with ``pyshp``
and made small enough for a chart: each ring simplified (Douglas-Peucker, :data:`TOLERANCE_DEGREES`),
coordinates rounded to 0.001 degree, islands smaller than :data:`MIN_RING_DEGREES` across and the holes of
polygons dropped (a state map needs neither). The result is GeoJSON features whose ``properties`` carry the
state's USPS code (``state``) and name.
"""

from __future__ import annotations

import math
from functools import lru_cache
from importlib import resources
from typing import Any

TOLERANCE_DEGREES = 0.02
MIN_RING_DEGREES = 0.08
SOURCE = ("U.S. Census Bureau, cartographic boundary file cb_2016_us_state_500k, as shipped by the plotly-geo "
          "package")


class BoundariesUnavailable(RuntimeError):
    """The package that ships the boundary file is not installed."""


def _shapefile_base() -> str:
    try:
        folder = resources.files("_plotly_geo") / "package_data"
    except ModuleNotFoundError as exc:
        raise BoundariesUnavailable("the state map needs the plotly-geo package (it ships the Census state "
                                    "boundaries): uv sync") from exc
    return str(folder / "cb_2016_us_state_500k")


def _perpendicular(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    (x, y), (x1, y1), (x2, y2) = p, a, b
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return math.hypot(x - x1, y - y1)
    return abs(dy * x - dx * y + x2 * y1 - y2 * x1) / math.hypot(dx, dy)


def simplify(points: list[tuple[float, float]], tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker simplification of a polyline (iterative: rings have tens of thousands of points)."""
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        best, index = 0.0, None
        for i in range(first + 1, last):
            d = _perpendicular(points[i], points[first], points[last])
            if d > best:
                best, index = d, i
        if index is not None and best > tolerance:
            keep[index] = True
            stack += [(first, index), (index, last)]
    return [p for p, k in zip(points, keep) if k]


def _signed_area(ring: list[tuple[float, float]]) -> float:
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1])) / 2


def _rings(shape) -> list[list[tuple[float, float]]]:
    parts = list(shape.parts) + [len(shape.points)]
    return [[(float(x), float(y)) for x, y in shape.points[a:b]] for a, b in zip(parts, parts[1:])]


def _outer_rings(shape) -> list[list[list[float]]]:
    """The shape's exterior rings (clockwise in a shapefile, as d3/Vega expect), simplified and rounded."""
    out = []
    for ring in _rings(shape):
        if _signed_area(ring) >= 0:  # counter-clockwise: a hole
            continue
        xs, ys = [p[0] for p in ring], [p[1] for p in ring]
        if max(max(xs) - min(xs), max(ys) - min(ys)) < MIN_RING_DEGREES:
            continue
        small = simplify(ring, TOLERANCE_DEGREES)
        if len(small) >= 4:
            out.append([[round(x, 3), round(y, 3)] for x, y in small])
    return out


@lru_cache(maxsize=1)
def state_features() -> tuple[dict[str, Any], ...]:
    """One GeoJSON feature per state, DC and territory: ``{"type": "Feature", "properties": {"state", "name"},
    "geometry": MultiPolygon}``."""
    import shapefile  # pyshp

    features = []
    with shapefile.Reader(_shapefile_base()) as reader:
        names = [f[0] for f in reader.fields[1:]]
        for shape_record in reader.iterShapeRecords():
            record = dict(zip(names, shape_record.record))
            polygons = [[ring] for ring in _outer_rings(shape_record.shape)]
            if not polygons:
                continue
            features.append({"type": "Feature", "properties": {"state": record["STUSPS"], "name": record["NAME"]},
                             "geometry": {"type": "MultiPolygon", "coordinates": polygons}})
    return tuple(sorted(features, key=lambda f: f["properties"]["state"]))
