"""HTML reports with matplotlib figures (Agg canvas, no pyplot state) embedded as base64 PNG."""
from __future__ import annotations

import html
import os

import numpy as np
import pandas as pd

from ..io.atomic import write_text_atomic
from ..report import html_page, img_tag, new_figure
from ..io.style import category_color
from .kseparation import MIN_FIT, MIN_MIXING, MIN_SEPARATION

PAIRPLOT_ELEMENTS = 6
PAIRPLOT_POINTS = 1500


def _table(df: pd.DataFrame, digits: int = 4) -> str:
    return df.to_html(index=False, float_format=lambda v: f"{v:.{digits}g}", border=0, classes="t")


def _colors(labels: np.ndarray) -> list[str]:
    return [category_color(int(v)) for v in labels]


def _pairplot(features: np.ndarray, names: list[str], labels: np.ndarray, seed: int = 0):
    m = min(PAIRPLOT_ELEMENTS, features.shape[1])
    idx = np.arange(len(labels))
    if len(idx) > PAIRPLOT_POINTS:
        idx = np.sort(np.random.default_rng(seed).choice(idx, PAIRPLOT_POINTS, replace=False))
    fig = new_figure(2.0 * m, 2.0 * m)
    colors = np.array(_colors(labels[idx]))
    for r in range(m):
        for c in range(m):
            ax = fig.add_subplot(m, m, r * m + c + 1)
            if r == c:
                for k in np.unique(labels):
                    ax.hist(features[labels == k, r], bins=20, color=category_color(int(k)), alpha=0.6)
            else:
                ax.scatter(features[idx, c], features[idx, r], s=3, c=colors)
            ax.set_xticks([]), ax.set_yticks([])
            if r == m - 1:
                ax.set_xlabel(names[c], fontsize=8)
            if c == 0:
                ax.set_ylabel(names[r], fontsize=8)
    return fig


def _bic_figure(sel):
    t = sel.table
    fig = new_figure(10, 3.2)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(t["k"], t["bic"], "o-", color="#4e79a7")
    ax.axvline(sel.k, color="#e15759", ls="--", label=f"chosen k = {sel.k}")
    ax.set_title("BIC of tied Gaussian mixtures (min)", fontsize=10), ax.set_xlabel("k"), ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 2, 2)
    ax.bar(t["k"], t["weight"], color=["#e15759" if k == sel.k else "#4e79a7" for k in t["k"]])
    ax.set_title("BIC weight (approx. probability of k)", fontsize=10), ax.set_xlabel("k"), ax.set_ylim(0, 1)
    return fig


