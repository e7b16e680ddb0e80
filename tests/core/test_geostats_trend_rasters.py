"""Kriging with external drift onto rasters: covariates sampled at the samples and read on the grid (Meuse)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.geostats import VariogramModel
from geoml_qgis.core.geostats.rasters import _targets
from geoml_qgis.core.geostats.trend_rasters import sample_covariates, trend_krige_to_rasters
from geoml_qgis.core.geostats.universal import UniversalKriging
from geoml_qgis.core.io.grid import Window
from geoml_qgis.core.io.raster import raster_grid
from tests.conftest import ROOT

MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse"
MODEL = VariogramModel("exponential", 0.05, 0.35, 900.0)


@pytest.fixture
def sqrt_dist(tmp_path):
    """sqrt(dist) of the bundled 40 m grid, as a user would make it with the raster calculator."""
    src = gdal.Open(str(MEUSE / "grids" / "dist.tif"))
    a = src.GetRasterBand(1).ReadAsArray().astype(np.float32)
    out = np.where(a >= 0, np.sqrt(np.maximum(a, 0)), -1).astype(np.float32)
    path = str(tmp_path / "sqrt_dist.tif")
    ds = gdal.GetDriverByName("GTiff").CreateCopy(path, src)
    ds.GetRasterBand(1).WriteArray(out)
    ds = None
    return path


def test_ked_rasters_equal_pointwise_kriging(sqrt_dist, tmp_path):
    d = pd.read_csv(MEUSE / "meuse.txt")
    xy = d[["x", "y"]].to_numpy(float)
    cov, names = sample_covariates([sqrt_dist], xy)
    assert names == ["sqrt_dist"]
    # the grid's distance at the sample's cell is close to the one recorded with the sample
    assert np.corrcoef(cov[:, 0], np.sqrt(d.dist))[0, 1] > 0.97
    ked = UniversalKriging(MODEL, "constant", 24).fit(xy, np.log(d.zinc), cov)
    grid = raster_grid(sqrt_dist)
    est_p, var_p = tmp_path / "est.tif", tmp_path / "var.tif"
    uncovered = trend_krige_to_rasters(ked, grid, [sqrt_dist], est_p, var_p, mask_path=sqrt_dist)
    assert uncovered == 0
    est = gdal.Open(str(est_p)).ReadAsArray()
    var = gdal.Open(str(var_p)).ReadAsArray()
    cov_grid = gdal.Open(sqrt_dist).ReadAsArray().astype(float)
    valid = cov_grid >= 0
    assert (est[~valid] == -9999).all()
    t = _targets(grid, Window(0, 0, grid.width, grid.height), None)
    ref = ked.predict(t[valid.ravel()], cov_grid[valid][:, None])
    np.testing.assert_allclose(est[valid], ref.estimate, rtol=1e-6)
    np.testing.assert_allclose(var[valid], ref.variance, rtol=1e-5)
    assert (tmp_path / "est.qml").exists() and (tmp_path / "var.qml").exists()


def test_covariate_must_cover_the_samples(sqrt_dist, write_raster):
    d = pd.read_csv(MEUSE / "meuse.txt")
    xy = d[["x", "y"]].to_numpy(float)
    small = write_raster(np.ones((10, 10)), transform=(179000.0, 40.0, 0.0, 332000.0, 0.0, -40.0), epsg=28992)
    with pytest.raises(GeoMLError, match="has no value at .* of 155 samples"):
        sample_covariates([small], xy)
