"""Minimum wavelength mapping of a cube, strip by strip: feature rasters, a styled position map, a report.

For every window the cube covers, four float32 bands are written (position nm,
depth, width nm, fit R^2; no data where no feature), see :mod:`.features`. The
position map shows the first window's position on a rainbow over the window with
each pixel's opacity from its depth (an alpha band), so strong features stand out
and weak ones fade. The report holds histograms of positions and depths.
"""
from __future__ import annotations

import contextlib
import html
from typing import Callable, Sequence

import numpy as np

from ..errors import GeoMLError
from ..io.atomic import write_text_atomic
from ..io.provenance import provenance
from ..io.raster import open_raster
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback, report
from ..report import figure_png, html_page, new_axes
from .classify import open_cube
from .features import DEFAULT_WINDOWS, FeatureWindow, fit_minimum_bands, window_bands
from .stream import stream_strips

Warn = Callable[[str], None]
QUANTITIES = ("position (nm)", "depth", "width (nm)", "fit R2")
DEPTH_BINS = np.linspace(0.0, 1.0, 401)
#: opacity of the shallowest mapped feature in the position map (0-255)
MIN_OPACITY = 60


def usable_windows(windows: Sequence[FeatureWindow], wavelengths: np.ndarray, fit_bands: int, name: str,
                   warn: Warn | None = None, required: bool = True) -> list[tuple[FeatureWindow, np.ndarray]]:
    """Windows with at least ``fit_bands + 2`` of the given band wavelengths, with their band indices.

    A window the bands do not cover is an error when *required*, else it is skipped with a warning
    (the default windows are used "where the sensor covers them"); none left is always an error.
    """
    out = []
    lo, hi = float(wavelengths[0]), float(wavelengths[-1])
    for w in windows:
        idx = window_bands(wavelengths, w)
        if idx.size >= fit_bands + 2:
            out.append((w, idx))
            continue
        msg = (f"The window {w.label} holds {idx.size} usable band(s) of '{name}' ({lo:.0f}-{hi:.0f} nm); "
               f"at least {fit_bands + 2} are needed")
        if required:
            raise GeoMLError(msg + ". Choose windows inside the cube's range or fewer fitted bands.")
        if warn:
            warn(msg + ": it is skipped.")
    if not out:
        raise GeoMLError(f"None of the windows ({', '.join(w.label for w in windows)}) "
                         f"lies inside the range of '{name}' ({lo:.0f}-{hi:.0f} nm).")
    return out


def _rows(idx: np.ndarray) -> slice | np.ndarray:
    """A run of consecutive indices as a slice (a view instead of a copy)."""
    if idx.size and np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
        return slice(int(idx[0]), int(idx[0]) + idx.size)
    return idx


def band_names(windows: Sequence[FeatureWindow]) -> list[str]:
    return [f"{w.name} {q}" for w in windows for q in QUANTITIES]


