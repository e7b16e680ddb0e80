"""Desurveying drill holes from collar and downhole survey tables (minimum curvature or tangential).

Conventions (checked, with errors naming the hole and depth):

* **azimuth**: degrees clockwise from grid north, 0-360 (360 = 0); other values are refused;
* **dip**: degrees from horizontal, **negative downward** by default (-90 = vertical down, the
  usual convention of surface drilling); ``dip_convention="positive_down"`` reads 60 as 60 degrees
  down. A hole whose dips point up under the chosen convention, or that mixes signs, is refused:
  that is almost always a table written in the other convention;
* **depth**: along-hole distance from the collar; survey depths beyond the hole's length (when the
  collar table gives it) are refused.

Between stations, minimum curvature puts the hole on the circular arc tangent to both station
directions (dogleg ``b = arccos(t1 . t2)``; displacement ``L/2 (t1 + t2) RF``, ``RF = 2/b tan(b/2)``);
a point inside a segment lies on that arc (direction interpolated by spherical interpolation, which
is exact on a circle). Tangential uses the lower station's direction for the whole segment. Above
the first station the first direction applies, below the last one the last direction. A hole
without survey rows is straight along its collar azimuth and dip when the collar table has them,
vertical otherwise; both cases are listed in ``notes``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import GeoMLError

METHODS = ("minimum_curvature", "tangential")
DIP_CONVENTIONS = ("negative_down", "positive_down")


def direction(azimuth: np.ndarray, dip_down: np.ndarray) -> np.ndarray:
    """Unit vectors (n, 3) in (east, north, up) for azimuth and dip below horizontal, in degrees."""
    a, d = np.radians(np.asarray(azimuth, float)), np.radians(np.asarray(dip_down, float))
    return np.column_stack([np.sin(a) * np.cos(d), np.cos(a) * np.cos(d), -np.sin(d)])


def _ratio_factor(dogleg: np.ndarray) -> np.ndarray:
    small = dogleg < 1e-7
    safe = np.where(small, 1.0, dogleg)
    return np.where(small, 1.0 + dogleg**2 / 12.0, 2.0 / safe * np.tan(safe / 2.0))


def _slerp(t1: np.ndarray, t2: np.ndarray, f: np.ndarray) -> np.ndarray:
    cos = np.clip((t1 * t2).sum(axis=1), -1.0, 1.0)
    om = np.arccos(cos)
    small = om < 1e-7
    s = np.where(small, 1.0, np.sin(om))
    w1 = np.where(small, 1.0 - f, np.sin((1.0 - f) * om) / s)
    w2 = np.where(small, f, np.sin(f * om) / s)
    t = w1[:, None] * t1 + w2[:, None] * t2
    return t / np.linalg.norm(t, axis=1, keepdims=True)


@dataclass
class HolePath:
    """One hole's stations: depths (k,), unit directions (k, 3) and positions (k, 3), collar first."""

    hole: str
    depths: np.ndarray
    directions: np.ndarray
    positions: np.ndarray
    method: str
    length: float | None = None

    @property
    def end(self) -> float:
        """The hole's length: the collar table's, else the deepest survey station."""
        return max(self.length or 0.0, float(self.depths[-1]))

    def at(self, depth: np.ndarray) -> np.ndarray:
        """Positions (n, 3) at along-hole *depth* (n,)."""
        depth = np.asarray(depth, float)
        if (depth < 0).any():
            raise GeoMLError(f"Hole '{self.hole}': negative depth {depth.min():g}.")
        i = np.clip(np.searchsorted(self.depths, depth, side="right") - 1, 0, len(self.depths) - 1)
        s = depth - self.depths[i]
        last = i == len(self.depths) - 1
        j = np.minimum(i + 1, len(self.depths) - 1)
        out = self.positions[i] + s[:, None] * self.directions[i]  # below the last station: straight on
        inner = ~last
        if inner.any():
            ii, jj, ss = i[inner], j[inner], s[inner]
            t1, t2 = self.directions[ii], self.directions[jj]
            if self.method == "tangential":
                out[inner] = self.positions[ii] + ss[:, None] * t2
            else:
                f = ss / (self.depths[jj] - self.depths[ii])
                tf = _slerp(t1, t2, f)
                beta = np.arccos(np.clip((t1 * tf).sum(axis=1), -1.0, 1.0))
                out[inner] = self.positions[ii] + (ss / 2.0 * _ratio_factor(beta))[:, None] * (t1 + tf)
        return out

    def trace(self, step: float = 0.0) -> np.ndarray:
        """Vertices (k, 3) of the hole from collar to its end (:attr:`end`), at the stations and
        every *step* along the arcs (step 0: stations only)."""
        d = np.concatenate([self.depths, [self.end]])
        if step > 0:
            d = np.concatenate([d, np.arange(0.0, self.end, step)])
        return self.at(np.unique(d))


