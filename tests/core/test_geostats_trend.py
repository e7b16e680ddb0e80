"""Universal kriging, kriging with external drift and regression kriging against R gstat 2.1 on Meuse.

Targets are the cells of the bundled 40 m Meuse grid (every fourth valid cell, for speed); gstat and
GeoML get the same coordinates, covariate values and variogram model. Tolerance: 1e-6 of the
standard deviation of the data, for estimate and variance.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.geostats import VariogramModel
from geoml_qgis.core.geostats.nested import NestedModel, Structure
from geoml_qgis.core.geostats.universal import UniversalKriging
from tests.conftest import ROOT
from tests.gstat_reference import run_gstat, vgm

MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse"
SPH = VariogramModel("spherical", 0.05, 0.05 + 0.59, 897.0)
NESTED = NestedModel(0.03, (Structure("exponential", 0.1, 450.0), Structure("spherical", 0.45, 1100.0)))


@pytest.fixture(scope="module")
def data():
    from osgeo import gdal

    d = pd.read_csv(MEUSE / "meuse.txt")
    ds = gdal.Open(str(MEUSE / "grids" / "dist.tif"))
    a = ds.GetRasterBand(1).ReadAsArray().astype(float)
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    rows, cols = np.nonzero(a != ds.GetRasterBand(1).GetNoDataValue())
    keep = slice(None, None, 4)
    grid = pd.DataFrame({"x": x0 + (cols[keep] + 0.5) * dx, "y": y0 + (rows[keep] + 0.5) * dy,
                         "sdist": np.sqrt(a[rows, cols][keep])})
    pts = pd.DataFrame({"x": d.x.astype(float), "y": d.y.astype(float), "lz": np.log(d.zinc.astype(float)),
                        "sdist": np.sqrt(d.dist.astype(float))})
    return pts, grid


def gstat_krige(pts, grid, formula: str, model, nmax: int | None = None) -> pd.DataFrame:
    nm = f", nmax = {nmax}" if nmax else ""
    return run_gstat(
        "coordinates(pts) <- ~x+y\ncoordinates(grid) <- ~x+y\n"
        f"k <- krige({formula}, pts, grid, model = {vgm(model)}{nm}, debug.level = 0)\n"
        "out <- data.frame(estimate = k$var1.pred, variance = k$var1.var)", pts=pts, grid=grid)


def assert_equal_to_gstat(res, ref, z):
    tol = 1e-6 * np.std(z)
    np.testing.assert_allclose(res.estimate, ref.estimate.to_numpy(), rtol=0, atol=tol)
    np.testing.assert_allclose(res.variance, ref.variance.to_numpy(), rtol=0, atol=tol)


@pytest.mark.parametrize("drift, formula, model, nmax", [
    ("linear", "lz ~ x + y", SPH, None),
    ("linear", "lz ~ x + y", SPH, 20),
    ("quadratic", "lz ~ u + v + I(u^2) + I(u*v) + I(v^2)", NESTED, 40),
])
def test_universal_kriging_equals_gstat(data, drift, formula, model, nmax):
    """Quadratic drift: gstat gets coordinates in km from the data's centre (u, v), since squares of raw
    RD coordinates (about 3e10) cost gstat's normal equations about 4 digits; the predictor is the same."""
    pts, grid = data[0].copy(), data[1].copy()
    centre = pts[["x", "y"]].mean().to_numpy()
    for df in (pts, grid):
        df["u"], df["v"] = (df.x - centre[0]) / 1000, (df.y - centre[1]) / 1000
    uk = UniversalKriging(model, drift, nmax or 0).fit(pts[["x", "y"]], pts.lz)
    res = uk.predict(grid[["x", "y"]].to_numpy())
    assert_equal_to_gstat(res, gstat_krige(pts, grid, formula, model, nmax), pts.lz)


@pytest.mark.parametrize("nmax", [None, 24])
def test_external_drift_sqrt_dist_equals_gstat(data, nmax):
    """gstat's textbook KED: krige(log(zinc) ~ sqrt(dist), meuse, meuse.grid, model)."""
    pts, grid = data
    model = VariogramModel("exponential", 0.05, 0.05 + 0.3, 3 * 300.0)
    ked = UniversalKriging(model, "constant", nmax or 0).fit(pts[["x", "y"]], pts.lz, pts[["sdist"]])
    res = ked.predict(grid[["x", "y"]].to_numpy(), grid[["sdist"]].to_numpy())
    assert_equal_to_gstat(res, gstat_krige(pts, grid, "lz ~ sdist", model, nmax), pts.lz)


def test_trend_kriging_bad_input(data):
    pts, grid = data
    xy = pts[["x", "y"]].to_numpy()
    with pytest.raises(GeoMLError, match="collinear"):
        UniversalKriging(SPH, "linear").fit(xy, pts.lz, np.column_stack([pts.sdist, 2 * pts.sdist]))
    with pytest.raises(GeoMLError, match="collinear"):
        UniversalKriging(SPH, "constant").fit(xy, pts.lz, np.ones((len(xy), 1)))
    with pytest.raises(GeoMLError, match="nodata"):
        UniversalKriging(SPH, "constant").fit(xy, pts.lz, np.where(np.arange(len(xy)) == 3, np.nan, pts.sdist))
    with pytest.raises(GeoMLError, match="more than 6 neighbours"):
        UniversalKriging(SPH, "quadratic", 5).fit(xy, pts.lz)
    ked = UniversalKriging(SPH, "constant", 16).fit(xy, pts.lz, pts[["sdist"]])
    cov = grid[["sdist"]].to_numpy().copy()
    cov[:5] = np.nan  # a cell without covariate is not estimated
    res = ked.predict(grid[["x", "y"]].to_numpy(), cov)
    assert np.isnan(res.estimate[:5]).all() and np.isfinite(res.estimate[5:]).all()


