"""Explanations: permutation importance on held-out folds and partial dependence, for every model
type, on synthetic tables whose answer is known (deposits depend strongly on x0, weakly and
negatively on x1, not at all on x2)."""
from __future__ import annotations

import csv

import numpy as np
import pytest

from geoml_qgis.core.prospectivity.evaluation import cross_validate, stratified_folds
from geoml_qgis.core.prospectivity.explain import FoldImportance, add_partial_dependence
from geoml_qgis.core.prospectivity.fuzzy import FuzzyClassifier
from geoml_qgis.core.prospectivity.wofe_model import WofEClassifier

NAMES = ["x0", "x1", "x2"]


def _table(seed=0, n=400):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    logit = 2.5 * X[:, 0] - 1.2 * X[:, 1] - 2.0
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _makers():
    from geoml_qgis.core.prospectivity.baselines import BaselineClassifier

    return {"logistic_regression": lambda: BaselineClassifier("logistic_regression"),
            "random_forest": lambda: BaselineClassifier("random_forest"),
            "wofe": lambda: WofEClassifier(NAMES, "ordered", n_thresholds=10),
            "fuzzy": lambda: FuzzyClassifier()}


@pytest.mark.parametrize("method,seed", [("logistic_regression", 0), ("logistic_regression", 1), ("random_forest", 0),
                                         ("wofe", 0), ("wofe", 1), ("fuzzy", 0), ("fuzzy", 1)])
def test_importance_ranks_the_known_drivers(method, seed):
    X, y = _table(seed)
    repeats = 2 if method == "random_forest" else 3
    hook = FoldImportance(NAMES, repeats=repeats, seed=seed, method=method)
    cross_validate(_makers()[method], X, y, stratified_folds(y, 4, seed), on_fold=hook)
    imp = {r["feature"]: r for r in hook.expl.importance()}
    assert hook.expl.top(1) == ["x0"] and imp["x0"]["n"] == 4 * repeats
    assert imp["x0"]["importance_mean"] > 0.05 and abs(imp["x2"]["importance_mean"]) < 0.03
    assert imp["x1"]["importance_mean"] > imp["x2"]["importance_mean"]


def test_partial_dependence_follows_the_logit():
    X, y = _table()
    model = _makers()["logistic_regression"]().fit(X, y)
    hook = FoldImportance(NAMES, 2)
    cross_validate(_makers()["logistic_regression"], X, y, stratified_folds(y, 3, 0), on_fold=hook)
    expl = add_partial_dependence(hook.expl, model, X, top=2)
    g0, p0 = expl.pdp["x0"]
    g1, p1 = expl.pdp["x1"]
    assert (np.diff(p0) > 0).all() and (np.diff(p1) < 0).all()  # increasing in x0, decreasing in x1
    assert g0[0] == pytest.approx(np.quantile(X[:, 0], 0.05)) and p0[-1] - p0[0] > 0.3


@pytest.mark.parametrize("method", ["scratch", "vae_ensemble"])
def test_training_report_and_csv_for_networks(tmp_path, method):
    pytest.importorskip("torch")
    from geoml_qgis.core.prospectivity.workflow import TrainingData, train

    X, y = _table(2, 200)
    res = train(TrainingData(X, y, None, NAMES), method=method, model_path=str(tmp_path / "m.pt"),
                report_path=str(tmp_path / "r.html"), epochs=20, folds=3, members=2,
                explain_csv=str(tmp_path / "e.csv"), explain_repeats=2)
    assert res.importance[0]["feature"] == "x0" and res.chosen["method"] == method
    rows = list(csv.DictReader(open(tmp_path / "e.csv")))
    assert {r["kind"] for r in rows} == {"importance", "partial_dependence"}
    assert sum(r["kind"] == "importance" for r in rows) == 3 and all(r["method"] == method for r in rows)
    assert "Permutation importance" in (tmp_path / "r.html").read_text()
