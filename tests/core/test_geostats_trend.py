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
