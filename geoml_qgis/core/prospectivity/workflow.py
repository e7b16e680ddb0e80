"""The steps behind the Processing algorithms: training data, train + CV + report, evaluation of a map."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ArgumentError, GeoMLError
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


def training_data(points: PointTable, *, label_field: str, stack_path: str | None = None,
                  feature_fields: Sequence[str] = (), background: int = 0, seed: int = 0) -> TrainingData:
    """Labelled features from *points* sampled on the stack at *stack_path*, or from their *feature_fields*.

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
            raise ArgumentError("Choose a feature stack ({stack_path}) or the feature fields of the input "
                                "({feature_fields}).")
        if background:
            raise ArgumentError("Background non-deposits ({background}) can only be drawn from a feature stack "
                                "({stack_path}).")
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


@dataclass(frozen=True)
class Pretext:
    """Rows of a pretext task: features ``X`` (n, f) float, integer ``classes`` (n,), a ``note`` for the log."""

    X: np.ndarray
    classes: np.ndarray
    note: str


def pretext_data(names: Sequence[str], *, stack_path: str | None = None, points: PointTable | None = None,
                 class_field: str | None = None, raster: str | None = None, samples: int = 1000,
                 seed: int = 0) -> Pretext:
    """Pretext features (columns *names*) and classes from *points* (their *class_field*) or from a
    categorical *raster* sampled at *samples* random cells of the stack."""
    if raster:
        if not stack_path:
            raise ArgumentError("A pretext raster ({raster}) can only be sampled together with a feature stack "
                                "({stack_path}).")
        with RasterStack([stack_path]) as stack:
            X, c = pretext_from_raster(stack, raster, samples, seed)
        return Pretext(X.astype(np.float64), c, f"pretext: {len(c)} random cells of {os.path.basename(raster)}")
    if points is None or not class_field:
        raise ArgumentError(_NO_PRETEXT)
    c = numeric_column(points.attributes, class_field)
    if stack_path:
        with RasterStack([stack_path]) as stack:
            s = sample_stack(stack, points)
        X, c = s.X.astype(np.float64), c[s.kept]
    else:
        X = table_features(points.attributes, names)
    ok = np.isfinite(c) & np.isfinite(X).all(axis=1)
    return Pretext(X[ok], c[ok].astype(np.int64), f"pretext: {int(ok.sum())} points with classes of '{class_field}'")


_NO_PRETEXT = ("The transfer method needs pretext data: points or a table ({points}) with a class field "
               "({class_field}), or a categorical raster ({raster}).")


