"""The receivers' geometry (backend/locating/geometry.py) against cases worked by hand."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from backend.locating.geometry import C_M_PER_S, coverage, coverage_grid, gdop_at, project, warnings_for


def triangle(radius_m: float) -> np.ndarray:
    return np.array([[radius_m * math.cos(math.radians(a)), radius_m * math.sin(math.radians(a))]
                     for a in (90, 210, 330)])


def test_the_centroid_of_an_equilateral_triangle_matches_the_hand_worked_gdop():
    for radius in (1_000.0, 50_000.0):  # independent of the triangle's size
        assert abs(gdop_at(np.zeros((1, 2)), triangle(radius))[0] - math.sqrt(4 / 3)) < 0.01 * math.sqrt(4 / 3)


def test_the_fast_form_equals_the_formula_with_q_inverted():
    rng = np.random.default_rng(3)
    receivers, points = rng.uniform(-50e3, 50e3, (7, 2)), rng.uniform(-80e3, 80e3, (25, 2))
    for point, fast in zip(points, gdop_at(points, receivers)):
        unit = (receivers - point) / np.linalg.norm(receivers - point, axis=1, keepdims=True)
        h = unit[1:] - unit[0]
        q = np.eye(len(h)) + np.ones((len(h), len(h)))
        slow = math.sqrt(np.trace(np.linalg.inv(h.T @ np.linalg.inv(q) @ h)))
        assert abs(fast - slow) < 1e-9 * slow


def test_no_fix_with_two_receivers_and_worse_outside_than_inside():
    assert np.isnan(gdop_at(np.zeros((1, 2)), triangle(1e3)[:2])).all()
    inside, outside = gdop_at(np.array([[0.0, 0.0], [0.0, -20e3]]), triangle(10e3))
    assert outside > inside


def test_warnings_for_too_few_the_same_place_and_one_line():
    assert warnings_for({"a": (45.0, 7.0), "b": (45.1, 7.1)}) == ["2 receivers ready: a position needs at least 3"]
    same = warnings_for({"a": (45.0, 7.0), "b": (45.0001, 7.0001), "c": (44.5, 8.0), "d": (45.6, 7.9)})
    assert same == ["a and b are at the same place: they add no geometry"]
    line = warnings_for({"a": (45.0, 7.0), "b": (45.1, 7.1), "c": (45.2, 7.2001)})
    assert line == ["the ready receivers lie nearly on one line: positions across it are poor"]
    assert warnings_for({"a": (45.0, 7.0), "b": (45.5, 7.1), "c": (45.1, 7.8)}) == []


def test_coverage_is_geojson_with_the_error_in_metres():
    answer = coverage({"a": (45.0, 7.0), "b": (45.5, 7.1), "c": (45.1, 7.8)}, sigma_t_s=1e-6, cells=10)
    json.dumps(answer, allow_nan=False)  # strict JSON: no NaN anywhere
    assert answer["type"] == "FeatureCollection" and len(answer["features"]) == 100
    cell = next(f for f in answer["features"] if f["properties"]["gdop"] is not None)
    assert abs(cell["properties"]["error_m"] - cell["properties"]["gdop"] * C_M_PER_S * 1e-6) < 0.1
    ring = cell["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1] and len(ring) == 5


def test_the_local_plane_keeps_distances():
    east, north = project([(45.0, 7.1), (45.1, 7.0)], (45.0, 7.0))
    assert abs(east[0] - 7_871) < 10 and abs(north[1] - 11_120) < 10  # 0.1° of longitude at 45° N, of latitude


def test_same_place_pairs_are_those_a_full_comparison_finds():
    from backend.locating.geometry import SAME_PLACE_M, same_place_pairs

    rng = np.random.default_rng(7)
    # Clusters a few tens of metres wide, so pairs fall within and across the squares' edges.
    centres = rng.uniform(-5e3, 5e3, (40, 2))
    xy = np.vstack([centres + rng.uniform(-60, 60, (40, 2)) for _ in range(4)])
    brute = [(i, j) for i in range(len(xy)) for j in range(i + 1, len(xy))
             if math.dist(xy[i], xy[j]) < SAME_PLACE_M]
    assert brute and same_place_pairs(xy) == brute


def test_each_cells_gdop_is_the_gdop_at_that_cells_centre():
    """A cell's figure belongs to its own place: row by row from the south-west, at the
    centre of the cell (an off-by-half or a swapped row and column would move the map)."""
    receivers = {"a": (45.0, 7.0), "b": (45.3, 7.9), "c": (44.6, 7.7), "d": (45.1, 7.4)}
    cells = 12
    grid = coverage_grid(receivers, cells=cells)
    south, west, north, east = grid["bounds"]
    origin = (float(np.mean([p[0] for p in receivers.values()])), float(np.mean([p[1] for p in receivers.values()])))
    for index in (0, 5, cells + 3, 7 * cells + 10, cells * cells - 1):
        row, column = divmod(index, cells)
        centre = (south + (row + 0.5) * (north - south) / cells, west + (column + 0.5) * (east - west) / cells)
        alone = gdop_at(project([centre], origin), project(list(receivers.values()), origin))[0]
        assert grid["gdop"][index] == pytest.approx(float(alone), abs=1e-3), index
