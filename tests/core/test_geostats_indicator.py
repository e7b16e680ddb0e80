"""Indicator kriging on Meuse zinc against R gstat 2.1 (krige(I(zinc <= c) ~ 1, ...)), plus order relations,
E-type and cross-validation on known cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.geostats import VariogramModel
from geoml_qgis.core.geostats.indicator import (
    IndicatorKriging, check_cutoffs, decile_cutoffs, leave_one_out_indicator, order_relations,
)
from geoml_qgis.core.geostats.nested import NestedModel, Structure
from tests.conftest import ROOT
from tests.gstat_reference import run_gstat, vgm

MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse"
CUTOFFS = [200.0, 500.0, 1000.0]
MODELS = [VariogramModel("spherical", 0.02, 0.12, 700.0),
          VariogramModel("spherical", 0.05, 0.25, 1000.0),
          NestedModel(0.02, (Structure("exponential", 0.05, 300.0), Structure("spherical", 0.08, 900.0)))]


@pytest.fixture(scope="module")
def meuse():
    d = pd.read_csv(MEUSE / "meuse.txt")
    return d[["x", "y"]].to_numpy(float), d["zinc"].to_numpy(float)


def test_indicator_kriging_equals_gstat(meuse):
    xy, z = meuse
    rng = np.random.default_rng(3)
    targets = np.column_stack([rng.uniform(178600, 181400, 300), rng.uniform(329800, 333600, 300)])
    ik = IndicatorKriging(CUTOFFS, MODELS, neighbours=24).fit(xy, z)
    res = ik.predict(targets)
    var = ik.predict_variances(targets)
    code = "coordinates(pts) <- ~x+y\ncoordinates(tg) <- ~x+y\nout <- data.frame(row = seq_len(length(tg)))\n"
    for k, (c, m) in enumerate(zip(CUTOFFS, MODELS)):
        code += (f"k <- krige(I(zinc <= {c}) ~ 1, pts, tg, model = {vgm(m)}, nmax = 24, debug.level = 0)\n"
                 f"out$e{k} <- k$var1.pred\nout$v{k} <- k$var1.var\n")
    ref = run_gstat(code, pts=pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "zinc": z}),
                    tg=pd.DataFrame({"x": targets[:, 0], "y": targets[:, 1]}))
    for k, c in enumerate(CUTOFFS):
        tol = 1e-6 * np.std(z <= c)
        np.testing.assert_allclose(res.raw[:, k], ref[f"e{k}"], rtol=0, atol=tol)
        np.testing.assert_allclose(var[:, k], ref[f"v{k}"], rtol=0, atol=tol)
    assert np.all(np.diff(res.cdf, axis=1) >= -1e-12) and np.nanmin(res.cdf) >= 0 and np.nanmax(res.cdf) <= 1


def test_order_relation_correction():
    raw = np.array([[0.3, 0.2, 0.5], [-0.1, 0.4, 1.2], [0.1, 0.5, 0.9]])
    cdf, n = order_relations(raw)
    np.testing.assert_allclose(cdf[0], [0.25, 0.25, 0.5])
    np.testing.assert_allclose(cdf[1], [0.0, 0.4, 1.0])
    np.testing.assert_allclose(cdf[2], raw[2])
    assert n == 2
    rand, _ = order_relations(np.random.default_rng(0).uniform(-0.3, 1.3, (500, 7)))
    assert (np.diff(rand, axis=1) >= 0).all() and rand.min() >= 0 and rand.max() <= 1


def test_etype_at_samples_is_the_class_mean(meuse):
    """Kriging honours the data: at a sample, the cdf jumps at its value and the E-type is its class mean."""
    xy, z = meuse
    ik = IndicatorKriging(CUTOFFS, MODELS[1], neighbours=16).fit(xy, z)
    res = ik.predict(xy[:40])
    np.testing.assert_allclose(res.cdf, (z[:40, None] <= np.array(CUTOFFS)).astype(float), atol=1e-9)
    cls = np.searchsorted(CUTOFFS, z[:40])
    expected = np.array([z[np.searchsorted(CUTOFFS, z) == c].mean() for c in cls])
    np.testing.assert_allclose(res.etype, expected, rtol=1e-9)
    assert np.allclose(res.conditional_variance[res.cdf.min(axis=1) == 0], np.array(
        [z[np.searchsorted(CUTOFFS, z) == c].var() for c in cls])[res.cdf.min(axis=1) == 0], rtol=1e-6)


def test_median_ik_and_fitted_models(meuse):
    xy, z = meuse
    med = IndicatorKriging(None, None, neighbours=24, median=True).fit(xy, z)
    np.testing.assert_allclose(med.cutoffs_, decile_cutoffs(z))
    assert all(m is med.models_[0] for m in med.models_)
    per = IndicatorKriging(None, None, neighbours=24).fit(xy, z)
    assert len({m.range for m in per.models_}) > 1
    t = xy[:5] + 50
    r = med.predict(t)
    assert r.etype.shape == (5,) and r.exceedance.shape == (5, len(med.cutoffs_))


def test_indicator_cross_validation_has_skill(meuse):
    xy, z = meuse
    cv = leave_one_out_indicator(IndicatorKriging(CUTOFFS, MODELS, neighbours=24), xy, z)
    s = cv.summary
    assert s["n"] == len(z) and s["Brier"] < 0.75 * s["Brier_reference"]
    assert {"p_exceed_1", "p_exceed_3"} <= set(cv.table.columns)


def test_bad_cutoffs(meuse):
    _, z = meuse
    with pytest.raises(GeoMLError, match="outside the data range"):
        check_cutoffs(z, [500, 5000])
    with pytest.raises(GeoMLError, match="outside the data range"):
        check_cutoffs(z, [10])
    with pytest.raises(GeoMLError, match="one indicator variogram per cut-off"):
        IndicatorKriging(CUTOFFS, MODELS[:2]).fit(meuse[0], z)


def test_indicator_rasters(meuse, tmp_path):
    from osgeo import gdal

    from geoml_qgis.core.geostats.indicator_rasters import indicator_to_rasters
    from geoml_qgis.core.io.grid import Grid

    xy, z = meuse
    ik = IndicatorKriging(CUTOFFS, MODELS, neighbours=16).fit(xy, z)
    grid = Grid(30, 40, (178500.0, 100.0, 0.0, 333700.0, 0.0, -100.0), "")
    paths = [tmp_path / n for n in ("p.tif", "e.tif", "v.tif")]
    indicator_to_rasters(ik, grid, *paths)
    ds = gdal.Open(str(paths[0]))
    assert ds.RasterCount == 3 and ds.GetRasterBand(2).GetDescription() == "P(>500)"
    p = ds.ReadAsArray()
    assert (np.diff(-p, axis=0) >= -1e-6).all() and p.min() >= 0 and p.max() <= 1
    x, y = grid.cell_centres()
    ref = ik.predict(np.column_stack([x.ravel(), y.ravel()]))
    np.testing.assert_allclose(p[1].ravel(), ref.exceedance[:, 1], atol=1e-6)
    np.testing.assert_allclose(gdal.Open(str(paths[1])).ReadAsArray().ravel(), ref.etype, rtol=1e-6)
    assert (tmp_path / "p.qml").exists()