def hole_path(hole: str, collar_xyz, depths, azimuths, dips_down, method: str = "minimum_curvature",
              length: float | None = None) -> HolePath:
    """The path of one hole from survey stations (depth, azimuth, dip below horizontal, degrees)."""
    if method not in METHODS:
        raise GeoMLError(f"Unknown desurvey method '{method}'; choose one of {', '.join(METHODS)}.")
    depths, az, dip = (np.asarray(a, float) for a in (depths, azimuths, dips_down))
    order = np.argsort(depths, kind="stable")
    depths, az, dip = depths[order], az[order], dip[order]
    if len(np.unique(depths)) < len(depths):
        raise GeoMLError(f"Hole '{hole}' has two survey rows at the same depth.")
    if (depths < 0).any():
        raise GeoMLError(f"Hole '{hole}' has a survey at negative depth {depths.min():g}.")
    if length is not None and np.isfinite(length) and (depths > length + 1e-9).any():
        raise GeoMLError(f"Hole '{hole}' has a survey at {depths.max():g} m, beyond its length of {length:g} m.")
    if depths[0] > 0:  # the first measured direction applies from the collar
        depths, az, dip = np.r_[0.0, depths], np.r_[az[0], az], np.r_[dip[0], dip]
    t = direction(az, dip)
    pos = np.zeros((len(depths), 3))
    pos[0] = np.asarray(collar_xyz, float)
    for k in range(1, len(depths)):
        L = depths[k] - depths[k - 1]
        if method == "tangential":
            pos[k] = pos[k - 1] + L * t[k]
        else:
            beta = np.arccos(np.clip(t[k - 1] @ t[k], -1.0, 1.0))
            pos[k] = pos[k - 1] + L / 2.0 * float(_ratio_factor(np.array([beta]))[0]) * (t[k - 1] + t[k])
    return HolePath(hole, depths, t, pos, method, length)


def check_angles(hole: str, depth: np.ndarray, azimuth: np.ndarray, dip: np.ndarray,
                 convention: str = "negative_down") -> np.ndarray:
    """Validated dips below horizontal (positive = down) of one hole's survey rows (module notes)."""
    if convention not in DIP_CONVENTIONS:
        raise GeoMLError(f"Unknown dip convention '{convention}'; choose one of {', '.join(DIP_CONVENTIONS)}.")
    for name, v in (("azimuth", azimuth), ("dip", dip), ("depth", depth)):
        if np.isnan(v).any():
            raise GeoMLError(f"Hole '{hole}' has a survey row without {name}.")
    bad = (azimuth < 0) | (azimuth > 360)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise GeoMLError(f"Hole '{hole}' has azimuth {azimuth[i]:g} at {depth[i]:g} m: azimuths run from 0 to 360 "
                         "degrees clockwise from north.")
    if (np.abs(dip) > 90).any():
        i = int(np.flatnonzero(np.abs(dip) > 90)[0])
        raise GeoMLError(f"Hole '{hole}' has dip {dip[i]:g} at {depth[i]:g} m: dips run from -90 to 90 degrees.")
    down = -dip if convention == "negative_down" else dip
    if (down < 0).any() and (down > 0).any():
        raise GeoMLError(f"Hole '{hole}' mixes upward and downward dips; check the sign of its dips.")
    if (down < 0).any():
        sign = "negative" if convention == "negative_down" else "positive"
        other = "positive_down" if convention == "negative_down" else "negative_down"
        raise GeoMLError(f"Hole '{hole}' points upward (dip {dip[0]:g}) under the convention that {sign} dips go "
                         f"down; if this table writes downward dips the other way, choose '{other}'.")
    return down


