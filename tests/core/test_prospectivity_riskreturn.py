"""Risk-return targets, active-learning suggestions and calibration metrics (synthetic known answers)."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.prospectivity.calibration import calibration_metrics, uncertainty_metrics
from geoml_qgis.core.prospectivity.riskreturn import returns, rank_targets
from tests.core.target_rasters import bump, target_raster


def test_high_probability_low_uncertainty_area_ranks_first(tmp_path):
    p = 0.05 + bump(150, 450, 30, 0.6) + bump(600, 150, 30, 0.65)  # two prospects, the second slightly likelier
    u = 0.02 + bump(600, 150, 40, 0.4)  # ... but far less certain
    p[0, :5] = np.nan
    cats = tmp_path / "cat.tif"
    targets, shares = rank_targets(target_raster(tmp_path / "p.tif", p), target_raster(tmp_path / "u.tif", u), 1.0, 5.0, 0.9,
                                   2, 200.0, cats, block_size=32)
    assert len(targets) == 2
    assert np.hypot(targets[0].x - 155, targets[0].y - 445) < 20  # the certain prospect first
    assert np.hypot(targets[1].x - 605, targets[1].y - 145) < 40
    assert targets[0].score > targets[1].score and targets[1].values[2] > targets[0].values[2]  # despite a lower EV
    c = gdal.Open(str(cats)).ReadAsArray()
    assert c[0, 0] == 0 and c[15, 15] == 1 and c[45, 60] in (2, 3)
    assert c[5, 75] == 4 and abs(sum(shares.values()) - 1) < 1e-9


def test_return_formulas_and_bad_parameters():
    r = returns(np.array([0.5, 0.1]), np.array([0.1, 0.0]), 1.0, 10.0, 0.5)
    assert np.allclose(r["expected"], [4.0, 0.0]) and np.allclose(r["risk_adjusted"], [4.0, 0.0])  # z = 0
    with pytest.raises(GeoMLError, match="between 0.5 and 1"):
        returns(np.array([0.5]), np.array([0.1]), 1.0, 10.0, 1.5)
    with pytest.raises(GeoMLError, match="value must be positive"):
        returns(np.array([0.5]), np.array([0.1]), 1.0, 0.0, 0.9)


def test_calibration_metrics_against_sklearn_and_a_calibrated_forecast():
    from sklearn.metrics import brier_score_loss, log_loss

    rng = np.random.default_rng(0)
    p = rng.uniform(0, 1, 20000)
    y = (rng.uniform(0, 1, 20000) < p).astype(int)  # calibrated by construction
    m = calibration_metrics(y, p)
    assert m["ece"] < 0.02 and m["brier"] == pytest.approx(brier_score_loss(y, p))
    assert m["nll"] == pytest.approx(log_loss(y, p), rel=1e-6)
    skewed = calibration_metrics(y, p ** 3)  # systematically too low
    assert skewed["ece"] > 0.15 and skewed["mce"] >= skewed["ece"]
    good = uncertainty_metrics(y, p, np.full_like(p, 0.05))
    assert good["coverage"] == 1.0 and good["sharpness"] == pytest.approx(2 * 1.2816 * 0.05, rel=1e-3)
    assert uncertainty_metrics(y, p ** 3, np.full_like(p, 0.001))["coverage"] < 0.2


def test_uncertainty_metrics_reach_the_cross_validation_report(tmp_path):
    """An ensemble's uncertainty is judged on every held-out fold and shown in the CV report (coverage,
    sharpness, uncertainty-error correlation); methods without uncertainty leave those cells empty."""
    from geoml_qgis.core.prospectivity.evaluation import cross_validate, stratified_folds
    from geoml_qgis.core.prospectivity.report import cv_rows, write_cv_report

    class Logistic:  # SYNTHETIC: a fixed logistic model whose uncertainty is largest near p = 0.5
        def fit(self, X, y):
            return self

        def predict_proba(self, X):
            return 1 / (1 + np.exp(-3 * X[:, 0]))

        def predict_uncertainty(self, X):
            p = self.predict_proba(X)
            return {"total": np.sqrt(p * (1 - p)) / 4}

    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 2))
    y = (rng.random(300) < 1 / (1 + np.exp(-3 * X[:, 0]))).astype(int)
    folds = stratified_folds(y, 3, seed=0)
    with_u = cross_validate(Logistic, X, y, folds, "ensemble", uncertainty=lambda m, Xt: m.predict_uncertainty(Xt)["total"])
    plain = cross_validate(Logistic, X, y, folds, "plain")
    assert len(with_u.extra) == 3 and plain.extra == []
    expected = np.mean([uncertainty_metrics(y[folds == f], with_u.oof[folds == f],
                                            np.sqrt(with_u.oof * (1 - with_u.oof))[folds == f] / 4)["sharpness"]
                        for f in range(3)])
    rows = cv_rows([plain, with_u], y)
    assert "uncertainty coverage" not in rows[0]
    assert rows[1]["uncertainty sharpness"] == pytest.approx(expected)
    assert 0 <= rows[1]["uncertainty coverage"] <= 1
    write_cv_report(tmp_path / "cv.html", "CV", [plain, with_u], y)
    html = (tmp_path / "cv.html").read_text(encoding="utf-8")
    assert "uncertainty coverage" in html and "uncertainty-error correlation" in html