def test_regression_kriging_global_equals_gstat_ked(data):
    """Global neighbourhood: GLS trend + simple kriging of residuals is exactly KED (gstat's krige)."""
    from geoml_qgis.core.geostats.regression import RegressionKriging

    pts, grid = data
    model = NESTED
    rk = RegressionKriging(model, "constant", 0).fit(pts[["x", "y"]], pts.lz, pts[["sdist"]])
    res = rk.predict(grid[["x", "y"]].to_numpy(), grid[["sdist"]].to_numpy())
    assert_equal_to_gstat(res, gstat_krige(pts, grid, "lz ~ sdist", model), pts.lz)


def test_regression_kriging_moving_equals_gstat_blue_plus_sk(data):
    """Moving neighbourhood: estimate = gstat's GLS trend (predict(..., BLUE = TRUE)) + gstat's simple kriging
    (beta = 0, nmax) of the residuals from that trend; variance = gstat's SK variance plus a trend share that
    is non-negative and at most the trend's own variance (gstat's BLUE variance)."""
    from geoml_qgis.core.geostats.regression import RegressionKriging

    pts, grid = data
    ref = run_gstat(
        "coordinates(pts) <- ~x+y\ncoordinates(grid) <- ~x+y\n"
        f"m <- {vgm(NESTED)}\n"
        "g <- gstat(NULL, 'lz', lz ~ sdist, pts, model = m)\n"
        "pts$res <- pts$lz - predict(g, pts, BLUE = TRUE, debug.level = 0)$lz.pred\n"
        "tr <- predict(g, grid, BLUE = TRUE, debug.level = 0)\n"
        "sk <- krige(res ~ 1, pts, grid, model = m, beta = 0, nmax = 16, debug.level = 0)\n"
        "out <- data.frame(estimate = tr$lz.pred + sk$var1.pred, sk_var = sk$var1.var, trend_var = tr$lz.var)",
        pts=pts, grid=grid)
    rk = RegressionKriging(NESTED, "constant", 16).fit(pts[["x", "y"]], pts.lz, pts[["sdist"]])
    res = rk.predict(grid[["x", "y"]].to_numpy(), grid[["sdist"]].to_numpy())
    tol = 1e-6 * np.std(pts.lz)
    np.testing.assert_allclose(res.estimate, ref.estimate, rtol=0, atol=tol)
    share = res.variance - ref.sk_var.to_numpy()
    assert (share > -tol).all() and (share < ref.trend_var.to_numpy() + tol).all()


@pytest.mark.parametrize("nmax", [20])
def test_ked_leave_one_out_equals_gstat_krige_cv(data, nmax):
    from geoml_qgis.core.geostats.crossval_trend import leave_one_out_trend

    pts, _ = data
    nm = f", nmax = {nmax}" if nmax else ""
    ref = run_gstat("coordinates(pts) <- ~x+y\n"
                    f"cv <- krige.cv(lz ~ sdist, pts, model = {vgm(SPH)}{nm}, debug.level = 0)\n"
                    "out <- data.frame(estimate = cv$var1.pred, variance = cv$var1.var)", pts=pts)
    cv = leave_one_out_trend(UniversalKriging(SPH, "constant", nmax or 0), pts[["x", "y"]], pts.lz, pts[["sdist"]])
    tol = 1e-6 * np.std(pts.lz)
    np.testing.assert_allclose(cv.table.estimate, ref.estimate, rtol=0, atol=tol)
    np.testing.assert_allclose(cv.table.variance, ref.variance, rtol=0, atol=tol)


def test_trend_blocked_kfold_runs_every_estimator(data):
    from geoml_qgis.core.geostats.crossval_trend import blocked_kfold_trend, leave_one_out_trend
    from geoml_qgis.core.geostats.regression import RegressionKriging

    pts, _ = data
    xy = pts[["x", "y"]].to_numpy()
    for est in (UniversalKriging(SPH, "linear", 24), RegressionKriging(SPH, "constant", 24)):
        cv = blocked_kfold_trend(est, xy, pts.lz, pts[["sdist"]], n_folds=4, block_size=600.0)
        assert cv.summary["n"] == len(pts) and 0.2 < cv.summary["RMSE"] < 0.6
    loo = leave_one_out_trend(RegressionKriging(SPH, "constant", 24), xy, pts.lz, pts[["sdist"]])
    assert 0.2 < loo.summary["RMSE"] < 0.5 and 0.5 < loo.summary["MSDR"] < 2


def test_covariates_needed_at_targets(data):
    from geoml_qgis.core.geostats.regression import RegressionKriging

    pts, grid = data
    for cls in (UniversalKriging, RegressionKriging):
        est = cls(SPH, "constant", 16).fit(pts[["x", "y"]], pts.lz, pts[["sdist"]])
        with pytest.raises(GeoMLError, match="give their values at the targets"):
            est.predict(grid[["x", "y"]].to_numpy())