@dataclass
class Desurvey:
    """Paths of all holes and notes for the user."""

    paths: dict[str, HolePath]
    notes: list[str] = field(default_factory=list)

    def positions(self, holes: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Positions (n, 3) of samples of *holes* at along-hole *depth*."""
        holes, depth = np.asarray(holes).astype(str), np.asarray(depth, float)
        unknown = sorted(set(holes) - set(self.paths))
        if unknown:
            raise GeoMLError(f"Hole(s) {', '.join(unknown[:5])} have samples but no collar.")
        out = np.empty((len(holes), 3))
        for h in np.unique(holes):
            idx = holes == h
            out[idx] = self.paths[h].at(depth[idx])
        return out


def desurvey(collars: pd.DataFrame, survey: pd.DataFrame | None, method: str = "minimum_curvature",
             dip_convention: str = "negative_down") -> Desurvey:
    """Paths of every collar's hole.

    *collars*: columns ``hole, x, y, z`` and optionally ``azimuth, dip, length``;
    *survey*: columns ``hole, depth, azimuth, dip`` (any number of rows per hole), or None.
    """
    dup = collars["hole"][collars["hole"].duplicated()]
    if len(dup):
        raise GeoMLError(f"Hole '{dup.iloc[0]}' appears more than once in the collar table.")
    if collars[["x", "y", "z"]].isna().any().any():
        bad = collars.loc[collars[["x", "y", "z"]].isna().any(axis=1), "hole"].iloc[0]
        raise GeoMLError(f"Collar of hole '{bad}' has no X, Y or elevation.")
    groups = {} if survey is None else {str(h): g for h, g in survey.groupby(survey["hole"].astype(str), sort=False)}
    orphans = sorted(set(groups) - set(collars["hole"].astype(str)))
    if orphans:
        raise GeoMLError(f"Survey rows of hole(s) {', '.join(orphans[:5])} have no collar.")
    paths, straight, vertical = {}, [], []
    for row in collars.itertuples(index=False):
        h = str(row.hole)
        length = getattr(row, "length", None)
        g = groups.get(h)
        if g is None or g.empty:
            az, dp = getattr(row, "azimuth", np.nan), getattr(row, "dip", np.nan)
            if np.isfinite(az) and np.isfinite(dp):
                straight.append(h)
            else:
                vertical.append(h)
                az, dp = 0.0, (-90.0 if dip_convention == "negative_down" else 90.0)
            g = pd.DataFrame({"depth": [0.0], "azimuth": [az], "dip": [dp]})
        depth, az, dip = (g[c].to_numpy(float) for c in ("depth", "azimuth", "dip"))
        down = check_angles(h, depth, az, dip, dip_convention)
        paths[h] = hole_path(h, (row.x, row.y, row.z), depth, np.mod(az, 360.0), down, method,
                             float(length) if length is not None and pd.notna(length) else None)
    notes = []
    if straight:
        notes.append(f"{len(straight)} hole(s) without survey rows drawn straight along their collar azimuth and "
                     f"dip: {', '.join(straight[:10])}{' ...' if len(straight) > 10 else ''}.")
    if vertical:
        notes.append(f"{len(vertical)} hole(s) without survey rows or collar orientation taken as vertical: "
                     f"{', '.join(vertical[:10])}{' ...' if len(vertical) > 10 else ''}.")
    return Desurvey(paths, notes)
