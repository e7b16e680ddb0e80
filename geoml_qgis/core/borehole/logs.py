"""Strip logs, a vertical section and a 3D view of clustered samples (matplotlib, Agg, no pyplot).

All functions take the clustering's sample table (:meth:`ClusteringOutcome.sample_frame`:
columns hole, x, y, z, depth, element values and a label column such as ``cluster``).
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from ..errors import GeoMLError
from ..io.atomic import atomic_path
from ..io.style import category_color
from ..report import new_figure

LOG_ELEMENTS = 4


def _label_column(ax, sub: pd.DataFrame, label: str, half: float) -> None:
    for _, r in sub.iterrows():
        ax.axhspan(r["depth"] - half, r["depth"] + half, color=category_color(int(r[label])), lw=0)
    ax.set_xticks([]), ax.set_title(label, fontsize=8)


def strip_log(frame: pd.DataFrame, hole: str, elements: list[str], label: str = "cluster", fig=None):
    """One hole's strip log: the label column, then one curve per element (log scale) against depth."""
    sub = frame[frame["hole"].astype(str) == str(hole)].sort_values("depth")
    if sub.empty:
        raise GeoMLError(f"Hole '{hole}' has no samples.")
    els = list(elements)[:LOG_ELEMENTS]
    fig = fig or new_figure(1.2 + 1.6 * len(els), 6.0)
    steps = np.diff(sub["depth"].to_numpy(float))
    half = float(np.median(steps[steps > 0])) / 2 if (steps > 0).any() else 0.5
    axes = fig.subplots(1, len(els) + 1, sharey=True, gridspec_kw={"width_ratios": [0.35] + [1] * len(els)})
    _label_column(axes[0], sub, label, half)
    axes[0].set_ylabel("depth along hole"), axes[0].invert_yaxis()
    for ax, el in zip(axes[1:], els):
        ax.plot(sub[el], sub["depth"], color="#333333", lw=0.8)
        ax.scatter(sub[el], sub["depth"], c=[category_color(int(v)) for v in sub[label]], s=6, zorder=3)
        ax.set_xscale("log"), ax.set_title(el, fontsize=8), ax.tick_params(labelsize=7)
    fig.suptitle(f"hole {hole}", fontsize=10)
    return fig


def strip_logs_pdf(path: str | os.PathLike, frame: pd.DataFrame, elements: list[str], label: str = "cluster",
                   holes: list[str] | None = None) -> int:
    """A PDF with one strip-log page per hole (all holes by default), written atomically; returns pages."""
    from matplotlib.backends.backend_pdf import PdfPages

    if not str(path).lower().endswith(".pdf"):
        raise GeoMLError(f"The logs must be a .pdf file; got '{os.path.basename(str(path))}'.")
    names = list(dict.fromkeys(frame["hole"].astype(str))) if holes is None else [str(h) for h in holes]
    with atomic_path(path) as tmp:
        with PdfPages(tmp) as pdf:
            for h in names:
                pdf.savefig(strip_log(frame, h, elements, label))
    return len(names)


def section_line(frame: pd.DataFrame, holes: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A section line (start, end) in map X, Y: through the chosen holes' collars (first samples),
    along their main direction (first principal axis), or through all holes when none are chosen."""
    tops = frame.sort_values("depth").groupby(frame["hole"].astype(str), sort=False)[["x", "y"]].first()
    if holes:
        missing = [h for h in map(str, holes) if h not in tops.index]
        if missing:
            raise GeoMLError(f"Section hole(s) {', '.join(missing)} not found.")
        tops = tops.loc[[str(h) for h in holes]]
    xy = tops.to_numpy(float)
    centre = xy.mean(axis=0)
    if len(xy) < 2:
        axis = np.array([1.0, 0.0])
    else:
        axis = np.linalg.svd(xy - centre, full_matrices=False)[2][0]
    s = (xy - centre) @ axis
    pad = 0.05 * max(np.ptp(s), 1.0)
    return centre + (s.min() - pad) * axis, centre + (s.max() + pad) * axis


def section_figure(frame: pd.DataFrame, holes: list[str] | None = None, width: float | None = None,
                   label: str = "cluster"):
    """Vertical section: samples within *width* (map units; default a tenth of the line's length)
    of the section line, projected onto distance along the line and elevation, coloured by *label*."""
    a, b = section_line(frame, holes)
    length = float(np.linalg.norm(b - a))
    u = (b - a) / max(length, 1e-12)
    xy = frame[["x", "y"]].to_numpy(float) - a
    along, across = xy @ u, xy @ np.array([-u[1], u[0]])
    width = width or max(0.1 * length, 1.0)
    near = np.abs(across) <= width
    if holes:
        near |= frame["hole"].astype(str).isin([str(h) for h in holes]).to_numpy()
    fig = new_figure(10, 5)
    ax = fig.add_subplot(1, 1, 1)
    sub = frame[near]
    for h, g in sub.groupby(sub["hole"].astype(str)):
        g = g.sort_values("depth")
        ax.plot(along[g.index], g["z"], color="#999999", lw=0.6, zorder=1)
        ax.annotate(h, (along[g.index][0], g["z"].iloc[0]), fontsize=7, ha="center", va="bottom")
    for k in sorted(sub[label].unique()):
        sel = sub[label] == k
        ax.scatter(along[sub.index[sel]], sub.loc[sel, "z"], s=10, color=category_color(int(k)), label=f"{label} {k}",
                   zorder=2)
    ax.set_xlabel(f"distance along the section from ({a[0]:.0f}, {a[1]:.0f}) to ({b[0]:.0f}, {b[1]:.0f})")
    ax.set_ylabel("elevation"), ax.set_aspect("equal", adjustable="datalim"), ax.legend(fontsize=7, ncol=2)
    ax.set_title(f"vertical section: {int(near.sum())} samples within {width:.0f} map units of the line", fontsize=10)
    return fig


def view3d_figure(frame: pd.DataFrame, label: str = "cluster", max_points: int = 5000, seed: int = 0):
    """A 3D scatter of the samples coloured by *label* (equal horizontal scales)."""
    idx = np.arange(len(frame))
    if len(idx) > max_points:
        idx = np.sort(np.random.default_rng(seed).choice(idx, max_points, replace=False))
    sub = frame.iloc[idx]
    fig = new_figure(8, 6.5)
    ax = fig.add_subplot(1, 1, 1, projection="3d")
    for k in sorted(sub[label].unique()):
        sel = (sub[label] == k).to_numpy()
        ax.scatter(sub["x"].to_numpy()[sel], sub["y"].to_numpy()[sel], sub["z"].to_numpy()[sel], s=4,
                   color=category_color(int(k)), label=f"{label} {k}")
    ax.set_xlabel("X"), ax.set_ylabel("Y"), ax.set_zlabel("Z"), ax.legend(fontsize=7)
    ax.view_init(elev=25, azim=-60)
    return fig
