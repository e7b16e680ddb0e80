"""Which evidence drove a model: permutation importance on held-out folds, partial dependence.

Works with any estimator of this package (``fit(X, y)``, ``predict_proba(X) -> (n,)``): the networks,
the scikit-learn baselines, the VAE ensemble, weights of evidence and fuzzy overlay alike.

Permutation importance of feature j on a held-out fold = ROC AUC of the fold − ROC AUC after shuffling
column j of that fold (the model is not refitted); repeated *repeats* times on every fold, reported as
mean ± sd over all folds × repeats. Partial dependence of feature j = the mean predicted probability
over a sample of rows when column j is set to each value of a grid (its 5th-95th percentiles).
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..io import write_text_atomic


@dataclass
class Explanation:
    """``drops[name]``: AUC drops over folds × repeats; ``pdp[name]``: ``(grid values, mean probability)``."""

    names: list[str]
    drops: dict[str, list[float]] = field(default_factory=dict)
    pdp: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    method: str = ""

    def importance(self) -> list[dict]:
        """Rows sorted by mean importance: feature, mean, sd, n (folds × repeats)."""
        rows = [{"feature": n, "importance_mean": float(np.mean(d)), "importance_sd": float(np.std(d, ddof=1)) if len(d) > 1
                 else 0.0, "n": len(d)} for n, d in self.drops.items() if d]
        return sorted(rows, key=lambda r: -r["importance_mean"])

    def top(self, k: int) -> list[str]:
        return [r["feature"] for r in self.importance()[:k]]


class FoldImportance:
    """A ``cross_validate`` fold hook collecting permutation importance on each held-out fold."""

    def __init__(self, names: Sequence[str], repeats: int = 5, seed: int = 0, method: str = ""):
        self.expl = Explanation(list(names), {n: [] for n in names}, method=method)
        self.repeats, self.rng = int(repeats), np.random.default_rng(seed)

    def __call__(self, model, X_test: np.ndarray, y_test: np.ndarray) -> None:
        from sklearn.metrics import roc_auc_score

        if len(np.unique(y_test)) < 2:
            return
        base = roc_auc_score(y_test, model.predict_proba(X_test))
        for j, n in enumerate(self.expl.names):
            for _ in range(self.repeats):
                Xp = np.array(X_test, copy=True)
                Xp[:, j] = self.rng.permutation(Xp[:, j])
                self.expl.drops[n].append(float(base - roc_auc_score(y_test, model.predict_proba(Xp))))


def partial_dependence(model, X: np.ndarray, j: int, n_grid: int = 20, max_rows: int = 500,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Grid of feature *j* (5th-95th percentile) and the mean probability with column j set to each value."""
    X = np.asarray(X, float)
    rng = np.random.default_rng(seed)
    rows = X[rng.choice(len(X), max_rows, replace=False)] if len(X) > max_rows else X
    col = X[:, j][np.isfinite(X[:, j])]
    grid = np.unique(np.quantile(col, np.linspace(0.05, 0.95, n_grid)))
    batch = np.repeat(rows[None], len(grid), axis=0)
    batch[:, :, j] = grid[:, None]
    p = model.predict_proba(batch.reshape(-1, X.shape[1])).reshape(len(grid), len(rows))
    return grid, np.nanmean(p, axis=1)


def add_partial_dependence(expl: Explanation, model, X: np.ndarray, top: int = 4, seed: int = 0) -> Explanation:
    """Partial-dependence curves of the *top* most important features of *expl* for the fitted *model*."""
    for n in expl.top(top):
        expl.pdp[n] = partial_dependence(model, X, expl.names.index(n), seed=seed)
    return expl


def write_explanation_csv(path: str | os.PathLike, expl: Explanation) -> None:
    """One CSV: ``kind=importance`` rows (feature, mean, sd, n), then ``kind=partial_dependence`` rows
    (feature, value, mean probability)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["kind", "method", "feature", "importance_mean", "importance_sd", "n", "value", "mean_probability"])
    for r in expl.importance():
        w.writerow(["importance", expl.method, r["feature"], f"{r['importance_mean']:.6g}", f"{r['importance_sd']:.6g}",
                    r["n"], "", ""])
    for n, (g, p) in expl.pdp.items():
        for v, q in zip(g, p):
            w.writerow(["partial_dependence", expl.method, n, "", "", "", f"{v:.6g}", f"{q:.6g}"])
    write_text_atomic(path, buf.getvalue())


def explanation_html(expl: Explanation) -> list[str]:
    """Report parts: importance bars (mean ± sd) and partial-dependence panels."""
    import html

    from ..report import img_tag, new_axes

    rows = expl.importance()
    if not rows:
        return []
    fig, ax = new_axes(5, 0.35 * len(rows) + 1.2)
    ax.barh([r["feature"] for r in rows][::-1], [r["importance_mean"] for r in rows][::-1],
            xerr=[r["importance_sd"] for r in rows][::-1], color="#4e79a7", ecolor="grey")
    ax.axvline(0, color="k", lw=0.6)
    ax.set(xlabel="drop in held-out ROC AUC when shuffled", title="Permutation importance (held-out folds)")
    parts = [f"<h2>Which evidence drove the model ({html.escape(expl.method)})</h2>",
             f"<p>Permutation importance: drop of ROC AUC on each held-out fold when one feature is shuffled, "
             f"mean ± sd over folds × repeats ({rows[0]['n']} per feature). Features that are correlated share "
             "their importance: shuffling one leaves the other.</p>", img_tag(fig)]
    if expl.pdp:
        k = len(expl.pdp)
        fig, axes = new_axes(3.2 * k, 2.8, 1, k)
        for ax, (n, (g, p)) in zip(np.atleast_1d(axes), expl.pdp.items()):
            ax.plot(g, p, "-o", ms=2)
            ax.set(xlabel=n, ylabel="mean probability")
        fig.suptitle("Partial dependence of the final model (top features)")
        parts.append(img_tag(fig))
    return parts