def make_folds(data: TrainingData, *, k: int, spatial: bool, seed: int) -> np.ndarray:
    """Fold index (n,) of each training row: stratified, or in spatial blocks of the points' extent."""
    if spatial:
        if data.xy is None:
            raise GeoMLError("Spatially blocked folds need point coordinates; the input has none.")
        return spatial_folds(data.xy, data.y, k, seed=seed)
    return stratified_folds(data.y, k, seed)


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` did: ``cv`` one summary per method (as :meth:`CVResult.summary`), the chosen
    ``method``, ``notes`` for the log, the saved model's ``sha256`` and the permutation ``importance``
    rows of the chosen method (empty without a report or explanation CSV)."""

    method: str
    cv: list[dict]
    notes: list[str]
    sha256: str
    importance: list[dict]

    @property
    def chosen(self) -> dict:
        """The cross-validation summary of the chosen method."""
        return next(s for s in self.cv if s["method"] == self.method)


def train(data: TrainingData, *, method: str, model_path: str, report_path: str | None = None,
          pretext: Pretext | None = None, class_weight="auto", epochs: int = 200,
          seed: int = 0, folds: int = 5, spatial: bool = False, compare: bool = False,
          progress: ProgressCallback | None = None, members: int = 10, latent_dim: int = 4,
          unlabelled: np.ndarray | None = None, explain_csv: str | None = None,
          explain_repeats: int = 5) -> TrainResult:
    """Cross-validate *method* (and every method on the same folds when *compare*), then fit on all data and save.

    With a report or *explain_csv*, *method* is also explained: permutation importance on its held-out
    folds (*explain_repeats* shuffles per feature and fold) and partial dependence of the final model's
    top four features (see :mod:`.explain`), in the report and the CSV.
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
            raise ArgumentError(_NO_PRETEXT)
        methods.remove("transfer")
    notes = list(data.notes)
    report(progress, 0.0)
    if needs_pretext and pretext is not None:
        proto_t = ProspectivityModel("transfer", data.names, class_weight, epochs, seed=seed).pretrain(pretext.X, pretext.classes)
        notes.append(f"{pretext.note}; pretext training accuracy {proto_t.pretext_.accuracy:.2f}.")
    fold_ids = make_folds(data, k=folds, spatial=spatial, seed=seed)
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
    return TrainResult(method, cv, notes, digest, expl.importance() if expl else [])


def background_rows(stack_path: str, *, n: int, seed: int) -> np.ndarray:
    """Features of *n* random cells with data (unlabelled rows for the VAE ensemble), ``(n, bands)``."""
    with RasterStack([stack_path]) as stack:
        return random_pixels(stack, n, seed + 101)[1].astype(np.float64)


@dataclass(frozen=True)
class MapScores:
    """A map's scores over its area (all valid cells, or a uniform random subset of :data:`MAX_AREA_CELLS`)
    ``area`` (m,), at the points ``at_points`` (n_points,) with NaN where dropped, the ``kept`` mask
    (n_points,) and a ``note`` on the dropped points."""

    area: np.ndarray
    at_points: np.ndarray
    kept: np.ndarray
    note: str


def raster_scores(prob_path: str, points: PointTable, *, seed: int = 0) -> MapScores:
    """Scores of the single-band raster at *prob_path* over its area and at *points*."""
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
    return MapScores(np.concatenate(parts), scores, s.kept, s.message("validation points"))


@dataclass(frozen=True)
class Evaluation:
    """Figures of a map scored at validation points. ``roc_auc`` and ``pr_auc`` are None without
    non-deposits; ``captured`` maps a share of the area (ranked most prospective first) to the share
    of deposits in it; ``curve`` is the success-rate curve ``(area_share, deposits_captured)``."""

    n_deposits: int
    n_non_deposits: int
    roc_auc: float | None
    pr_auc: float | None
    success_rate_auc: float
    captured: dict[float, float]
    curve: tuple[np.ndarray, np.ndarray]

    def metrics(self) -> dict[str, float | int]:
        """The figures under identifier keys (``roc_auc``, ``success_rate_auc``, ``captured_top_10pct``...;
        display text in :data:`.report.METRIC_LABELS`), those that exist only."""
        m: dict[str, float | int] = {"n_deposits": self.n_deposits, "n_non_deposits": self.n_non_deposits}
        if self.roc_auc is not None:
            m.update(roc_auc=self.roc_auc, pr_auc=self.pr_auc)
        m["success_rate_auc"] = self.success_rate_auc
        m.update({captured_key(q): v for q, v in self.captured.items()})
        return m


def captured_key(share: float) -> str:
    """Identifier of the share of deposits captured in the top *share* of the area, e.g. ``captured_top_10pct``."""
    return f"captured_top_{int(round(share * 100))}pct"


def evaluate(area: np.ndarray, *, scores: np.ndarray, y: np.ndarray, report_path: str | None = None,
             csv_path: str | None = None, notes: Sequence[str] = ()) -> Evaluation:
    """AUCs, success-rate area and capture efficiency of a map with scores *area* (m,) over its area,
    *scores* (n,) at validation points labelled *y* (n,) (1 deposit, 0 not, NaN unknown)."""
    ok = np.isfinite(scores) & ~np.isnan(y)
    s, yy = scores[ok], y[ok].astype(int)
    if (yy == 1).sum() == 0:
        raise GeoMLError("No validation deposit (label 1) falls on scored cells; nothing to evaluate.")
    roc = pr = None
    if (yy == 0).any():
        roc, pr = auc_scores(yy, s)
    share, cap = success_rate(area, s[yy == 1])
    result = Evaluation(int((yy == 1).sum()), int((yy == 0).sum()), roc, pr, area_auc(share, cap),
                        dict(capture_efficiency(area, s[yy == 1])), (share, cap))
    if report_path:
        from .report import write_evaluation_report

        write_evaluation_report(report_path, result.metrics(), area, yy, s, notes)
    if csv_path:
        rows = "\n".join(f"{share[i]:.4f},{cap[i]:.4f}" for i in range(len(share)))
        write_text_atomic(csv_path, "metric,value\n" + "\n".join(f"{k},{v}" for k, v in result.metrics().items())
                          + "\n\narea_share,deposits_captured\n" + rows + "\n")
    return result