def _gap_figure(sel):
    t = sel.table
    fig = new_figure(6, 3.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.errorbar(t["k"], t["gap"], yerr=t["gap_sd"], fmt="o-", color="#4e79a7", capsize=3)
    ax.axvline(sel.k, color="#e15759", ls="--", label=f"chosen k = {sel.k}")
    ax.set_title("gap statistic (first k within one s.e. of the next)", fontsize=10), ax.set_xlabel("k")
    ax.legend(fontsize=8)
    return fig


def _separation_figure(sel):
    t = sel.table
    fig = new_figure(13, 3.2)
    for i, (col, limit, title) in enumerate((("separation", MIN_SEPARATION, "closest pair (Mahalanobis)"),
                                             ("mixing", MIN_MIXING, "closest cluster to a mixing line"),
                                             ("mixture_fit", MIN_FIT, "mixture fit (samples vs mixing lines)"))):
        ax = fig.add_subplot(1, 3, i + 1)
        ax.plot(t["k"], t[col].clip(lower=-4 * max(limit, 1), upper=4 * max(limit, 1) + 8), "o-", color="#4e79a7")
        if col == "separation" and "held_out" in t:  # the held-out check (kholdout), where it was made
            held = t["held_out"].where(t["small"]).clip(upper=4 * limit + 8)
            ax.plot(t["k"], held, "s", mfc="none", color="#f28e2b", label="held out")
        ax.axhline(limit, color="grey", ls=":", label="threshold")
        ax.axvline(sel.k, color="#e15759", ls="--", label=f"chosen k = {sel.k}")
        ax.set_title(title, fontsize=10), ax.set_xlabel("k"), ax.legend(fontsize=8)
    return fig


def _kselection_figure(outcome):
    if outcome.selection.method == "separation":
        return _separation_figure(outcome.selection)
    if outcome.selection.method == "bic":
        return _bic_figure(outcome.selection)
    if outcome.selection.method == "gap":
        return _gap_figure(outcome.selection)
    t = outcome.selection.table
    fig = new_figure(13, 3.2)
    specs = [("inertia", "inertia (elbow)"), ("silhouette", "silhouette (max)"),
             ("calinski_harabasz", "Calinski-Harabasz (max)"), ("davies_bouldin", "Davies-Bouldin (min)")]
    for i, (col, title) in enumerate(specs):
        ax = fig.add_subplot(1, 4, i + 1)
        ax.plot(t["k"], t[col], "o-", color="#4e79a7")
        best = outcome.selection.knee if col == "inertia" else outcome.selection.votes.get(col)
        if best is not None:
            ax.axvline(best, color="#e15759", ls="--", label=f"best k = {best}")
            ax.legend(fontsize=8)
        ax.set_title(title, fontsize=10), ax.set_xlabel("k")
    return fig


def _pca_figure(outcome):
    r = outcome.result
    fig = new_figure(6, 5)
    ax = fig.add_subplot(1, 1, 1)
    for k in np.unique(r.labels):
        sel = r.labels == k
        ax.scatter(r.pca[sel, 0], r.pca[sel, 1], s=6, color=category_color(int(k)), label=f"cluster {k}")
    ax.set_xlabel(f"PC1 ({100 * r.explained[0]:.0f} %)"), ax.set_ylabel(f"PC2 ({100 * r.explained[1]:.0f} %)")
    ax.legend(fontsize=8, markerscale=2)
    return fig


def _continuity_figure(curves):
    fig = new_figure(6.5 * len(curves), 4.2)
    for i, c in enumerate(curves):
        ax = fig.add_subplot(1, len(curves), i + 1)
        for j, name in enumerate(c.pairs):
            a, b = (int(v) for v in name.split("-"))
            ax.plot(c.lags, c.probabilities[:, j], color=category_color(a), ls="-" if a == b else "--",
                    lw=2 if a == b else 1, label=name)
        ax.set_title(f"{c.kind}: P(pair | lag), bandwidth {c.bandwidth:.3g}", fontsize=10)
        ax.set_xlabel("lag (map units)"), ax.set_ylabel("probability"), ax.set_ylim(0, None)
        ax.legend(fontsize=7, ncol=2)
    return fig


REPORT_LOGS = 3


def _downhole_views(outcome) -> list[str]:
    """Strip logs of a few holes, a vertical section through all holes and a 3D view."""
    from .logs import section_figure, strip_log, view3d_figure

    frame, s = outcome.sample_frame(), outcome.samples
    parts = ["<h2>3D view of the clustered samples</h2>", img_tag(view3d_figure(frame))]
    if s.n_holes == len(s):
        return parts
    names = list(dict.fromkeys(s.hole))
    shown = [names[i] for i in np.unique(np.linspace(0, len(names) - 1, min(REPORT_LOGS, len(names))).astype(int))]
    parts += ["<h2>Strip logs</h2>", f"<p>Cluster column and the first element curves against depth for holes "
              f"{html.escape(', '.join(shown))} (every hole in the PDF of logs).</p>"]
    parts += [img_tag(strip_log(frame, h, s.elements)) for h in shown]
    parts += ["<h2>Vertical section</h2>", "<p>Along the main direction of the collars, samples within a tenth "
              "of the line's length on either side, projected onto the section.</p>", img_tag(section_figure(frame))]
    return parts


def clustering_report(outcome, path: str | os.PathLike, title: str = "Borehole clustering") -> None:
    """The clustering report: notes, pair plot, k-selection plots, PCA view, continuity curves, tables."""
    s = outcome.samples
    parts = [f"<p>{len(s)} samples in {s.n_holes} hole(s); elements: {html.escape(', '.join(s.elements))}; "
             f"transform: {outcome.transform}" + (" then standardised" if outcome.transform == "none" else
                                                  ", clustered in the log-ratios as they are")
             + f"; method: {outcome.result.method}; "
             f"<b>{outcome.k} clusters</b>.</p>",
             "<ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in outcome.notes) + "</ul>",
             "<h2>Cleaning</h2>", _table(s.log.counts),
             "<h2>Choosing the number of clusters</h2>",
             f"<p><b>{html.escape(outcome.selection.evidence)}</b></p>", img_tag(_kselection_figure(outcome)),
             _table(outcome.selection.table)]
    if not outcome.per_hole.empty:
        parts += ["<h3>Per hole (separation, each hole on its own)</h3>", _table(outcome.per_hole.fillna(""))]
    parts += ["<h2>Pair plot (transformed, standardised features)</h2>",
              img_tag(_pairplot(outcome.features, s.elements, outcome.result.labels)),
              "<h2>PCA view</h2>", img_tag(_pca_figure(outcome))]
    if outcome.continuity:
        parts += ["<h2>Spatial continuity</h2>",
                  "<p>For each pair of clusters, the probability that two samples a lag h apart fall in that "
                  "pair (Gaussian kernel density over pair separations; curves sum to 1 at every lag).</p>",
                  img_tag(_continuity_figure(outcome.continuity))]
    parts += _downhole_views(outcome)
    wide = outcome.summary.pivot(index="cluster", columns="element", values="geometric_mean").reset_index()
    parts += ["<h2>Cluster geometric means</h2>", _table(wide)]
    write_text_atomic(path, html_page(title, parts))


def sequence_report(history: pd.DataFrame, metrics: dict, path: str | os.PathLike,
                    title: str = "Downhole sequence model") -> None:
    """Training/validation accuracy and loss curves, confusion matrix and per-class scores."""
    fig = new_figure(11, 3.8)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(history["epoch"], history["train_accuracy"], label="training")
    ax.plot(history["epoch"], history["validation_accuracy"], label="validation (held-out holes)")
    ax.set_xlabel("epoch"), ax.set_ylabel("accuracy"), ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 2, 2)
    ax.plot(history["epoch"], history["train_loss"], label="training")
    ax.plot(history["epoch"], history["validation_loss"], label="validation")
    ax.set_xlabel("epoch"), ax.set_ylabel("cross-entropy"), ax.legend(fontsize=8)
    cm = np.asarray(metrics["confusion"])
    classes = metrics["classes"]
    fig2 = new_figure(1.0 + 0.6 * len(classes), 1.0 + 0.5 * len(classes))
    ax = fig2.add_subplot(1, 1, 1)
    ax.imshow(cm, cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(len(classes)), [str(c) for c in classes]), ax.set_yticks(range(len(classes)), [str(c) for c in classes])
    ax.set_xlabel("predicted"), ax.set_ylabel("true (cluster)")
    parts = [f"<p>{html.escape(metrics['summary'])}</p>",
             f"<p><b>Validation accuracy (held-out holes): {metrics['validation_accuracy']:.3f}</b>; "
             f"training holes: {html.escape(', '.join(metrics['train_holes']))}; "
             f"validation holes: {html.escape(', '.join(metrics['validation_holes']))}.</p>",
             "<h2>Learning curves</h2>", img_tag(fig),
             "<h2>Confusion matrix (validation holes)</h2>", img_tag(fig2),
             "<h2>Per-class precision and recall (validation holes)</h2>", _table(pd.DataFrame(metrics["per_class"]))]
    write_text_atomic(path, html_page(title, parts))
