"""Weights of evidence on rasters: counting unit cells block by block, posterior and sd rasters.

Evidence rasters are put on one grid (nearest neighbour, so class values stay classes); every band
is one evidence layer. The study area is where at least one layer has data. A cell of area ``a``
counts ``a / unit_cell_area`` unit cells; each training deposit counts one, and two deposits closer
than the side of a unit cell are refused (one deposit per unit cell).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..errors import GeoMLError
from ..io import BlockWriter, PointTable, RasterStack, RasterStyle, provenance
from ..io.blocks import bounded_gdal_cache
from ..progress import ProgressCallback, report, scaled
from .sampling import to_stack_crs
from .wofe import KINDS, MIN_STUDENTISED, candidate_edges, discrete_weights, ordered_weights, user_edges
from .wofe_model import PosteriorEstimator, WofEModel, pairwise_chi_square

#: at most this many cells per ordered layer are kept to place its candidate thresholds
EDGE_SAMPLE = 200_000


@dataclass
class WofEResult:
    """What a raster run produced: the model, the deposits' class indices and the checks."""

    model: WofEModel
    deposit_classes: np.ndarray
    agterberg_cheng: dict = field(default_factory=dict)
    chi_square: list[dict] = field(default_factory=list)
    deposit_posterior: np.ndarray | None = None
    area_posterior: np.ndarray | None = None
    explanation: object | None = None


def unit_cell_map_area(km2: float, crs_wkt: str) -> float:
    """A unit cell of *km2* square kilometres in square map units of *crs_wkt* (a projected CRS)."""
    from osgeo import osr

    from ..io.crs import require_projected

    if km2 <= 0:
        raise GeoMLError("The unit cell area must be positive.")
    require_projected(crs_wkt, "the evidence")
    metres = 1.0
    if crs_wkt:
        srs = osr.SpatialReference(wkt=crs_wkt)
        metres = srs.GetLinearUnits() or 1.0
    return km2 * 1e6 / metres ** 2


def _kinds(kinds: Sequence[str] | str, names: Sequence[str]) -> list[str]:
    ks = [kinds] * len(names) if isinstance(kinds, str) else list(kinds)
    if len(ks) == 1 and len(names) > 1:
        ks = ks * len(names)
    if len(ks) != len(names):
        raise GeoMLError(f"Give one evidence type per evidence layer ({len(names)}: {', '.join(names)}); got {len(ks)}.")
    bad = [k for k in ks if k not in KINDS]
    if bad:
        raise GeoMLError(f"Unknown evidence type '{bad[0]}'; use one of {', '.join(KINDS)}.")
    return ks


def _block_values(stack: RasterStack, win) -> np.ndarray:
    b = stack.read(win)
    v = np.where(np.ma.getmaskarray(b), np.nan, b.data).astype(np.float64)
    return v.reshape(v.shape[0], -1).T


def deposit_values(stack: RasterStack, deposits: PointTable, unit_cell_area: float) -> tuple[np.ndarray, list[str]]:
    """Evidence values at the deposits ``(n_kept, n_layers)`` (NaN = no data) and notes."""
    if deposits.crs_wkt and not stack.grid.crs_wkt:
        raise GeoMLError("The evidence rasters have no CRS, so the deposits cannot be placed on them; assign one.")
    x, y = to_stack_crs(deposits.x, deposits.y, deposits.crs_wkt, stack.grid.crs_wkt)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) >= 2:
        from scipy.spatial import cKDTree

        d, j = cKDTree(np.column_stack([x, y])).query(np.column_stack([x, y]), k=2)
        side = np.sqrt(unit_cell_area)
        close = np.flatnonzero(d[:, 1] < side)
        if len(close):
            i = int(close[0])
            raise GeoMLError(f"Training deposits at ({x[i]:.1f}, {y[i]:.1f}) and ({x[j[i, 1]]:.1f}, {y[j[i, 1]]:.1f}) "
                             f"are {d[i, 1]:.1f} map units apart, closer than the side of a unit cell ({side:.1f}): "
                             f"{len(close)} deposits share a unit cell with another. Weights of evidence counts one "
                             "deposit per unit cell; thin the deposits or use a smaller unit cell area.")
    vals = stack.sample(x, y)
    v = np.where(np.ma.getmaskarray(vals), np.nan, vals.data).astype(np.float64)
    keep = np.isfinite(v).any(axis=1)
    notes = []
    if (~ok).sum() or (~keep).sum():
        notes.append(f"Dropped {int((~ok).sum() + (~keep).sum())} of {len(deposits)} deposits: outside the "
                     "evidence or on cells where no layer has data.")
    return v[keep], notes


