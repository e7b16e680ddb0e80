"""The steps behind the Processing algorithms: training data, train + CV + report, evaluation of a map."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import GeoMLError
from ..io import PointTable, RasterStack, numeric_column, write_text_atomic
from ..progress import ProgressCallback, report, scaled
from .calibration import calibration_metrics
from .evaluation import auc_scores, capture_efficiency, area_auc, cross_validate, spatial_folds, stratified_folds, success_rate
from .model import ENSEMBLE, METHODS, ProspectivityModel, check_labels
from .sampling import labels, pretext_from_raster, random_pixels, sample_stack

#: at most this many cells of a probability raster are kept to draw its success-rate curve
MAX_AREA_CELLS = 4_000_000


@dataclass
class TrainingData:
    """``X`` (n, f) float, ``y`` (n,) 0/1, ``xy`` (n, 2) or None, feature ``names``, ``notes`` for the log."""

    X: np.ndarray
    y: np.ndarray
    xy: np.ndarray | None
    names: list[str]
    notes: list[str] = field(default_factory=list)


def table_features(df: pd.DataFrame, fields: Sequence[str]) -> np.ndarray:
    """Numeric feature columns ``(n, len(fields))``; missing or text fields are errors naming them."""
    missing = [f for f in fields if f not in df.columns]
    if missing:
        raise GeoMLError(f"Feature field(s) {', '.join(missing)} not found; available: {', '.join(map(str, df.columns))}.")
    return np.column_stack([numeric_column(df, f) for f in fields])


def training_data(points: PointTable, label_field: str, stack_path: str | None = None,
                  feature_fields: Sequence[str] = (), background: int = 0, seed: int = 0) -> TrainingData:
    """Labelled features from points sampled on a stack, or from the fields of a table.

    *background* > 0 adds that many random cells of the stack as non-deposits (cells with data,
    at least two cells away from any deposit): the documented strategy when only deposits are known.
    """
    y = labels(points.attributes, label_field)
    notes = []
    if stack_path:
        with RasterStack([stack_path]) as stack:
            s = sample_stack(stack, points)
            if s.message():
                notes.append(s.message())
            X, y, xy = s.X.astype(np.float64), y[s.kept], points.xy[s.kept]
            names = list(stack.band_names)
            if background:
                dep = xy[y == 1]
                bxy, bX = random_pixels(stack, background, seed, dep, 2 * max(stack.grid.res))
                X, y, xy = np.vstack([X, bX]), np.concatenate([y, np.zeros(len(bX))]), np.vstack([xy, bxy])
                notes.append(f"Added {background} random background cells as non-deposits.")
    else:
        if not feature_fields:
            raise GeoMLError("Choose a feature stack (FEATURES) or the feature fields of the input (FEATURE_FIELDS).")
        if background:
            raise GeoMLError("Background non-deposits can only be drawn from a feature stack (FEATURES).")
        X, names = table_features(points.attributes, feature_fields), list(feature_fields)
        xy = points.xy if np.isfinite(points.xy).all() else None
    ok = ~np.isnan(y) & np.isfinite(X).all(axis=1)
    if (~ok).sum():
        notes.append(f"Dropped {int((~ok).sum())} rows with a missing label or feature value.")
    X, y = X[ok], y[ok].astype(np.int64)
    if xy is not None:
        xy = xy[ok]
    if len(y) == 0:
        raise GeoMLError("No training point is left (all outside the stack, on nodata or with missing values).")
    return TrainingData(X, y, xy, names, notes)


def pretext_data(names: Sequence[str], stack_path: str | None = None, points: PointTable | None = None,
                 field_name: str | None = None, raster: str | None = None, samples: int = 1000,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """Pretext features and classes from points/a table (*field_name*) or from a categorical *raster*."""
    if raster:
        if not stack_path:
            raise GeoMLError("A pretext raster can only be sampled together with a feature stack (FEATURES).")
        with RasterStack([stack_path]) as stack:
            X, c = pretext_from_raster(stack, raster, samples, seed)
        return X.astype(np.float64), c, f"pretext: {len(c)} random cells of {os.path.basename(raster)}"
    if points is None or not field_name:
        raise GeoMLError("The transfer method needs PRETEXT points/table with a PRETEXT_FIELD, or a PRETEXT_RASTER.")
    c = numeric_column(points.attributes, field_name)
    if stack_path:
        with RasterStack([stack_path]) as stack:
            s = sample_stack(stack, points)
        X, c = s.X.astype(np.float64), c[s.kept]
    else:
        X = table_features(points.attributes, names)
    ok = np.isfinite(c) & np.isfinite(X).all(axis=1)
    return X[ok], c[ok].astype(np.int64), f"pretext: {int(ok.sum())} points with classes of '{field_name}'"


def make_folds(data: TrainingData, k: int, spatial: bool, seed: int) -> np.ndarray:
    if spatial:
        if data.xy is None:
            raise GeoMLError("Spatially blocked folds need point coordinates; the input has none.")
        return spatial_folds(data.xy, data.y, k, seed=seed)
    return stratified_folds(data.y, k, seed)


def train(data: TrainingData, method: str, model_path: str, report_path: str | None = None,
          pretext: tuple[np.ndarray, np.ndarray, str] | None = None, class_weight="auto", epochs: int = 200,
          seed: int = 0, folds: int = 5, spatial: bool = False, compare: bool = False,
          progress: ProgressCallback | None = None, members: int = 10, latent_dim: int = 4,
          unlabelled: np.ndarray | None = None, explain_csv: str | None = None, explain_repeats: int = 5) -> dict:
    """Cross-validate *method* (and every method on the same folds when *compare*), then fit on all data and save.

    With a report or *explain_csv*, *method* is also explained: permutation importance on its held-out
    folds (*explain_repeats* shuffles per feature and fold) and partial dependence of the final model's
    top four features (see :mod:`.explain`), in the report and the CSV.
    Returns ``{"cv": [summary per method], "notes": [...], "importance": [rows]}``.
    """
    from .explain import FoldImportance, add_partial_dependence, explanation_html, write_explanation_csv

    check_labels(data.y, folds)
    def model_of(m: str) -> ProspectivityModel:
        mod = ProspectivityModel(m, data.names, class_weight, epochs, seed=seed, members=members, latent_dim=latent_dim)
        mod.unlabelled_ = unlabelled
        return mod

    proto = model_of(method)
    methods = list(METHODS) if compare else [method]
    needs_pretext = "transfer" in methods
    if needs_pretext and pretext is None:
        if method == "transfer":
            raise GeoMLError("The transfer method needs pretext data: PRETEXT points with PRETEXT_FIELD, or a PRETEXT_RASTER.")
        methods.remove("transfer")
    notes = list(data.notes)
    report(progress, 0.0)
    if needs_pretext and pretext is not None:
        proto_t = ProspectivityModel("transfer", data.names, class_weight, epochs, seed=seed).pretrain(pretext[0], pretext[1])
        notes.append(f"{pretext[2]}; pretext training accuracy {proto_t.pretext_.accuracy:.2f}.")
    fold_ids = make_folds(data, folds, spatial, seed)
    explainer = FoldImportance(data.names, explain_repeats, seed, method) if (report_path or explain_csv) else None
    results = []
    for i, m in enumerate(methods):
        if m == "transfer":
            make = proto_t.clone
        else:
            make = (lambda m=m: model_of(m))
        results.append(cross_validate(make, data.X, data.y, fold_ids, m,
                                      scaled(progress, 0.05 + 0.8 * i / len(methods), 0.05 + 0.8 * (i + 1) / len(methods)),
                                      calibration_metrics, explainer if m == method else None,
                                      (lambda model, X: model.predict_uncertainty(X)["total"]) if m == ENSEMBLE else None))
    final = proto_t.clone() if method == "transfer" else proto
    final.fit(data.X, data.y)
    cv = [r.summary() for r in results]
    digest = final.save(model_path, {"cv": cv, "cv_folds": folds, "cv_spatial": spatial,
                                     "n_deposits": int(data.y.sum()), "n_non_deposits": int((data.y == 0).sum())})
    expl = add_partial_dependence(explainer.expl, final, data.X, seed=seed) if explainer else None
    if explain_csv:
        write_explanation_csv(explain_csv, expl)
    if report_path:
        from .report import write_cv_report

        kind = "spatially blocked" if spatial else "stratified"
        write_cv_report(report_path, f"Prospectivity model: {method}", results, data.y,
                        [f"{folds}-fold {kind} cross-validation, seed {seed}; {int(data.y.sum())} deposits and "
                         f"{int((data.y == 0).sum())} non-deposits; features: {', '.join(data.names)}.", *notes],
                        explanation_html(expl))
    report(progress, 1.0)
    return {"cv": cv, "notes": notes, "sha256": digest, "importance": expl.importance() if expl else []}


def background_rows(stack_path: str, n: int, seed: int) -> np.ndarray:
    """Features of *n* random cells with data (unlabelled rows for the VAE ensemble), ``(n, bands)``."""
    with RasterStack([stack_path]) as stack:
        return random_pixels(stack, n, seed + 101)[1].astype(np.float64)


def raster_scores(prob_path: str, points: PointTable, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, str]:
    """Scores of the area (all valid cells, or a uniform random subset of :data:`MAX_AREA_CELLS`) and at *points*.

    Returns ``(area_scores, point_scores (n_points,) with NaN where dropped, kept mask, note)``.
    """
    rng = np.random.default_rng(seed)
    with RasterStack([prob_path]) as r:
        s = sample_stack(r, points)
        n_cells = r.grid.width * r.grid.height
        keep = min(1.0, MAX_AREA_CELLS / n_cells)
        parts = []
        for win in r.windows():
            b = r.read(win)[0]
            v = b.data[~np.ma.getmaskarray(b)]
            parts.append(v if keep >= 1 else v[rng.random(len(v)) < keep])
    scores = np.full(len(points), np.nan)
    scores[s.kept] = s.X[:, 0]
    return np.concatenate(parts), scores, s.kept, s.message("validation points")


def evaluate(area: np.ndarray, scores: np.ndarray, y: np.ndarray, report_path: str | None = None,
             csv_path: str | None = None, notes: Sequence[str] = ()) -> dict:
    """AUCs, success-rate area and capture efficiency of a map at validation points."""
    ok = np.isfinite(scores) & ~np.isnan(y)
    s, yy = scores[ok], y[ok].astype(int)
    if (yy == 1).sum() == 0:
        raise GeoMLError("No validation deposit (label 1) falls on scored cells; nothing to evaluate.")
    metrics: dict = {"validation deposits": int((yy == 1).sum()), "validation non-deposits": int((yy == 0).sum())}
    if (yy == 0).any():
        roc, pr = auc_scores(yy, s)
        metrics.update({"ROC AUC": roc, "PR AUC": pr})
    share, cap = success_rate(area, s[yy == 1])
    metrics["success-rate AUC"] = area_auc(share, cap)
    for q, v in capture_efficiency(area, s[yy == 1]).items():
        metrics[f"deposits captured in top {int(q * 100)} % of area"] = v
    if report_path:
        from .report import write_evaluation_report

        write_evaluation_report(report_path, metrics, area, yy, s, notes)
    if csv_path:
        rows = "\n".join(f"{share[i]:.4f},{cap[i]:.4f}" for i in range(len(share)))
        write_text_atomic(csv_path, "metric,value\n" + "\n".join(f"{k},{v}" for k, v in metrics.items())
                          + "\n\narea_share,deposits_captured\n" + rows + "\n")
    return metrics