def map_minimum_wavelength(cube_path, out_features, windows: Sequence[FeatureWindow] | None = None,
                           out_position=None, out_report=None, min_depth: float = 0.01, fit_bands: int = 5,
                           method: str = "gaussian", parameters: dict | None = None, warn: Warn | None = None,
                           progress: ProgressCallback | None = None, max_pixels: int = 65536,
                           workers: int | None = None,
                           algorithm: str = "geoml_qgis.core.hyperspectral.map_minimum_wavelength") -> dict:
    """Minimum wavelength mapping of a cube.

    Parameters
    ----------
    cube_path : ENVI or GeoTIFF cube with wavelengths
    out_features : GeoTIFF path; 4 bands per usable window (see :data:`QUANTITIES`)
    windows : the windows; ``None`` uses :data:`~.features.DEFAULT_WINDOWS` where the cube covers them
    out_position : optional styled GeoTIFF: first window's position and an opacity band from its depth
    out_report : optional HTML report with histograms
    workers : threads computing strips at once (None: every core); the outputs do not depend on it

    Returns a summary per window name: pixels with a feature, median and quartiles of position and depth.
    """
    required = windows is not None
    cube = open_cube(cube_path, warn)
    good = cube.good
    used = usable_windows(DEFAULT_WINDOWS if windows is None else windows, cube.wavelengths[good], fit_bands,
                          cube.name, warn, required)
    wins = [w for w, _ in used]
    union = np.unique(np.concatenate([idx for _, idx in used]))
    local = [_rows(np.searchsorted(union, idx)) for _, idx in used]
    bands = good[union]
    wl = cube.wavelengths[bands]
    meta = provenance(algorithm, parameters)
    meta["GEOML_WINDOWS"] = "; ".join(f"{w.name}={w.lo:g}-{w.hi:g}" for w in wins)
    pos_hist = [np.zeros(int(np.ceil(w.hi - w.lo)) + 1, np.int64) for w in wins]
    depth_hist = [np.zeros(DEPTH_BINS.size - 1, np.int64) for _ in wins]
    n_valid = 0
    first = wins[0]
    style = RasterStyle("continuous", ramp="rainbow", vmin=first.lo, vmax=first.hi)
    writer = BlockWriter(out_features, cube.grid, 4 * len(wins), "float32", band_names=band_names(wins),
                         metadata=meta, style=style, interleave="band")  # the position map reads the depths

    def compute(values: np.ndarray, valid: np.ndarray):
        block = np.full((4 * len(wins), values.shape[1]), np.nan, np.float32)
        inside = valid.all()
        spectra = values if inside else values[:, valid]
        hists = []
        for k, (w, idx) in enumerate(zip(wins, local)):
            f = fit_minimum_bands(spectra[idx], wl[idx], min_depth, fit_bands, method).stack()
            if inside:
                block[4 * k:4 * k + 4] = f
            else:
                block[4 * k:4 * k + 4, valid] = f
            ok = np.isfinite(f[0])
            size = pos_hist[k].size
            hists.append((np.bincount(np.clip(np.round(f[0, ok] - w.lo).astype(np.int64), 0, size - 1),
                                      minlength=size), np.histogram(f[1, ok], DEPTH_BINS)[0]))
        return block, (int(valid.sum()), hists)

    consequence = ("Feature positions do not depend on a constant scale, but radiance keeps the solar and "
                   "atmospheric features, which shift and deepen the minima.")
    position_map = None
    if out_position:  # its position band is written with the features, its opacity band at the end
        position_map = BlockWriter(out_position, cube.grid, 2, "float32", metadata=meta, interleave="band",
                                   band_names=[f"{first.name} position (nm)", "opacity from depth (0-255)"],
                                   style=RasterStyle("continuous", ramp="rainbow", vmin=first.lo, vmax=first.hi,
                                                     alpha_band=2))
    with contextlib.ExitStack() as stack:
        if position_map is not None:
            stack.enter_context(position_map)
        with writer:
            for n, hists in stream_strips(cube, bands, compute, _Outputs(writer, position_map), consequence, warn,
                                          progress, max_pixels, workers, 0.9):
                n_valid += n
                for k, (ph, dh) in enumerate(hists):
                    pos_hist[k] += ph
                    depth_hist[k] += dh
        cube.close()
        summary = {w.name: _summary(w, ph, dh, n_valid) for w, ph, dh in zip(wins, pos_hist, depth_hist)}
        if position_map is not None:  # the depths are read back from the finished features file
            lo_d = summary[first.name]["depth_p02"] if summary[first.name]["pixels"] else min_depth
            hi_d = summary[first.name]["depth_p98"] if summary[first.name]["pixels"] else 1.0
            _write_opacity(out_features, position_map, lo_d, hi_d)
    if out_report:
        _write_report(out_report, cube.name, wins, pos_hist, depth_hist, summary, method, fit_bands, min_depth)
    report(progress, 1.0)
    return summary


def _quantile(hist: np.ndarray, edges: np.ndarray, q: float) -> float:
    cum = np.cumsum(hist)
    if cum[-1] == 0:
        return float("nan")
    i = int(np.searchsorted(cum, q * cum[-1]))
    return float(edges[min(i, len(edges) - 1)])