def fit_raster(evidence: Sequence[str | os.PathLike], kinds: Sequence[str] | str, deposits: PointTable,
               unit_cell_area: float, criterion: str = "contrast", breaks: Mapping[str, Sequence[float]] | None = None,
               n_thresholds: int = 50, progress: ProgressCallback | None = None, reference=None,
               min_studentised: float = MIN_STUDENTISED) -> tuple[WofEModel, np.ndarray]:
    """Fit weights of every evidence band over the whole grid; returns the model and the deposits' values.

    *unit_cell_area* is in square map units; *reference* is the grid (default: the first raster's).
    """
    if unit_cell_area <= 0:
        raise GeoMLError("The unit cell area must be positive.")
    breaks = dict(breaks or {})
    with RasterStack(list(evidence), reference, "nearest") as stack:
        names = list(stack.band_names)
        if len(set(names)) != len(names):
            raise GeoMLError("Two evidence bands have the same name; rename one file.")
        ks = _kinds(kinds, names)
        for n in breaks:
            if n not in names:
                raise GeoMLError(f"Class breaks given for '{n}', which is not an evidence layer ({', '.join(names)}).")
        dep, notes = deposit_values(stack, deposits, unit_cell_area)
        if len(dep) < 2:
            raise GeoMLError(f"Weights of evidence needs at least two training deposits on the evidence; found {len(dep)}.")
        res = abs(stack.grid.res[0] * stack.grid.res[1])
        cell = res / unit_cell_area
        if cell > 1e6:
            notes.append(f"A raster cell holds {cell:g} unit cells; is the unit cell area in square map units?")
        windows = list(stack.windows())
        rng = np.random.default_rng(0)
        rate = min(1.0, EDGE_SAMPLE / (stack.grid.width * stack.grid.height))
        discrete = {j: {} for j, k in enumerate(ks) if k in ("binary", "categorical")}
        samples = {j: [] for j, k in enumerate(ks) if k in ("ascending", "descending", "ordered") and names[j] not in breaks}
        study, missing = 0, np.zeros(len(names))
        prog1 = scaled(progress, 0.0, 0.5)
        for i, win in enumerate(windows):
            px = _block_values(stack, win)
            inside = np.isfinite(px).any(axis=1)
            px = px[inside]
            study += len(px)
            missing += (~np.isfinite(px)).sum(axis=0)
            for j, counts in discrete.items():
                u, c = np.unique(px[np.isfinite(px[:, j]), j], return_counts=True)
                for val, n in zip(u.tolist(), c.tolist()):
                    counts[val] = counts.get(val, 0) + n
                if len(counts) > 255:
                    raise GeoMLError(f"'{names[j]}' has more than 255 distinct values; give it as an ordered layer "
                                     "(ascending, descending or breaks).")
            for j, s in samples.items():
                v = px[np.isfinite(px[:, j]), j]
                s.append(v if rate >= 1 else v[rng.random(len(v)) < rate])
            report(prog1, (i + 1) / len(windows))
        if study == 0:
            raise GeoMLError("The evidence rasters have no data anywhere.")
        edges = {j: (user_edges(breaks[names[j]]) if names[j] in breaks else
                     candidate_edges(np.concatenate(samples[j]), n_thresholds, names[j]) if j in samples else None)
                 for j, k in enumerate(ks) if k not in ("binary", "categorical")}
        for j, e in edges.items():
            if e is None:
                raise GeoMLError(f"Layer '{names[j]}' has the type 'breaks' but no class breaks were given.")
        fine = {j: np.zeros(len(e) - 1) for j, e in edges.items()}
        if fine:
            prog2 = scaled(progress, 0.5, 1.0)
            for i, win in enumerate(windows):
                px = _block_values(stack, win)
                for j, acc in fine.items():
                    v = px[np.isfinite(px[:, j]), j]
                    acc += np.bincount(np.searchsorted(edges[j][1:-1], v, side="left"), minlength=len(acc))
                report(prog2, (i + 1) / len(windows))
    layers = []
    for j, (name, kind) in enumerate(zip(names, ks)):
        v = dep[:, j]
        ok = np.isfinite(v)
        if j in discrete:
            values = sorted(discrete[j])
            area = np.array([discrete[j][x] for x in values], float) * cell
            dcount = np.array([(v[ok] == x).sum() for x in values], float)
            layers.append(discrete_weights(name, kind, values, area, dcount, missing[j] * cell))
        else:
            e = edges[j]
            dcount = np.bincount(np.searchsorted(e[1:-1], v[ok], side="left"), minlength=len(e) - 1).astype(float)
            layers.append(ordered_weights(name, kind, e, fine[j] * cell, dcount, criterion, missing[j] * cell,
                                          min_studentised))
    report(progress, 1.0)
    return WofEModel(layers, study * cell, float(len(dep)), unit_cell_area, notes), dep


