"""HTML reports with embedded figures: CV tables, ROC, success-rate and prediction-area plots."""
from __future__ import annotations

import html
import os
from typing import Sequence

import numpy as np

from ..io import write_text_atomic
from ..report import html_page, img_tag, new_axes
from .evaluation import CAPTURE_AT, CVResult, area_auc, capture_efficiency, success_rate


def roc_figure(curves: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> str:
    """ROC curves of ``(label, y, p)`` triples, as an ``<img>`` tag."""
    from sklearn.metrics import roc_curve

    fig, ax = new_axes(4.5, 4)
    for label, y, p in curves:
        fpr, tpr, _ = roc_curve(y, p)
        ax.plot(fpr, tpr, label=label)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (held-out data)")
    ax.legend(fontsize=7)
    return img_tag(fig)


def success_figure(curves: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> str:
    """Success-rate curves of ``(label, area_scores, deposit_scores)``."""
    fig, ax = new_axes(4.5, 4)
    for label, area, dep in curves:
        share, cap = success_rate(area, dep)
        ax.plot(100 * share, 100 * cap, label=f"{label} (area under {area_auc(share, cap):.3f})")
    ax.plot([0, 100], [0, 100], "k:", lw=0.8)
    ax.set(xlabel="% of area ranked most prospective", ylabel="% of deposits captured", title="Success rate")
    ax.legend(fontsize=7)
    return img_tag(fig)


def prediction_area_figure(area: np.ndarray, dep: np.ndarray) -> str:
    """Prediction-area plot: % deposits predicted and % area occupied above each probability threshold."""
    a = np.asarray(area, float)[np.isfinite(area)]
    d = np.asarray(dep, float)[np.isfinite(dep)]
    t = np.linspace(min(a.min(), d.min()), max(a.max(), d.max()), 101)
    pred = 100 * (d[None, :] >= t[:, None]).mean(axis=1)
    occ = 100 * (np.sort(a)[None, :] >= t[:, None]).mean(axis=1)
    fig, ax = new_axes(4.5, 4)
    ax.plot(t, pred, label="% deposits predicted")
    ax.plot(t, occ, label="% area occupied")
    i = int(np.argmin(np.abs(pred - (100 - occ))))
    ax.axvline(t[i], color="grey", lw=0.8, ls="--")
    ax.set(xlabel="probability threshold", ylabel="%",
           title=f"Prediction-area: {pred[i]:.0f}% of deposits in {occ[i]:.0f}% of area")
    ax.legend(fontsize=7)
    return img_tag(fig)


def reliability_figure(curves: Sequence[tuple[str, np.ndarray, np.ndarray]]) -> str:
    """Reliability diagram (observed deposit frequency vs mean predicted probability, 10 bins)."""
    from .calibration import reliability

    fig, ax = new_axes(4.5, 4)
    for label, y, p in curves:
        conf, freq, n = reliability(y, p)
        ax.plot(conf[n > 0], freq[n > 0], "o-", ms=3, label=label)
    ax.plot([0, 1], [0, 1], "k:", lw=0.8)
    ax.set(xlabel="mean predicted probability", ylabel="observed deposit frequency", title="Reliability (held-out)")
    ax.legend(fontsize=7)
    return img_tag(fig)


def table_html(rows: Sequence[dict], columns: Sequence[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table border='1' cellspacing='0' cellpadding='4'><tr>{head}</tr>{body}</table>"


def _cell(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else html.escape(str(v))


FOLD_METRICS = {"ece": "ECE", "nll": "NLL", "brier": "Brier", "coverage": "uncertainty coverage",
                "sharpness": "uncertainty sharpness", "error_correlation": "uncertainty-error correlation"}


def cv_rows(results: Sequence[CVResult], y: np.ndarray) -> list[dict]:
    """One row per method: ROC/PR AUC mean ± sd over folds and capture efficiency of pooled held-out scores.

    Capture efficiency here treats the held-out points as the 'area' (no raster is involved).
    """
    rows = []
    for r in results:
        s = r.summary()
        cap = capture_efficiency(r.oof, r.oof[y == 1])
        row = {"method": r.method, "ROC AUC": f"{s['roc_auc_mean']:.3f} ± {s['roc_auc_sd']:.3f}",
               "PR AUC": f"{s['pr_auc_mean']:.3f} ± {s['pr_auc_sd']:.3f}",
               **{f"captured in top {int(q * 100)} %": cap[q] for q in CAPTURE_AT}}
        # calibration, and the uncertainty's usefulness (ensembles), on each held-out fold, averaged
        row.update({lbl: float(np.mean([e[k] for e in r.extra])) for k, lbl in FOLD_METRICS.items()
                    if r.extra and k in r.extra[0]})
        rows.append(row)
    return rows


def write_cv_report(path: str | os.PathLike, title: str, results: Sequence[CVResult], y: np.ndarray,
                    notes: Sequence[str] = (), extra_parts: Sequence[str] = ()) -> None:
    """HTML report of cross-validated methods evaluated on the same folds."""
    rows = cv_rows(results, y)
    cols = list(dict.fromkeys(c for row in rows for c in row))  # ensembles add the uncertainty columns
    parts = [*(f"<p>{html.escape(n)}</p>" for n in notes),
             "<h2>Cross-validation (scores on held-out folds only)</h2>", table_html(rows, cols),
             "<h2>Curves from pooled out-of-fold probabilities</h2>",
             roc_figure([(r.method, y, r.oof) for r in results]),
             success_figure([(r.method, r.oof, r.oof[y == 1]) for r in results]),
             reliability_figure([(r.method, y, r.oof) for r in results]), *extra_parts]
    write_text_atomic(path, html_page(title, parts))


#: display text of the figures of :meth:`.workflow.Evaluation.metrics`, by identifier
METRIC_LABELS = {"n_deposits": "validation deposits", "n_non_deposits": "validation non-deposits",
                 "roc_auc": "ROC AUC", "pr_auc": "PR AUC", "success_rate_auc": "success-rate AUC"}


def metric_label(key: str) -> str:
    """Display text of an evaluation figure's identifier (``captured_top_10pct`` included)."""
    if key.startswith("captured_top_") and key.endswith("pct"):
        return f"deposits captured in top {key[len('captured_top_'):-3]} % of area"
    return METRIC_LABELS.get(key, key)


def write_evaluation_report(path: str | os.PathLike, metrics: dict, area: np.ndarray, y: np.ndarray,
                            p: np.ndarray, notes: Sequence[str] = ()) -> None:
    """HTML report of a finished map scored at validation points."""
    rows = [{"metric": metric_label(k), "value": v} for k, v in metrics.items()]
    parts = [*(f"<p>{html.escape(n)}</p>" for n in notes),
             table_html(rows, ["metric", "value"])]
    if len(np.unique(y)) == 2:
        parts.append(roc_figure([("validation points", y, p)]))
    parts += [success_figure([("map", area, p[y == 1])]), prediction_area_figure(area, p[y == 1])]
    write_text_atomic(path, html_page("Prospectivity evaluation", parts))
