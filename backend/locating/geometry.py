"""How well the ready receivers can locate a transmitter, over the network's area.

2-D TDoA dilution of precision on a local east-north plane (an equirectangular
projection about the receivers' centroid, good to a fraction of a percent over a
region): for a point p and receivers 1..N, with u_i the unit vector from p to receiver i,

    H = [u_2 - u_1; ...; u_N - u_1]          ((N-1) x 2)
    Q = I + 1 1^T                            ((N-1) x (N-1): TDoA noise, all against receiver 1)
    GDOP = sqrt(trace((H^T Q^-1 H)^-1))
    expected 1-sigma position error = GDOP * c * sigma_t

Q^-1 = I - 1 1^T / N (Sherman-Morrison), so H^T Q^-1 H = H^T H - (H^T 1)(1^T H) / N
needs no (N-1)-square matrix: a grid over 1,000 receivers is a few array products.
Worked by hand: at the centroid of an equilateral triangle, H^T Q^-1 H = 3/2 I and
GDOP = sqrt(4/3) = 1.1547, whatever the triangle's size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

C_M_PER_S = 299_792_458.0
EARTH_RADIUS_M = 6_371_008.8
SAME_PLACE_M = 50.0  # receivers closer than this see a signal at the same time
COLLINEAR_RATIO = 0.05  # spread across the receivers' line / along it, below which they are "on a line"
MAX_GDOP = 1e6  # beyond this (or singular), a cell is reported as unusable: null


def project(positions: Sequence[tuple[float, float]], origin: tuple[float, float]) -> np.ndarray:
    """(lat, lon) in degrees to metres east and north of `origin`."""
    lat0, lon0 = map(math.radians, origin)
    points = np.radians(np.asarray(positions, dtype=float).reshape(-1, 2))
    east = (points[:, 1] - lon0) * math.cos(lat0) * EARTH_RADIUS_M
    north = (points[:, 0] - lat0) * EARTH_RADIUS_M
    return np.column_stack([east, north])


def gdop_at(points: np.ndarray, receivers: np.ndarray) -> np.ndarray:
    """TDoA GDOP at each point (G x 2, metres) for the receivers (N x 2, metres); NaN where
    the geometry gives no fix (fewer than 3 receivers, a point on a receiver, singular).

    M = HᵀH - (Hᵀ1)(Hᵀ1)ᵀ / N (Sherman–Morrison on Q = I + 11ᵀ), with H's rows u_i - u_1.
    Its three entries are sums over receivers, taken from u directly, so the work is a few
    passes over G x N numbers and no G x N x 2 array is built."""
    count = len(receivers)
    if count < 3:
        return np.full(len(points), np.nan)
    dx = receivers[None, :, 0] - points[:, 0, None]  # G x N
    dy = receivers[None, :, 1] - points[:, 1, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        inverse = 1.0 / np.hypot(dx, dy)
    ux, uy = dx * inverse, dy * inverse
    bx, by = ux[:, 0], uy[:, 0]  # u_1, the reference receiver
    rest = count - 1
    sx, sy = ux[:, 1:].sum(axis=1), uy[:, 1:].sum(axis=1)  # sums of u_i over the others
    sxx = np.einsum("gn,gn->g", ux[:, 1:], ux[:, 1:])
    syy = np.einsum("gn,gn->g", uy[:, 1:], uy[:, 1:])
    sxy = np.einsum("gn,gn->g", ux[:, 1:], uy[:, 1:])
    # Sums over the rows r_i = u_i - u_1: Σr, Σr_x², Σr_y², Σr_x r_y.
    rx, ry = sx - rest * bx, sy - rest * by
    rxx = sxx - 2 * bx * sx + rest * bx * bx
    ryy = syy - 2 * by * sy + rest * by * by
    rxy = sxy - bx * sy - by * sx + rest * bx * by
    m00, m11, m01 = rxx - rx * rx / count, ryy - ry * ry / count, rxy - rx * ry / count
    det = m00 * m11 - m01 * m01
    with np.errstate(invalid="ignore", divide="ignore"):
        trace_of_inverse = (m00 + m11) / det
        gdop = np.sqrt(trace_of_inverse)
    gdop[~np.isfinite(gdop) | (trace_of_inverse <= 0) | (gdop > MAX_GDOP)] = np.nan
    return gdop


def same_place_pairs(xy: np.ndarray) -> list[tuple[int, int]]:
    """Pairs of receivers closer than SAME_PLACE_M, each once, in order: each is compared
    only with those in its own and the neighbouring squares of that size (not N²)."""
    squares: dict[tuple[int, int], list[int]] = {}
    for index, (x, y) in enumerate(xy):
        squares.setdefault((int(x // SAME_PLACE_M), int(y // SAME_PLACE_M)), []).append(index)
    pairs = set()
    for (cx, cy), members in squares.items():
        near = [k for ox in (-1, 0, 1) for oy in (-1, 0, 1) for k in squares.get((cx + ox, cy + oy), ())]
        for i in members:
            for j in near:
                if i < j and math.dist(xy[i], xy[j]) < SAME_PLACE_M:
                    pairs.add((i, j))
    return sorted(pairs)


def warnings_for(receivers: dict[str, tuple[float, float]]) -> list[str]:
    """What makes the geometry poor, in words: too few, the same place, one line."""
    found = []
    if len(receivers) < 3:
        found.append(f"{len(receivers)} receiver{'' if len(receivers) == 1 else 's'} ready: "
                     "a position needs at least 3")
    if not receivers:
        return found
    keys = list(receivers)
    origin = tuple(np.mean(list(receivers.values()), axis=0))
    xy = project([receivers[k] for k in keys], origin)
    for i, j in same_place_pairs(xy):
        found.append(f"{keys[i]} and {keys[j]} are at the same place: they add no geometry")
    if len(keys) >= 3:
        spread = np.linalg.svd(xy - xy.mean(axis=0), compute_uv=False)
        if spread[0] > 0 and spread[1] / spread[0] < COLLINEAR_RATIO:
            found.append("the ready receivers lie nearly on one line: positions across it are poor")
    return found


def coverage_grid(receivers: dict[str, tuple[float, float]], sigma_t_s: float = 1e-6, cells: int = 40,
                  margin: float = 0.25) -> dict:
    """The receivers' area (with a margin) cut into `cells` x `cells` cells: its bounds, and
    per cell, row by row from the south-west, `gdop` and `error_m` (1 sigma, metres; None
    where there is no fix); plus `warnings`. The map draws this; `coverage` makes GeoJSON."""
    grid = {"warnings": warnings_for(receivers), "sigma_t_s": sigma_t_s, "receivers": sorted(receivers),
            "cells": cells, "bounds": None, "gdop": [], "error_m": []}
    if not receivers:
        return grid
    lats = [lat for lat, _ in receivers.values()]
    lons = [lon for _, lon in receivers.values()]
    pad_lat = max((max(lats) - min(lats)) * margin, 0.05)
    pad_lon = max((max(lons) - min(lons)) * margin, 0.05)
    south, north = min(lats) - pad_lat, max(lats) + pad_lat
    west, east = min(lons) - pad_lon, max(lons) + pad_lon
    lat_centres = south + (np.arange(cells) + 0.5) * (north - south) / cells
    lon_centres = west + (np.arange(cells) + 0.5) * (east - west) / cells
    centres = [(lat, lon) for lat in lat_centres for lon in lon_centres]
    origin = (float(np.mean(lats)), float(np.mean(lons)))
    gdop = gdop_at(project(centres, origin), project(list(receivers.values()), origin))
    fine = np.isfinite(gdop)
    grid["bounds"] = [float(south), float(west), float(north), float(east)]
    grid["gdop"] = [round(float(g), 3) if ok else None for g, ok in zip(gdop, fine)]
    grid["error_m"] = [round(float(g) * C_M_PER_S * sigma_t_s, 1) if ok else None for g, ok in zip(gdop, fine)]
    return grid


def coverage(receivers: dict[str, tuple[float, float]], sigma_t_s: float = 1e-6, cells: int = 40,
             margin: float = 0.25) -> dict:
    """A GeoJSON FeatureCollection of the grid's cells, each with `gdop` and `error_m`,
    and `warnings`."""
    grid = coverage_grid(receivers, sigma_t_s, cells, margin)
    features: list[dict] = []
    answer = {"type": "FeatureCollection", "features": features, "warnings": grid["warnings"],
              "sigma_t_s": sigma_t_s, "receivers": grid["receivers"]}
    if grid["bounds"] is None:
        return answer
    south, west, north, east = grid["bounds"]
    lat_edges = np.linspace(south, north, cells + 1)
    lon_edges = np.linspace(west, east, cells + 1)
    for index, (gdop, error_m) in enumerate(zip(grid["gdop"], grid["error_m"])):
        i, j = divmod(index, cells)
        ring = [[lon_edges[j], lat_edges[i]], [lon_edges[j + 1], lat_edges[i]], [lon_edges[j + 1], lat_edges[i + 1]],
                [lon_edges[j], lat_edges[i + 1]], [lon_edges[j], lat_edges[i]]]
        features.append({"type": "Feature", "geometry": {"type": "Polygon",
                                                         "coordinates": [[[round(x, 5), round(y, 5)] for x, y in ring]]},
                         "properties": {"gdop": gdop, "error_m": error_m}})
    return answer
