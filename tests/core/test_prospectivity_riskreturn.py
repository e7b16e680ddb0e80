"""Risk-return targets, active-learning suggestions and calibration metrics (synthetic known answers)."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.io import BlockWriter, Grid
from geoml_qgis.core.prospectivity.calibration import calibration_metrics, uncertainty_metrics
from geoml_qgis.core.prospectivity.riskreturn import returns, rank_targets

GRID = Grid(80, 60, (0.0, 10.0, 0.0, 600.0, 0.0, -10.0), "EPSG:32610")


def _raster(path, arr):
    with BlockWriter(path, GRID) as w:
        w.write(next(GRID.windows(1024)), np.ma.masked_invalid(arr.astype(np.float32)))
    return str(path)


def _bump(cx, cy, r, h):
    xs, ys = GRID.cell_centres()
    return h * np.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * r ** 2))


def test_high_probability_low_uncertainty_area_ranks_first(tmp_path):
    p = 0.05 + _bump(150, 450, 30, 0.6) + _bump(600, 150, 30, 0.65)  # two prospects, the second slightly likelier
    u = 0.02 + _bump(600, 150, 40, 0.4)  # ... but far less certain
    p[0, :5] = np.nan
    cats = tmp_path / "cat.tif"
    targets, shares = rank_targets(_raster(tmp_path / "p.tif", p), _raster(tmp_path / "u.tif", u), 1.0, 5.0, 0.9,
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
