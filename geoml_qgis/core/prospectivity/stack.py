"""Feature stacks: evidence rasters aligned, one-hot encoded, standardised and optionally PCA-rotated.

:func:`build_feature_stack` reads the evidence block by block in three passes (category values,
then means and covariances, then the output), so rasters larger than memory are fine. The fitted
:class:`FeatureTransform` is written beside the stack as JSON and can be applied again to raw
evidence (another area, or points) so that exactly the same features come out.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..errors import GeoMLError
from ..io import BlockWriter, Grid, RasterStack, RasterStyle, provenance, write_text_atomic
from ..io.blocks import bounded_gdal_cache
from ..progress import ProgressCallback, report, scaled
from .distance import distance_rasters

MAX_CATEGORIES = 50


@dataclass
class FeatureTransform:
    """Raw evidence bands -> model features.

    Attributes
    ----------
    input_names : raw band names, in stack order
    categories : raw categorical band name -> its category values (one-hot columns, in order)
    mean, std : per expanded column (after one-hot), used to standardise
    components : (k, n_expanded) PCA rotation of the standardised columns, or empty for none
    explained : share of variance of each component
    """

    input_names: list[str]
    categories: dict[str, list[float]] = field(default_factory=dict)
    mean: list[float] = field(default_factory=list)
    std: list[float] = field(default_factory=list)
    components: list[list[float]] = field(default_factory=list)
    explained: list[float] = field(default_factory=list)

    @property
    def expanded_names(self) -> list[str]:
        names = []
        for n in self.input_names:
            if n in self.categories:
                names += [f"{n}={_fmt(v)}" for v in self.categories[n]]
            else:
                names.append(n)
        return names

    @property
    def output_names(self) -> list[str]:
        if self.components:
            return [f"PC{i + 1}" for i in range(len(self.components))]
        return self.expanded_names

    def expand(self, raw: np.ndarray) -> np.ndarray:
        """One-hot encode: raw ``(n, n_inputs)`` -> ``(n, n_expanded)`` float64 (NaN rows stay NaN)."""
        cols = []
        for j, n in enumerate(self.input_names):
            v = raw[:, j].astype(np.float64)
            if n in self.categories:
                cats = np.asarray(self.categories[n])
                onehot = (v[:, None] == cats[None, :]).astype(np.float64)
                onehot[np.isnan(v)] = np.nan
                cols.append(onehot)
            else:
                cols.append(v[:, None])
        return np.concatenate(cols, axis=1)

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Raw ``(n, n_inputs)`` -> features ``(n, n_outputs)`` float32; rows with any NaN stay NaN."""
        z = (self.expand(raw) - np.asarray(self.mean)) / np.asarray(self.std)
        if self.components:
            z = z @ np.asarray(self.components).T
        z[np.isnan(raw).any(axis=1)] = np.nan
        return z.astype(np.float32)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "output_names": self.output_names}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> "FeatureTransform":
        d = json.loads(text)
        d.pop("output_names", None)
        d["categories"] = {k: list(v) for k, v in d.get("categories", {}).items()}
        return cls(**d)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _pixels(block: np.ma.MaskedArray) -> np.ndarray:
    """``(bands, h, w)`` masked block -> ``(h*w, bands)`` float64 with NaN where masked."""
    data = np.where(np.ma.getmaskarray(block), np.nan, block.data).astype(np.float64)
    return data.reshape(data.shape[0], -1).T


def fit_transform_stats(stack: RasterStack, categorical: Sequence[str], pca_components: int,
                        progress: ProgressCallback | None = None) -> FeatureTransform:
    """Fit a :class:`FeatureTransform` over every valid pixel of *stack* (two passes of blocks)."""
    tf = FeatureTransform(list(stack.band_names))
    cat_idx = [stack.band_names.index(n) for n in categorical]
    windows = list(stack.windows())
    values: dict[int, set] = {j: set() for j in cat_idx}
    if cat_idx:
        for i, win in enumerate(windows):
            px = _pixels(stack.read(win))
            px = px[~np.isnan(px).any(axis=1)]
            for j in cat_idx:
                values[j].update(np.unique(px[:, j]).tolist())
                if len(values[j]) > MAX_CATEGORIES:
                    raise GeoMLError(
                        f"'{stack.band_names[j]}' has more than {MAX_CATEGORIES} distinct values; is it really a "
                        "categorical raster (geology classes)? Give it as a continuous input instead."
                    )
            report(progress, 0.5 * (i + 1) / len(windows))
        tf.categories = {stack.band_names[j]: sorted(values[j]) for j in cat_idx}
    n_exp = len(tf.expanded_names)
    n, s, ss = 0, np.zeros(n_exp), np.zeros((n_exp, n_exp))
    for i, win in enumerate(windows):
        px = tf.expand(_pixels(stack.read(win)))
        px = px[~np.isnan(px).any(axis=1)]
        n += len(px)
        s += px.sum(axis=0)
        ss += px.T @ px
        report(progress, 0.5 + 0.5 * (i + 1) / len(windows))
    if n < 2:
        raise GeoMLError("The evidence rasters have no pixel where every layer has data; check their extents and nodata.")
    mean = s / n
    cov = ss / n - np.outer(mean, mean)
    std = np.sqrt(np.clip(np.diag(cov), 0, None))
    const = [nm for nm, sd in zip(tf.expanded_names, std) if sd <= 1e-12]
    if const:
        raise GeoMLError(f"Evidence layer(s) {', '.join(const)} are constant over the area and carry no information; remove them.")
    tf.mean, tf.std = mean.tolist(), std.tolist()
    if pca_components:
        if pca_components > n_exp:
            raise GeoMLError(f"{pca_components} PCA components asked for, but the stack has only {n_exp} features.")
        corr = cov / np.outer(std, std)
        w, v = np.linalg.eigh(corr)
        order = np.argsort(w)[::-1][:pca_components]
        comps = v[:, order].T
        comps *= np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(axis=1)])[:, None]  # deterministic sign
        tf.components = comps.tolist()
        tf.explained = (w[order] / w.sum()).tolist()
    return tf