def _summary(w: FeatureWindow, pos_hist: np.ndarray, depth_hist: np.ndarray, n_valid: int) -> dict:
    centres = w.lo + np.arange(pos_hist.size)
    edges = DEPTH_BINS[1:]
    return {"pixels": int(pos_hist.sum()), "valid_pixels": n_valid,
            "position_p25": _quantile(pos_hist, centres, 0.25), "position_median": _quantile(pos_hist, centres, 0.5),
            "position_p75": _quantile(pos_hist, centres, 0.75), "depth_median": _quantile(depth_hist, edges, 0.5),
            "depth_p02": _quantile(depth_hist, edges, 0.02), "depth_p98": _quantile(depth_hist, edges, 0.98)}


class _Outputs:
    """The features file and (if asked for) the position map's position band, written strip by strip."""

    def __init__(self, features: BlockWriter, position_map: BlockWriter | None):
        self.features, self.position_map = features, position_map

    def write(self, window, block: np.ndarray) -> None:
        self.features.write(window, block)
        if self.position_map is not None:
            self.position_map.write_band(window, 0, block[0])

    def flush(self) -> None:
        self.features.flush()
        if self.position_map is not None:
            self.position_map.flush()


def _write_opacity(features_path, position_map: BlockWriter, lo_depth: float, hi_depth: float) -> None:
    """The position map's opacity band (0-255), stretched from the first window's depth in the features file."""
    ds = open_raster(features_path)
    band = ds.GetRasterBand(2)
    nd = band.GetNoDataValue()
    span = max(hi_depth - lo_depth, 1e-6)
    for win in position_map.grid.windows():
        depth = band.ReadAsArray(*win)
        alpha = MIN_OPACITY + (255 - MIN_OPACITY) * np.clip((depth - lo_depth) / span, 0.0, 1.0)
        position_map.write_band(win, 1, np.where(depth != nd, alpha, np.nan))
    ds = None


def _write_report(path, name: str, wins, pos_hist, depth_hist, summary: dict, method: str, fit_bands: int,
                  min_depth: float) -> None:
    parts = [f"<p>Cube <b>{html.escape(name)}</b>; hull-corrected band depths, {method} fit over {fit_bands} bands "
             f"around the deepest band; features shallower than {min_depth:g} are left out.</p>"]
    rows = "".join(
        f"<tr><td>{html.escape(w.label)}</td><td>{s['pixels']}</td>"
        f"<td>{100 * s['pixels'] / max(s['valid_pixels'], 1):.1f}%</td><td>{s['position_median']:.1f}</td>"
        f"<td>{s['position_p25']:.1f}-{s['position_p75']:.1f}</td><td>{s['depth_median']:.3f}</td></tr>"
        for w, s in ((w, summary[w.name]) for w in wins))
    parts.append("<table><tr><th>window</th><th>pixels with a feature</th><th>share</th><th>median position (nm)"
                 f"</th><th>quartiles (nm)</th><th>median depth</th></tr>{rows}</table>")
    for w, ph, dh in zip(wins, pos_hist, depth_hist):
        fig, (a1, a2) = new_axes(10, 3.2, 1, 2)
        x = w.lo + np.arange(ph.size)
        a1.bar(x, ph, width=1.0, color="#4686fb")
        a1.set(xlabel="position of the minimum (nm)", ylabel="pixels", title=f"{w.name}: position", xlim=(w.lo, w.hi))
        centres = (DEPTH_BINS[1:] + DEPTH_BINS[:-1]) / 2
        top = max(float(_quantile(dh, DEPTH_BINS[1:], 0.999)), 0.05) if dh.sum() else 1.0
        a2.bar(centres, dh, width=DEPTH_BINS[1] - DEPTH_BINS[0], color="#e4460a")
        a2.set(xlabel="band depth", ylabel="pixels", title=f"{w.name}: depth", xlim=(0, top))
        parts.append(f"<h2>{html.escape(w.label)}</h2><img src=\"data:image/png;base64,{figure_png(fig)}\">")
    write_text_atomic(path, html_page("Minimum wavelength mapping", parts))
