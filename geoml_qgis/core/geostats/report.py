"""HTML reports (matplotlib figures embedded as base64 PNG) for variograms and cross-validation."""
from __future__ import annotations

import html
import os

import numpy as np

from ..io.atomic import write_text_atomic
from ..report import html_page, img_tag, new_axes
from .crossval import CrossValidation
from .models import VariogramModel
from .variogram import ExperimentalVariogram

def _rows(pairs) -> str:
    return "".join(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>" for k, v in pairs)


def variogram_figure(ev: ExperimentalVariogram, model: VariogramModel, title: str = "") -> str:
    fig, ax = new_axes(6.5, 4.0)
    ax.scatter(ev.lags, ev.gamma, s=18 + 60 * ev.counts / ev.counts.max(), color="#4e79a7",
               label="experimental (size: pairs)")
    h = np.linspace(0, ev.max_lag, 300)
    g = model.gamma(h)
    g[0] = 0.0
    ax.plot(h, g, color="#e15759", label=model.kind)
    ax.axhline(ev.variance, color="#999", ls=":", lw=1, label="sample variance")
    ax.set_xlabel("lag distance (map units)")
    ax.set_ylabel("semivariance")
    ax.set_xlim(0, ev.max_lag)
    ax.set_ylim(0, None)
    ax.set_title(title)
    ax.legend(loc="lower right")
    return img_tag(fig, dpi=110)


def write_variogram_report(path: str | os.PathLike, ev: ExperimentalVariogram, model: VariogramModel,
                           errors: dict, field: str, sample_summary: str) -> None:
    """Experimental variogram with the fitted curve, pair counts and parameters."""
    table = "".join(
        f"<tr><td>{i + 1}</td><td>{l:.4g}</td><td>{c}</td><td>{g:.5g}</td></tr>"
        for i, (l, c, g) in enumerate(zip(ev.lags, ev.counts, ev.gamma))
    )
    fits = "".join(f"<tr><th>{k}</th><td>{v:.5g}</td></tr>" for k, v in sorted(errors.items(), key=lambda kv: kv[1]))
    direction = (f"direction {ev.direction:g} deg &plusmn; {ev.tolerance:g} deg" if ev.direction is not None
                 else "omnidirectional")
    text = html_page(f"Variogram of {field}", [
        f"<p>{html.escape(sample_summary)}; {direction}; "
        f"{ev.n_zero_pairs} pairs at zero distance not used.</p>"
        f"{variogram_figure(ev, model, field)}"
        f"<h2>Fitted model</h2><table>{_rows([('model', model.kind), ('nugget', f'{model.nugget:.5g}'), ('partial sill', f'{model.psill:.5g}'), ('total sill', f'{model.sill:.5g}'), ('range', f'{model.range:.5g}')] + ([('shape', f'{model.shape:.3g}')] if model.kind == 'stable' else []))}</table>"
        f"<h2>Weighted squared error of each model tried</h2><table>{fits}</table>"
        f"<h2>Lag classes</h2><table><tr><th>class</th><th>mean distance</th><th>pairs</th><th>semivariance</th></tr>{table}</table>"
    ])
    write_text_atomic(path, text)


def write_crossval_report(path: str | os.PathLike, cv: CrossValidation, model: VariogramModel, field: str) -> None:
    """Summary statistics, observed-vs-estimated and standardized-error plots."""
    t = cv.table.dropna(subset=["estimate"])
    fig, ax = new_axes(5, 5)
    ax.scatter(t["observed"], t["estimate"], s=10, color="#4e79a7")
    lo, hi = float(min(t["observed"].min(), t["estimate"].min())), float(max(t["observed"].max(), t["estimate"].max()))
    ax.plot([lo, hi], [lo, hi], color="#999", lw=1)
    ax.set_xlabel("observed")
    ax.set_ylabel("cross-validation estimate")
    scatter = img_tag(fig, dpi=110)
    fig, ax = new_axes(5, 3.5)
    ax.hist(t["std_error"].dropna(), bins=30, color="#59a14f")
    ax.set_xlabel("standardized error (error / kriging standard deviation)")
    hist = img_tag(fig, dpi=110)
    s = cv.summary
    rows = _rows([("method", cv.method), ("samples", s["n"]), ("ME (bias)", f"{s['ME']:.4g}"), ("MAE", f"{s['MAE']:.4g}"),
                  ("RMSE", f"{s['RMSE']:.4g}"), ("MSDR (ideal 1)", f"{s['MSDR']:.4g}"),
                  ("not estimated", s["n_not_estimated"]), ("model", model.describe())])
    text = html_page(f"Kriging cross-validation: {field}", [
        "<p>Error = estimate &minus; observed. MSDR is the mean of error&sup2; / kriging variance: about 1 when "
        "the kriging variance is honest, above 1 when it is too optimistic.</p>"
        f"<table>{rows}</table>{scatter}{hist}"
    ])
    write_text_atomic(path, text)
