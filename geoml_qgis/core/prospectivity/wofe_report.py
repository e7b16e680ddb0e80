"""Weights-of-evidence tables and report: weights CSV, generalisation curves, conditional independence."""
from __future__ import annotations

import csv
import html
import io
import os

import numpy as np

from ..io import write_text_atomic
from ..report import html_page, img_tag, new_axes
from .report import success_figure, table_html
from .wofe_model import WofEModel

COLUMNS = ["layer", "type", "role", "class", "area_unit_cells", "deposits", "W+", "s(W+)", "W-", "s(W-)",
           "contrast", "s(contrast)", "studentised_contrast", "weight", "s(weight)", "note"]


def weight_rows(model: WofEModel, candidates: bool = True) -> list[dict]:
    """One row per class of every layer (role ``weight``), then every threshold tried (role ``candidate``)."""
    rows = []
    for lw in model.layers:
        for c in lw.classes:
            rows.append({"layer": lw.name, "type": lw.kind, "role": "weight", "class": c.label,
                         "area_unit_cells": c.area, "deposits": c.deposits, "W+": c.w_plus, "s(W+)": c.s_w_plus,
                         "W-": c.w_minus, "s(W-)": c.s_w_minus, "contrast": c.contrast, "s(contrast)": c.s_contrast,
                         "studentised_contrast": c.studentised, "weight": c.weight, "s(weight)": c.s_weight,
                         "note": c.note})
        if lw.missing_area:
            rows.append({"layer": lw.name, "type": lw.kind, "role": "weight", "class": "no data",
                         "area_unit_cells": lw.missing_area, "weight": 0.0, "s(weight)": 0.0,
                         "note": "missing evidence: weight 0, missing-data variance added to the posterior's"})
    if candidates:
        for lw in model.layers:
            for c in lw.candidates:
                op = "<=" if lw.kind == "ascending" else ">"
                rows.append({"layer": lw.name, "type": lw.kind, "role": "candidate", "class": f"v {op} {c['threshold']:.6g}",
                             "area_unit_cells": c["pattern_area"], "deposits": c["pattern_deposits"],
                             "W+": c["w_plus"], "s(W+)": c["s_w_plus"], "W-": c["w_minus"], "s(W-)": c["s_w_minus"],
                             "contrast": c["contrast"], "s(contrast)": c["s_contrast"],
                             "studentised_contrast": c["studentised"],
                             "note": "selected" if c.get("selected") else ("" if c["usable"] else "not usable")})
    return rows


def write_weights_csv(path: str | os.PathLike, model: WofEModel) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in weight_rows(model):
        w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
    write_text_atomic(path, buf.getvalue())


def _contrast_figure(lw) -> str:
    t = np.array([c["threshold"] for c in lw.candidates])
    ok = np.array([c["usable"] for c in lw.candidates])
    fig, ax = new_axes(4.5, 3.2)
    ax.plot(t[ok], [c["contrast"] for c, u in zip(lw.candidates, ok) if u], "o-", ms=3, label="contrast C")
    ax.plot(t[ok], [c["studentised"] for c, u in zip(lw.candidates, ok) if u], "s--", ms=3, label="studentised C")
    ax.axvline(lw.threshold, color="grey", lw=0.8)
    ax.set(xlabel=f"{lw.name} threshold ({lw.kind})", title=f"{lw.name}: threshold {lw.threshold:.4g} "
                                                            f"(max {lw.criterion})")
    ax.legend(fontsize=7)
    return img_tag(fig)


def write_wofe_report(path: str | os.PathLike, result) -> None:
    """HTML report: prior, weights, generalisation curves, Agterberg-Cheng test, pairwise chi-square."""
    m = result.model
    cols = ["layer", "type", "class", "area_unit_cells", "deposits", "W+", "s(W+)", "W-", "s(W-)", "contrast",
            "studentised_contrast", "weight", "s(weight)", "note"]
    parts = [f"<p>{html.escape(n)}</p>" for n in m.notes]
    parts.append(f"<p>Study area {m.prior_area:.6g} unit cells of {m.unit_cell_area:g} square map units, "
                 f"{m.prior_deposits:g} training deposits: prior probability {m.prior:.4g}. Each layer's weights use "
                 "the area where it has data.</p>")
    parts += ["<h2>Weights</h2>", table_html(weight_rows(m, candidates=False), cols)]
    for lw in m.layers:
        if lw.candidates:
            parts.append(_contrast_figure(lw))
    ac = result.agterberg_cheng
    if ac:
        verdict = ("the layers are not conditionally independent given the deposits (p < 0.05): the posterior "
                   "probabilities are inflated; drop or combine correlated layers"
                   if ac["p_value"] < 0.05 else "no evidence against conditional independence at the 5 % level")
        parts += ["<h2>Conditional independence</h2>",
                  f"<p>Agterberg-Cheng test: the model predicts T = {ac['predicted_deposits']:.2f} ± "
                  f"{ac['sd_predicted']:.2f} deposits, {ac['observed_deposits']:g} are observed (ratio n/T = "
                  f"{ac['ratio']:.3f}; values below about 0.85 are a warning); z = {ac['z']:.2f}, one-sided "
                  f"p = {ac['p_value']:.3g}: {verdict}.</p>"]
    if result.chi_square:
        parts += ["<p>Pairwise chi-square tests of independence of the layers' classes over the deposits "
                  "(small p: the two layers are related among the deposits; with few deposits the expected "
                  "counts are small and the test is approximate).</p>",
                  table_html(result.chi_square, ["layer_1", "layer_2", "deposits", "dof", "chi_square",
                                                 "p_value", "min_expected"])]
    if result.area_posterior is not None and result.deposit_posterior is not None and len(result.area_posterior):
        parts += ["<h2>Fit to the training deposits</h2>",
                  "<p>Scored on the training deposits themselves (not held out): an optimistic check of the map.</p>",
                  success_figure([("posterior", result.area_posterior, result.deposit_posterior)])]
    if getattr(result, "explanation", None) is not None:
        from .explain import explanation_html

        parts.append("<p>Permutation importance: weights of evidence refitted on the deposits and random cells of "
                     "each training fold (table mode) and scored on the held-out fold.</p>")
        parts += explanation_html(result.explanation)
    write_text_atomic(path, html_page("Weights of evidence", parts))
