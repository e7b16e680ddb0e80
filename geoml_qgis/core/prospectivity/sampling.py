"""Training data: features sampled on a stack at points, background negatives, pretext labels."""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from osgeo import osr

from ..errors import GeoMLError
from ..io import PointTable, RasterStack, numeric_column
from ..io.crs import crs_name, same_crs, to_srs


@dataclass
class Sampled:
    """Features at points. ``X`` (n_kept, n_features) float32; ``kept`` (n_points,) bool;
    ``outside`` / ``nodata``: how many points were dropped for each reason."""

    X: np.ndarray
    kept: np.ndarray
    outside: int
    nodata: int

    def message(self, what: str = "points") -> str:
        parts = []
        if self.outside:
            parts.append(f"{self.outside} outside the feature stack")
        if self.nodata:
            parts.append(f"{self.nodata} on nodata")
        return f"Dropped {' and '.join(parts)} of the {what}." if parts else ""


def to_stack_crs(x: np.ndarray, y: np.ndarray, points_crs: str, stack_crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates reprojected from *points_crs* to *stack_crs* (unchanged when equal or unknown)."""
    if not points_crs or not stack_crs or same_crs(points_crs, stack_crs):
        return np.asarray(x, float), np.asarray(y, float)
    ct = osr.CoordinateTransformation(to_srs(points_crs), to_srs(stack_crs))
    ok = np.isfinite(x) & np.isfinite(y)
    xo, yo = np.full(len(x), np.nan), np.full(len(y), np.nan)
    if ok.any():
        pts = np.asarray(ct.TransformPoints(np.column_stack([x[ok], y[ok]]).tolist()))
        xo[ok], yo[ok] = pts[:, 0], pts[:, 1]
    return xo, yo


def sample_stack(stack: RasterStack, points: PointTable) -> Sampled:
    """Sample every band of *stack* at *points* (reprojected to the stack's CRS when needed).

    Points outside the stack or on nodata in any band are dropped and counted.
    """
    if points.crs_wkt and not stack.grid.crs_wkt:
        raise GeoMLError("The feature stack has no CRS, so the points cannot be placed on it; assign the stack a CRS.")
    try:
        x, y = to_stack_crs(points.x, points.y, points.crs_wkt, stack.grid.crs_wkt)
    except RuntimeError as exc:
        raise GeoMLError(f"Cannot reproject the points ({crs_name(points.crs_wkt)}) to the stack's CRS "
                         f"({crs_name(stack.grid.crs_wkt)}): {exc}") from exc
    _, _, inside = stack.grid.rowcol(np.nan_to_num(x, nan=-1e300), np.nan_to_num(y, nan=-1e300))
    inside &= np.isfinite(x) & np.isfinite(y)
    values = stack.sample(np.where(inside, x, stack.grid.bounds[0] - 1), np.where(inside, y, 0))
    valid = inside & ~np.ma.getmaskarray(values).any(axis=1)
    return Sampled(values.data[valid].astype(np.float32), valid, int((~inside).sum()), int((inside & ~valid).sum()))


def labels(points_attributes, field: str) -> np.ndarray:
    """A 0/1 label column; anything else is an error naming the values found."""
    y = numeric_column(points_attributes, field)
    bad = ~np.isin(y, (0, 1)) & ~np.isnan(y)
    if bad.any():
        raise GeoMLError(f"Label field '{field}' must hold 1 (deposit) or 0 (not a deposit); found "
                         f"{', '.join(map(str, np.unique(y[bad])[:5]))}.")
    return y


def random_pixels(stack: RasterStack, n: int, seed: int, exclude_xy: np.ndarray | None = None,
                  min_distance: float = 0.0, max_tries: int = 20,
                  allow_fewer: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """*n* distinct random cells where every band has data, at least *min_distance* from *exclude_xy*.

    This is the documented background strategy: cells drawn uniformly over the stack,
    rejected on nodata or within ``min_distance`` of a known deposit. Returns
    ``(xy (n, 2), features (n, bands))``; with *allow_fewer*, fewer rows when no more were found
    (at least one).
    """
    from scipy.spatial import cKDTree

    rng = np.random.default_rng(seed)
    g = stack.grid
    tree = cKDTree(exclude_xy) if exclude_xy is not None and len(exclude_xy) and min_distance > 0 else None
    chosen: dict[int, tuple] = {}
    for _ in range(max_tries):
        need = n - len(chosen)
        if need <= 0:
            break
        cells = np.unique(rng.integers(0, g.width * g.height, size=4 * need + 16))
        cells = rng.permutation(cells[~np.isin(cells, np.fromiter(chosen.keys(), np.int64, len(chosen)))])
        x0, dx, _, y0, _, dy = g.transform
        x, y = x0 + (cells % g.width + 0.5) * dx, y0 + (cells // g.width + 0.5) * dy
        vals = stack.sample(x, y)
        ok = ~np.ma.getmaskarray(vals).any(axis=1)
        if tree is not None:
            ok &= tree.query(np.column_stack([x, y]))[0] >= min_distance
        for k in np.flatnonzero(ok)[:need]:
            chosen[int(cells[k])] = (x[k], y[k], vals.data[k])
    if not chosen and allow_fewer:
        raise GeoMLError("The feature stack has no cell where every band has a value.")
    if len(chosen) < n and not allow_fewer:
        raise GeoMLError(f"Only {len(chosen)} background cells with data were found (asked for {n}); "
                         "lower the number or the minimum distance to deposits.")
    keys = sorted(chosen)
    xy = np.array([[chosen[k][0], chosen[k][1]] for k in keys])
    return xy, np.array([chosen[k][2] for k in keys], dtype=np.float32)


def pretext_from_raster(stack: RasterStack, categorical: str | os.PathLike, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Pretext data: *n* random cells with their features and the class of *categorical* (e.g. geology).

    Returns ``(X (n, bands) float32, classes (n,) int)``.
    """
    with RasterStack([categorical], stack.grid, "nearest") as cats:
        xy, X = random_pixels(stack, n, seed)
        c = cats.sample(xy[:, 0], xy[:, 1])
    ok = ~np.ma.getmaskarray(c)[:, 0]
    if ok.sum() < 10:
        raise GeoMLError("The pretext raster has (almost) no data where the feature stack has data.")
    return X[ok], c.data[ok, 0].astype(np.int64)