def predict_raster(model: WofEModel, evidence: Sequence[str | os.PathLike], posterior_path: str | os.PathLike,
                   sd_path: str | os.PathLike | None = None, parameters: Mapping | None = None,
                   progress: ProgressCallback | None = None, keep_area_sample: int = 200_000,
                   reference=None, algorithm: str = "geoml_qgis.core.prospectivity.predict_raster",
                   ) -> tuple[dict, np.ndarray]:
    """Write the posterior probability (and its sd) block by block; returns the Agterberg-Cheng test
    and a random sample of posterior values over the area (for success-rate curves)."""
    meta = provenance(algorithm, parameters)
    with RasterStack(list(evidence), reference, "nearest") as stack:
        if list(stack.band_names) != model.names:
            raise GeoMLError(f"The evidence layers ({', '.join(stack.band_names)}) are not those the weights were "
                             f"computed for ({', '.join(model.names)}).")
        grid = stack.grid
        cell = abs(grid.res[0] * grid.res[1]) / model.unit_cell_area
        radix = np.array([len(lw.classes) + 1 for lw in model.layers], np.int64)
        mult = np.concatenate([[1], np.cumprod(radix)[:-1]])
        counts: dict[int, int] = {}
        rng = np.random.default_rng(0)
        rate = min(1.0, keep_area_sample / (grid.width * grid.height))
        area_sample = []
        windows = list(stack.windows())
        with BlockWriter(posterior_path, grid, 1, "float32", band_names=["posterior probability"], metadata=meta,
                         style=RasterStyle("continuous", ramp="magma")) as wp, \
                (BlockWriter(sd_path, grid, 1, "float32", band_names=["posterior standard deviation"], metadata=meta,
                             style=RasterStyle("continuous", ramp="blues")) if sd_path else _Null()) as ws, \
                bounded_gdal_cache():
            report(progress, 0.0)
            for i, win in enumerate(windows):
                px = _block_values(stack, win)
                inside = np.isfinite(px).any(axis=1)
                cls = model.classify(px[inside])
                p_in, sd_in, _ = model.posterior_from_classes(cls)
                code = cls @ mult
                u, c = np.unique(code, return_counts=True)
                for key, n in zip(u.tolist(), c.tolist()):
                    counts[key] = counts.get(key, 0) + n
                area_sample.append(p_in if rate >= 1 else p_in[rng.random(len(p_in)) < rate])
                p, sd = np.full(len(px), np.nan), np.full(len(px), np.nan)
                p[inside], sd[inside] = p_in, sd_in
                wp.write(win, p.reshape(win.height, win.width))
                if sd_path:
                    ws.write(win, sd.reshape(win.height, win.width))
                report(progress, (i + 1) / len(windows))
    keys = np.array(sorted(counts), np.int64)
    codes = (keys[:, None] // mult[None, :]) % radix[None, :]
    ac = model.agterberg_cheng(codes, np.array([counts[k] for k in keys.tolist()], float) * cell)
    return ac, np.concatenate(area_sample) if area_sample else np.empty(0)


def explain_weights(model: WofEModel, evidence: Sequence[str], kinds, dep: np.ndarray, criterion: str,
                    n_thresholds: int, min_studentised: float, reference=None, background: int = 2000,
                    seed: int = 0, folds: int = 5):
    """Permutation importance of the layers on held-out folds, and partial dependence of the map's model.

    The deposits and *background* random cells of the study area (standing for the area, label 0)
    form a table; weights of evidence is refitted on each training fold (table mode, same evidence
    types and generalisation) and scored on the held-out fold.
    """
    from .evaluation import cross_validate, stratified_folds
    from .explain import FoldImportance, add_partial_dependence
    from .wofe_model import WofEClassifier

    ks = _kinds(kinds, model.names)  # 'ordered' directions are chosen again on every fold
    breaks = {lw.name: lw.edges[1:-1] for lw in model.layers if lw.kind == "breaks"}
    with RasterStack(list(evidence), reference, "nearest") as stack:
        g = stack.grid
        rng = np.random.default_rng(seed)
        cells = rng.choice(g.width * g.height, min(g.width * g.height, 4 * background), replace=False)
        x0, dx, _, y0, _, dy = g.transform
        vals = stack.sample(x0 + (cells % g.width + 0.5) * dx, y0 + (cells // g.width + 0.5) * dy)
    bg = np.where(np.ma.getmaskarray(vals), np.nan, vals.data).astype(np.float64)
    bg = bg[np.isfinite(bg).any(axis=1)][:background]
    X, y = np.vstack([dep, bg]), np.r_[np.ones(len(dep)), np.zeros(len(bg))].astype(int)
    k = int(min(folds, len(dep)))
    if k < 2 or len(bg) < 10:
        return None
    hook = FoldImportance(model.names, 5, seed, "weights of evidence")
    try:
        cross_validate(lambda: WofEClassifier(model.names, ks, criterion, None, n_thresholds, min_studentised, breaks),
                       X, y, stratified_folds(y, k, seed), on_fold=hook)
    except GeoMLError as exc:  # a training fold too small for some layer: no importance, say why
        model.notes.append(f"No permutation importance: {exc}")
        return None
    return add_partial_dependence(hook.expl, PosteriorEstimator(model), X, seed=seed)


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return None


def run_weights_of_evidence(evidence: Sequence[str | os.PathLike], kinds: Sequence[str] | str, deposits: PointTable,
                            unit_cell_area: float, posterior_path: str, sd_path: str | None = None,
                            weights_csv: str | None = None, report_path: str | None = None,
                            model_path: str | None = None, criterion: str = "contrast",
                            breaks: Mapping[str, Sequence[float]] | None = None, n_thresholds: int = 50,
                            parameters: Mapping | None = None, progress: ProgressCallback | None = None,
                            vectors: Sequence[str | os.PathLike] = (), reference=None,
                            min_studentised: float = MIN_STUDENTISED, explain_csv: str | None = None,
                            background: int = 2000, seed: int = 0,
                            algorithm: str = "geoml_qgis.core.prospectivity.run_weights_of_evidence") -> WofEResult:
    """Weights, posterior and sd rasters, weights table, conditional-independence checks and report.

    *vectors*: line, point or polygon layers; each becomes a ``dist_<name>`` evidence band (distance
    to the nearest feature, 0 inside polygons) generalised as ``ascending`` (near is favourable).
    With a report or *explain_csv*, the layers are also ranked by permutation importance
    (:func:`explain_weights`, *background* random cells, *seed*).
    """
    from .distance import distance_rasters
    from .wofe_report import write_weights_csv, write_wofe_report

    evidence, ks = [str(p) for p in evidence], list(kinds) if not isinstance(kinds, str) else kinds
    tmpdir = tempfile.mkdtemp(prefix="geoml_wofe_")
    try:
        if vectors:
            if reference is None and not evidence:
                raise GeoMLError("Vector evidence needs a grid: give an evidence raster or a reference raster.")
            with RasterStack([reference or evidence[0]]) as ref:
                grid = ref.grid
            reference = grid
            if isinstance(ks, str):
                with RasterStack(evidence, grid, "nearest") as st:
                    ks = [ks] * st.count
            evidence += distance_rasters(vectors, grid, tmpdir)
            ks = list(ks) + ["ascending"] * len(vectors)
        if not evidence:
            raise GeoMLError("Give at least one evidence raster or vector layer.")
        model, dep = fit_raster(evidence, ks, deposits, unit_cell_area, criterion, breaks, n_thresholds,
                                scaled(progress, 0.0, 0.45), reference, min_studentised)
        ac, area_p = predict_raster(model, evidence, posterior_path, sd_path, parameters,
                                    scaled(progress, 0.45, 0.95), reference=reference, algorithm=algorithm)
        dcls = model.classify(dep)
        chi = pairwise_chi_square(dcls, model.names, [len(lw.classes) for lw in model.layers])
        result = WofEResult(model, dcls, ac, chi, model.posterior_from_classes(dcls)[0], area_p)
        if explain_csv or report_path:
            result.explanation = explain_weights(model, evidence, ks, dep, criterion, n_thresholds,
                                                 min_studentised, reference, background, seed)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    if explain_csv and result.explanation is not None:
        from .explain import write_explanation_csv

        write_explanation_csv(explain_csv, result.explanation)
    if model_path:
        model.save(model_path)
    if weights_csv:
        write_weights_csv(weights_csv, model)
    if report_path:
        write_wofe_report(report_path, result)
    report(progress, 1.0)
    return result
