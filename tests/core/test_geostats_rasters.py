"""Kriged rasters: orientation, cell centres, streaming outputs and feature bands."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from geoml_qgis.core.errors import Cancelled, GeoMLError
from geoml_qgis.core.geostats import OrdinaryKriging, VariogramModel
from geoml_qgis.core.geostats.rasters import check_extent, krige_to_rasters, kriged_features
from geoml_qgis.core.io import Grid

MODEL = VariogramModel("gaussian", 0.0, 1.0, 500.0)


def _read(path, band=1):
    ds = gdal.Open(str(path))
    arr = ds.GetRasterBand(band).ReadAsArray()
    return arr, ds.GetGeoTransform()


@pytest.mark.parametrize("axis", ["northing", "easting"])
def test_orientation_and_cell_centres(tmp_path, axis):
    """Samples at every cell centre with value = northing (or easting): kriging is exact at samples,
    so the raster must hold exactly the cell-centre coordinate, row 0 in the north."""
    grid = Grid.from_bounds(1000.0, 2000.0, 1070.0, 2050.0, 10.0)  # 7 x 5 cells
    x, y = grid.cell_centres()
    value = y if axis == "northing" else x
    ok = OrdinaryKriging(MODEL, 8).fit(np.column_stack([x.ravel(), y.ravel()]), value.ravel())
    krige_to_rasters(ok, grid, tmp_path / "e.tif", tmp_path / "v.tif")
    est, gt = _read(tmp_path / "e.tif")
    var, _ = _read(tmp_path / "v.tif")
    assert gt == grid.transform
    np.testing.assert_allclose(est, value, atol=1e-3)
    assert np.abs(var).max() < 1e-6
    if axis == "northing":
        assert est[0, 0] == pytest.approx(2045.0) and est[-1, 0] == pytest.approx(2005.0)
    else:
        assert est[0, 0] == pytest.approx(1005.0) and est[0, -1] == pytest.approx(1065.0)


def test_planar_trend_from_sparse_samples_keeps_north_up(tmp_path):
    rng = np.random.default_rng(0)
    c = rng.uniform(0, 1000, (80, 2))
    ok = OrdinaryKriging(VariogramModel("gaussian", 0.0, 50.0, 3000.0), 20).fit(c, c[:, 1] / 100)
    grid = Grid.from_bounds(0, 0, 1000, 1000, 50.0)
    krige_to_rasters(ok, grid, tmp_path / "e.tif", tmp_path / "v.tif")
    est, _ = _read(tmp_path / "e.tif")
    _, y = grid.cell_centres()
    np.testing.assert_allclose(est, y / 100, atol=0.05)


def test_cancel_leaves_no_output(tmp_path):
    rng = np.random.default_rng(0)
    c = rng.uniform(0, 1000, (50, 2))
    ok = OrdinaryKriging(MODEL, 8).fit(c, c[:, 0])
    grid = Grid.from_bounds(0, 0, 1000, 1000, 1.0)  # 16 blocks
    with pytest.raises(Cancelled):
        krige_to_rasters(ok, grid, tmp_path / "e.tif", tmp_path / "v.tif", progress=lambda f: f < 0.1)
    assert not list(tmp_path.glob("*.tif"))


def test_extent_without_samples_is_refused():
    grid = Grid.from_bounds(0, 0, 100, 100, 10.0)
    with pytest.raises(GeoMLError, match="None of the 2 samples"):
        check_extent(np.array([[500.0, 500.0], [600.0, 600.0]]), grid)


def test_feature_bands(tmp_path):
    rng = np.random.default_rng(1)
    c = rng.uniform(0, 1000, (60, 2))
    z = np.sin(c[:, 0] / 200)
    ok = OrdinaryKriging(VariogramModel("spherical", 0.01, 0.5, 400.0), 16).fit(c, z)
    grid = Grid.from_bounds(0, 0, 1000, 800, 40.0)
    kriged_features(ok, grid, tmp_path / "f.tif", density_radius=150.0)
    ds = gdal.Open(str(tmp_path / "f.tif"))
    assert ds.RasterCount == 4
    assert [ds.GetRasterBand(i).GetDescription() for i in range(1, 5)][2] == "nearest_sample_distance"
    x, y = grid.cell_centres()
    cells = np.column_stack([x.ravel(), y.ravel()])
    d = np.hypot(cells[:, None, 0] - c[None, :, 0], cells[:, None, 1] - c[None, :, 1])
    bands = ds.ReadAsArray().reshape(4, -1)
    res = ok.predict(cells)
    np.testing.assert_allclose(bands[0], res.estimate, atol=1e-5)
    np.testing.assert_allclose(bands[1], res.variance, atol=1e-5)
    np.testing.assert_allclose(bands[2], d.min(axis=1), rtol=1e-5)
    np.testing.assert_allclose(bands[3], (d <= 150.0).sum(axis=1) / (np.pi * 0.15 ** 2), rtol=1e-5)


def test_3d_kriging_onto_a_horizontal_slice(tmp_path):
    """3D samples at every cell centre on two levels (value = z): the slice at z = 10 is exactly 10."""
    grid = Grid.from_bounds(0, 0, 50, 40, 10.0)
    x, y = grid.cell_centres()
    xy = np.column_stack([x.ravel(), y.ravel()])
    coords = np.vstack([np.column_stack([xy, np.zeros(len(xy))]), np.column_stack([xy, np.full(len(xy), 10.0)])])
    ok = OrdinaryKriging(VariogramModel("exponential", 0.0, 1.0, 100.0), 12).fit(coords, coords[:, 2])
    krige_to_rasters(ok, grid, tmp_path / "e.tif", tmp_path / "v.tif", z_level=10.0)
    est, _ = _read(tmp_path / "e.tif")
    np.testing.assert_allclose(est, 10.0, atol=1e-4)
    mid = ok.predict(np.column_stack([xy, np.full(len(xy), 5.0)])).estimate
    assert np.all((mid > 2) & (mid < 8))