def build_feature_stack(
    output: str | os.PathLike,
    inputs: Sequence[str | os.PathLike],
    categorical: Sequence[str | os.PathLike] = (),
    vectors: Sequence[str | os.PathLike] = (),
    reference: Grid | str | os.PathLike | None = None,
    pca_components: int = 0,
    transform_path: str | os.PathLike | None = None,
    parameters: Mapping | None = None,
    progress: ProgressCallback | None = None,
    algorithm: str = "geoml_qgis.core.prospectivity.build_feature_stack",
) -> FeatureTransform:
    """Write a standardised (optionally PCA-rotated) multi-band feature stack and its transform.

    Parameters
    ----------
    inputs : continuous evidence rasters (bilinear resampling onto the grid)
    categorical : categorical rasters (nearest neighbour; one-hot encoded, one band per class)
    vectors : line/polygon/point layers; each gives a ``dist_<name>`` band (distance in map units)
    reference : target grid (default: the first raster)
    pca_components : 0 keeps the standardised features; k > 0 writes the first k principal components
    transform_path : JSON file for the fitted transform (default: ``<output>.json``)

    Returns the fitted :class:`FeatureTransform`; band names of the output are its ``output_names``.
    """
    rasters = [str(p) for p in inputs] + [str(p) for p in categorical]
    if not rasters:
        raise GeoMLError("Give at least one evidence raster.")
    report(progress, 0.0)
    tmpdir = tempfile.mkdtemp(prefix="geoml_stack_")
    try:
        with RasterStack(rasters, reference, ["bilinear"] * len(inputs) + ["nearest"] * len(categorical)) as base:
            grid = base.grid
        cat_names = []
        if categorical:
            with RasterStack(list(categorical), grid, "nearest") as cats:
                cat_names = list(cats.band_names)
        dist_paths = distance_rasters(vectors, grid, tmpdir) if vectors else []
        paths = rasters + dist_paths
        methods = ["bilinear"] * len(inputs) + ["nearest"] * (len(categorical) + len(dist_paths))
        with RasterStack(paths, grid, methods) as stack:
            dup = {n for n in stack.band_names if stack.band_names.count(n) > 1}
            if dup:
                raise GeoMLError(f"Two inputs have the same band name ({', '.join(sorted(dup))}); rename one file.")
            tf = fit_transform_stats(stack, cat_names, pca_components, scaled(progress, 0.05, 0.6))
            meta = provenance(algorithm, parameters)
            meta["GEOML_FEATURE_TRANSFORM"] = tf.to_json()
            prog = scaled(progress, 0.6, 1.0)
            windows = list(stack.windows())
            with BlockWriter(output, grid, len(tf.output_names), "float32", band_names=tf.output_names,
                             metadata=meta, style=RasterStyle("continuous", ramp="spectral_r")) as writer, \
                    bounded_gdal_cache():
                for i, win in enumerate(windows):
                    feats = tf.apply(_pixels(stack.read(win)))
                    block = feats.T.reshape(len(tf.output_names), win.height, win.width)
                    writer.write(win, np.ma.masked_invalid(block))
                    report(prog, (i + 1) / len(windows))
        write_text_atomic(transform_path or f"{output}.json", tf.to_json())
        return tf
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def read_transform(stack_path: str | os.PathLike) -> FeatureTransform | None:
    """The transform stored in a feature stack's metadata, or None for any other raster."""
    from osgeo import gdal

    ds = gdal.Open(str(stack_path))
    text = (ds.GetMetadata() or {}).get("GEOML_FEATURE_TRANSFORM")
    return FeatureTransform.from_json(text) if text else None
