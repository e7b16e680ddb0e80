"""HTML report of a hybrid model: CV table vs kriging, training curves, predicted vs observed."""
from __future__ import annotations

import html
import os

import numpy as np

from ..io.atomic import write_text_atomic
from ..report import html_page, img_tag, new_axes
from .evaluate import Comparison
from .predictor import TrainingLog


def write_hybrid_report(path: str | os.PathLike, cmp: Comparison, log: TrainingLog, field: str, units: str,
                        settings: dict) -> None:
    scores = cmp.scores
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{r.RMSE:.4f}</td><td>{r.MAE:.4f}</td><td>{r.R2:.3f}</td></tr>"
        for name, r in scores.iterrows()
    )
    fig, ax = new_axes(6.5, 3.8)
    for i, (tr, va) in enumerate(zip(log.train, log.val)):
        ax.plot(tr, color="#4e79a7", lw=1, label="training" if i == 0 else None)
        ax.plot(va, color="#e15759", lw=1, label="validation" if i == 0 else None)
        ax.axvline(log.best_epoch[i], color="#999", lw=0.6, ls=":")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss (standardized units)")
    ax.set_yscale("log")
    ax.legend()
    curves = img_tag(fig, dpi=110)
    fig, ax = new_axes(5.5, 5.5)
    t = cmp.table
    ax.scatter(t["observed"], t["kriging"], s=10, color="#bab0ac", label="ordinary kriging")
    ax.scatter(t["observed"], t["hybrid"], s=10, color="#4e79a7", label="hybrid")
    lo, hi = float(np.nanmin(t[["observed", "hybrid", "kriging"]].to_numpy())), float(np.nanmax(t[["observed", "hybrid", "kriging"]].to_numpy()))
    ax.plot([lo, hi], [lo, hi], color="#999", lw=1)
    ax.set_xlabel(f"observed ({units})")
    ax.set_ylabel(f"blocked-CV prediction ({units})")
    ax.legend()
    scatter = img_tag(fig, dpi=110)
    conf = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in settings.items())
    text = html_page(f"Hybrid kriging + Conv1D + BiLSTM: {field}", [
        f"<h2>Spatially blocked cross-validation ({units})</h2>"
        f"<p>{int(t['fold'].max()) + 1} folds of square blocks of {cmp.block_size:.0f} map units; in each fold the "
        "variogram is fitted on the training folds only and used by both methods; the network's early stopping and "
        "shrinkage use a validation part of the training folds only. No sample's own value is among its inputs.</p>"
        f"<table><tr><th>method</th><th>RMSE</th><th>MAE</th><th>R&sup2;</th></tr>{rows}</table>{scatter}"
        f"<h2>Training of the final model (all samples)</h2><p>Best epochs {log.best_epoch}; correction "
        f"scale chosen on validation per member {log.shrink} (0 = falls back to kriging).</p>{curves}"
        f"<h2>Settings</h2><table>{conf}</table>"
    ])
    write_text_atomic(path, text)
