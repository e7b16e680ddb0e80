"""Samples along holes: positions, along-hole depth, cleaned element values."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import GeoMLError
from .assays import DEFAULT_MISSING_CODES, CleaningLog, clean_assays, hole_ids, intervals_to_positions


@dataclass
class Samples:
    """Cleaned samples, sorted by hole then depth.

    Attributes
    ----------
    hole : (n,) str
    xyz : (n, 3) float
    depth : (n,) along-hole distance (from the collar, or from the hole's top sample)
    values : DataFrame (n, m) positive element values
    extra : DataFrame (n rows) of carried fields (from/to)
    log : the cleaning log (duplicates added to its messages)
    """

    hole: np.ndarray
    xyz: np.ndarray
    depth: np.ndarray
    values: pd.DataFrame
    extra: pd.DataFrame
    log: CleaningLog
    crs_wkt: str = ""

    def __len__(self) -> int:
        return len(self.hole)

    @property
    def elements(self) -> list[str]:
        return [str(c) for c in self.values.columns]

    @property
    def n_holes(self) -> int:
        return len(np.unique(self.hole))

    def frame(self) -> pd.DataFrame:
        """hole, x, y, z, depth, carried fields and element values as one table."""
        base = pd.DataFrame({"hole": self.hole, "x": self.xyz[:, 0], "y": self.xyz[:, 1], "z": self.xyz[:, 2],
                             "depth": self.depth})
        return pd.concat([base, self.extra.reset_index(drop=True), self.values.reset_index(drop=True)], axis=1)


def _depth_from_xyz(hole: np.ndarray, xyz: np.ndarray) -> np.ndarray:
    """Along-hole depth from the hole's top sample, through the samples ordered by falling Z."""
    depth = np.zeros(len(hole))
    for h in np.unique(hole):
        idx = np.flatnonzero(hole == h)
        idx = idx[np.argsort(-xyz[idx, 2], kind="stable")]
        steps = np.linalg.norm(np.diff(xyz[idx], axis=0), axis=1)
        depth[idx] = np.concatenate([[0.0], np.cumsum(steps)])
    return depth


def build_samples(
    table: pd.DataFrame,
    elements: list[str],
    hole: np.ndarray | None,
    xyz: np.ndarray | None = None,
    depth: np.ndarray | None = None,
    intervals: tuple[np.ndarray, np.ndarray] | None = None,
    collars: pd.DataFrame | None = None,
    crs_wkt: str = "",
    carry: list[str] | None = None,
    missing_values=DEFAULT_MISSING_CODES,
    negative: str = "detection_limit",
    survey: pd.DataFrame | None = None,
    desurvey_method: str = "minimum_curvature",
    dip_convention: str = "negative_down",
) -> Samples:
    """Samples from an assay table.

    Positions come either from *xyz* (n, 3) (Z may be NaN where *depth* is given: then
    Z = -depth below the sample's X, Y, i.e. vertical holes from elevation 0), or from
    *intervals* ``(from, to)`` with *collars* (sample at the midpoint): straight holes along the
    collars' azimuth and dip, or, with a *survey* table (hole, depth, azimuth, dip), desurveyed by
    :func:`.survey.desurvey` (*desurvey_method*, *dip_convention*).
    Columns *carry* of *table* are kept in ``extra``. *missing_values* and *negative*: see
    :func:`~geoml_qgis.core.borehole.assays.clean_assays`.
    Without *hole*, every sample is its own hole (surface samples). Duplicated positions
    within a hole (field duplicates) are averaged into one sample.
    """
    n = len(table)
    holes = np.array([f"S{i + 1}" for i in range(n)], object) if hole is None else np.asarray(hole, object)
    extra = pd.DataFrame(index=table.index)
    for name in carry or []:
        if name not in table.columns:
            raise GeoMLError(f"Field '{name}' not found; available: {', '.join(map(str, table.columns))}.")
        extra[name] = table[name].to_numpy()
    if intervals is not None:
        if collars is None:
            raise GeoMLError("From/to intervals need a collar table (hole id, X, Y, elevation).")
        frm, to = (np.asarray(a, float) for a in intervals)
        xyz, depth = intervals_to_positions(holes, frm, to, collars)
        if survey is not None:
            from .survey import desurvey

            result = desurvey(collars, survey, desurvey_method, dip_convention)
            xyz = result.positions(holes, depth)
            survey_notes = result.notes
        extra["from"], extra["to"] = frm, to
    elif xyz is None:
        raise GeoMLError("Give sample coordinates (X, Y and Z or depth) or collars with from/to intervals.")
    else:
        xyz = np.array(xyz, float)
        if depth is not None:
            depth = np.asarray(depth, float)
            if np.isnan(depth).any():
                raise GeoMLError(f"{int(np.isnan(depth).sum())} sample(s) have no depth value.")
            nz = np.isnan(xyz[:, 2])
            xyz[nz, 2] = -depth[nz]
    bad = ~np.isfinite(xyz).all(axis=1)
    if bad.any():
        raise GeoMLError(f"{int(bad.sum())} sample(s) have no X, Y or Z/depth (row {int(np.flatnonzero(bad)[0]) + 1}).")
    values, kept, log = clean_assays(table, elements, missing_values, negative)
    if intervals is not None and survey is not None:
        log.messages.extend(survey_notes)
    holes, xyz, extra = holes[kept], xyz[kept], extra[kept]
    depth = _depth_from_xyz(holes, xyz) if depth is None else np.asarray(depth, float)[kept]
    order = np.lexsort((depth, holes))
    holes, xyz, depth = holes[order], xyz[order], depth[order]
    values, extra = values.iloc[order].reset_index(drop=True), extra.iloc[order].reset_index(drop=True)
    holes, xyz, depth, values, extra, n_dup = _merge_duplicates(holes, xyz, depth, values, extra)
    if n_dup:
        log.messages.append(f"{n_dup} duplicate sample(s) at the same position of the same hole averaged into one.")
    return Samples(holes.astype(str), xyz, depth, values, extra, log, crs_wkt)


def _merge_duplicates(holes, xyz, depth, values, extra):
    key = pd.DataFrame({"h": holes, "x": np.round(xyz[:, 0], 6), "y": np.round(xyz[:, 1], 6), "z": np.round(xyz[:, 2], 6)})
    dup = key.duplicated().to_numpy()
    if not dup.any():
        return holes, xyz, depth, values, extra, 0
    group = key.groupby(["h", "x", "y", "z"], sort=False).ngroup().to_numpy()
    first = ~dup
    # geometric mean: concentrations are compositional and log-normal
    merged = np.exp(pd.DataFrame(np.log(values.to_numpy()), columns=values.columns).groupby(group, sort=False).mean())
    return holes[first], xyz[first], depth[first], merged.reset_index(drop=True), extra[first].reset_index(drop=True), int(dup.sum())


def collar_frame(table: pd.DataFrame, hole: str, x: str, y: str, z: str, azimuth: str | None = None,
                 dip: str | None = None) -> pd.DataFrame:
    """The collar table as columns ``hole, x, y, z, azimuth, dip`` (vertical where no azimuth/dip)."""
    from ..io.vector import numeric_column

    if hole not in table:
        raise GeoMLError(f"Collar hole id field '{hole}' not found; available: {', '.join(map(str, table.columns))}.")
    out = pd.DataFrame({"hole": hole_ids(table[hole])})
    for key, name in (("x", x), ("y", y), ("z", z)):
        out[key] = numeric_column(table, name)
    out["azimuth"] = numeric_column(table, azimuth) if azimuth else 0.0
    out["dip"] = numeric_column(table, dip) if dip else -90.0
    return out
