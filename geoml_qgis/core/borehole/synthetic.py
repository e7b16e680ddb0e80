"""A synthetic borehole set with known answers: holes crossing gently dipping layered units.

Each unit has its own composition (log-normal around unit means, ~35 % noise per sample);
assays are reported as laboratories do: three significant figures, values below the
detection limit as ``<DL`` text (most elements), as a negative number (As), or with a flag
column (``Au_ppb_flag`` = ``<``, value = DL), plus a few blanks. Straight holes from collars
with azimuth and dip, sampled on regular from/to intervals. Everything here is SYNTHETIC.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .assays import desurvey_straight

ELEMENTS = ["Cu_ppm", "Zn_ppm", "Pb_ppm", "As_ppm", "Au_ppb", "Ag_ppm", "Fe_pct", "S_pct", "Ba_ppm", "Co_ppm"]
# typical crustal log10 levels of the named elements, in their units
BASE_LOG10 = [1.7, 1.9, 1.2, 0.7, 0.5, -1.0, 0.6, -0.5, 2.5, 1.2]


@dataclass
class SyntheticBoreholes:
    """collars: hole, x, y, z, azimuth, dip; assays: hole, from, to, element columns (text as labs
    write them) and ``Au_ppb_flag``; truth: (n,) unit 1..n_units of each assay row; xyz: (n, 3)."""

    collars: pd.DataFrame
    assays: pd.DataFrame
    truth: np.ndarray
    xyz: np.ndarray

    @property
    def elements(self) -> list[str]:
        return [c for c in self.assays.columns if c not in ("hole", "from", "to") and not c.endswith("_flag")]

    def points_table(self) -> pd.DataFrame:
        """One row per sample with X, Y, Z instead of from/to."""
        df = self.assays.drop(columns=["from", "to"]).copy()
        df.insert(1, "X", np.round(self.xyz[:, 0], 2))
        df.insert(2, "Y", np.round(self.xyz[:, 1], 2))
        df.insert(3, "Z", np.round(self.xyz[:, 2], 2))
        return df


def _sig3(v: np.ndarray) -> np.ndarray:
    """Three significant figures, as laboratories report (exact decimal text through float(str))."""
    return np.array([float(f"{x:.3g}") for x in np.ravel(v)]).reshape(np.shape(v))


def make_boreholes(n_holes: int = 12, n_units: int = 4, n_elements: int = 8, samples_per_hole: int = 75,
                   interval: float = 2.0, noise: float = 0.15, seed: int = 0,
                   origin: tuple[float, float] = (182600.0, 330000.0)) -> SyntheticBoreholes:
    """Generate a synthetic borehole data set (see the module docstring).

    Collars lie in a square starting at *origin* (map units; by default an invented
    place just south-east of the Meuse sample area in EPSG:28992, so the demo shows
    every capability in one CRS).
    """
    rng = np.random.default_rng(seed)
    names = (ELEMENTS + [f"E{i}_ppm" for i in range(len(ELEMENTS), n_elements)])[:n_elements]
    base = np.array((BASE_LOG10 + [1.0] * n_elements)[:n_elements])
    # unit means in log10, distinct as ratios: centred log-ratios at least 1.2 log10 units apart
    while True:
        means = base + rng.normal(0.0, 0.45, (n_units, n_elements))
        ratios = means - means.mean(axis=1, keepdims=True)
        gaps = [np.linalg.norm(ratios[a] - ratios[b]) for a in range(n_units) for b in range(a + 1, n_units)]
        if min(gaps, default=2.0) > 1.2:
            break
    length = samples_per_hole * interval
    thickness = length * 0.85 / n_units
    tilt = rng.normal(0, 0.03, 2)
    side = 150.0 * np.sqrt(n_holes)
    cx, cy = rng.uniform(0, side, n_holes), rng.uniform(0, side, n_holes)
    collars = pd.DataFrame({
        "hole": [f"DH{i + 1:03d}" for i in range(n_holes)],
        "x": np.round(origin[0] + cx, 1), "y": np.round(origin[1] + cy, 1),
        "z": np.round(400 + 0.01 * cx + rng.normal(0, 2, n_holes), 1),
        "azimuth": np.round(rng.uniform(0, 360, n_holes)), "dip": -np.round(rng.uniform(60, 90, n_holes)),
    })
    frm = np.tile(np.arange(samples_per_hole) * interval, n_holes)
    to = frm + interval
    hole_idx = np.repeat(np.arange(n_holes), samples_per_hole)
    c = collars.iloc[hole_idx]
    xyz = desurvey_straight(c[["x", "y", "z"]].to_numpy(float), c["azimuth"].to_numpy(float),
                            c["dip"].to_numpy(float), (frm + to) / 2)
    # unit boundaries: tilted planes with a gentle undulation below a datum 5 m under the mean collar elevation
    datum = collars["z"].mean() - 5.0
    rel = np.column_stack([xyz[:, 0] - origin[0], xyz[:, 1] - origin[1]])
    shift = rel @ tilt + 4.0 * np.sin(rel[:, 0] / 120.0)
    truth = np.ones(len(xyz), int)
    for u in range(1, n_units):
        truth += xyz[:, 2] < datum - u * thickness + shift
    logs = means[truth - 1] + rng.normal(0.0, noise, (len(xyz), n_elements))
    values = _sig3(10 ** logs)
    assays = pd.DataFrame({"hole": collars["hole"].to_numpy()[hole_idx], "from": frm, "to": to})
    for j, name in enumerate(names):
        dl = float(_sig3(np.array([np.quantile(values[:, j], 0.04)]))[0])
        below = values[:, j] < dl
        col = values[:, j].astype(object)
        if name.startswith("As"):
            col[below] = -dl
        elif name.startswith("Au"):
            col[below] = dl
            assays[f"{name}_flag"] = np.where(below, "<", "")
        else:
            col[below] = f"<{dl:g}"
        blank = rng.random(len(col)) < 0.003
        col[blank] = ""
        assays.insert(3 + j, name, col)
    return SyntheticBoreholes(collars, assays, truth, xyz)
