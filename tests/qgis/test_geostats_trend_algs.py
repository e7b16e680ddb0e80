"""Trend kriging and indicator kriging algorithms through processing.run on the Meuse data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal

from .conftest import SAMPLE

MEUSE = SAMPLE / "meuse" / "meuse.gpkg"
DIST = SAMPLE / "meuse" / "grids" / "dist.tif"
EXP = {"VARIOGRAM_MODEL": 2, "NUGGET": 0.05, "SILL": 0.35, "RANGE": 900.0}


@pytest.fixture(scope="module")
def logzinc(tmp_path_factory):
    from geoml_qgis.core.io.vector import read_points, write_points

    pts = read_points(MEUSE)
    pts.attributes["log_zinc"] = np.log(pts.attributes["zinc"].astype(float))
    path = tmp_path_factory.mktemp("meuse") / "meuse_log.gpkg"
    write_points(path, pts)
    return path


@pytest.fixture(scope="module")
def sqrt_dist(tmp_path_factory):
    src = gdal.Open(str(DIST))
    a = src.GetRasterBand(1).ReadAsArray().astype(np.float32)
    path = str(tmp_path_factory.mktemp("cov") / "sqrt_dist.tif")
    ds = gdal.GetDriverByName("GTiff").CreateCopy(path, src)
    ds.GetRasterBand(1).WriteArray(np.where(a >= 0, np.sqrt(np.maximum(a, 0)), -1).astype(np.float32))
    ds = None
    return path


def test_ked_algorithm_matches_core_and_cross_validates(run_alg, logzinc, sqrt_dist, tmp_path):
    from qgis.core import QgsRasterLayer

    from geoml_qgis.core.geostats import VariogramModel
    from geoml_qgis.core.geostats.trend_rasters import sample_covariates
    from geoml_qgis.core.geostats.universal import UniversalKriging

    res = run_alg("geoml:trendkriging", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", "DRIFT": 0, "COVARIATES": [sqrt_dist], "REFERENCE": sqrt_dist,
        **EXP, "NEIGHBOURS": 24, "CROSS_VALIDATION": 1, "OUTPUT_CSV": str(tmp_path / "cv.csv"),
        "OUTPUT_ESTIMATE": str(tmp_path / "est.tif"), "OUTPUT_VARIANCE": str(tmp_path / "var.tif")})
    d = pd.read_csv(SAMPLE / "meuse" / "meuse.txt")
    xy = d[["x", "y"]].to_numpy(float)
    cov, _ = sample_covariates([sqrt_dist], xy)
    ked = UniversalKriging(VariogramModel("exponential", 0.05, 0.35, 900.0), "constant", 24).fit(xy, np.log(d.zinc), cov)
    ds = gdal.Open(sqrt_dist)
    c = ds.ReadAsArray().astype(float)
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    rows, cols = np.nonzero(c >= 0)
    ref = ked.predict(np.column_stack([x0 + (cols + 0.5) * dx, y0 + (rows + 0.5) * dy]), c[rows, cols][:, None])
    est = gdal.Open(res["OUTPUT_ESTIMATE"]).ReadAsArray()
    var = gdal.Open(res["OUTPUT_VARIANCE"]).ReadAsArray()
    np.testing.assert_allclose(est[rows, cols], ref.estimate, rtol=1e-6)
    np.testing.assert_allclose(var[rows, cols], ref.variance, rtol=1e-5)
    assert (est[c < 0] == -9999).all()
    assert QgsRasterLayer(res["OUTPUT_ESTIMATE"], "e").renderer().type() == "singlebandpseudocolor"
    cv = pd.read_csv(res["OUTPUT_CSV"])
    assert len(cv) == 155 and 0.2 < res["RMSE"] < 0.5 and 0.5 < res["MSDR"] < 2


def test_universal_kriging_algorithm_fits_residual_variogram(run_alg, logzinc, tmp_path):
    res = run_alg("geoml:trendkriging", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", "DRIFT": 1, "REFERENCE": str(DIST),
        "VARIOGRAM_MODEL": 1, "KRIGING_TYPE": 1, "NEIGHBOURS": 32,
        "OUTPUT_REPORT": str(tmp_path / "r.html"),
        "OUTPUT_ESTIMATE": str(tmp_path / "est.tif"), "OUTPUT_VARIANCE": str(tmp_path / "var.tif")})
    e = gdal.Open(res["OUTPUT_ESTIMATE"]).ReadAsArray()
    inside = gdal.Open(str(DIST)).ReadAsArray() >= 0
    assert 4.5 < e[inside].min() and e[inside].max() < 7.7
    assert "trend residuals" in (tmp_path / "r.html").read_text()


def test_trend_kriging_bad_input(run_alg, logzinc, tmp_path, write_raster):
    from qgis.core import QgsProcessingException

    small = write_raster(np.ones((10, 10)), transform=(179000.0, 40.0, 0.0, 332000.0, 0.0, -40.0), epsg=28992)
    with pytest.raises(QgsProcessingException, match="has no value at"):
        run_alg("geoml:trendkriging", {
            "INPUT": str(logzinc), "FIELD": "log_zinc", "DRIFT": 0, "COVARIATES": [small], "REFERENCE": str(DIST),
            **EXP, "OUTPUT_ESTIMATE": str(tmp_path / "e.tif"), "OUTPUT_VARIANCE": str(tmp_path / "v.tif")})
    with pytest.raises(QgsProcessingException, match="no trend"):
        run_alg("geoml:trendkriging", {
            "INPUT": str(logzinc), "FIELD": "log_zinc", "DRIFT": 0, "REFERENCE": str(DIST),
            **EXP, "OUTPUT_ESTIMATE": str(tmp_path / "e.tif"), "OUTPUT_VARIANCE": str(tmp_path / "v.tif")})
    assert not (tmp_path / "e.tif").exists()


def test_indicator_kriging_algorithm(run_alg, logzinc, tmp_path):
    from qgis.core import QgsProcessingException, QgsRasterLayer

    from geoml_qgis.core.geostats.indicator import IndicatorKriging

    res = run_alg("geoml:indicatorkriging", {
        "INPUT": str(MEUSE), "FIELD": "zinc", "CUTOFFS": "200, 500, 1000", "INDICATOR_VARIOGRAM": 1,
        "VARIOGRAM_MODEL": 1, "REFERENCE": str(DIST), "NEIGHBOURS": 24, "CROSS_VALIDATION": 1,
        "OUTPUT_EXCEEDANCE": str(tmp_path / "p.tif"), "OUTPUT_ETYPE": str(tmp_path / "e.tif"),
        "OUTPUT_VARIANCE": str(tmp_path / "v.tif")})
    p = gdal.Open(res["OUTPUT_EXCEEDANCE"])
    assert p.RasterCount == 3 and p.GetRasterBand(2).GetDescription() == "P(>500)"
    a = p.ReadAsArray()
    inside = gdal.Open(str(DIST)).ReadAsArray() >= 0
    assert (a[:, ~inside] == -9999).all()
    pin = a[:, inside]
    assert pin.min() >= 0 and pin.max() <= 1 and (np.diff(pin, axis=0) <= 1e-6).all()
    # median IK refitted in core gives the same probabilities
    d = pd.read_csv(SAMPLE / "meuse" / "meuse.txt")
    ik = IndicatorKriging([200, 500, 1000], None, 24, median=True).fit(d[["x", "y"]].to_numpy(float), d.zinc)
    ds = gdal.Open(str(DIST))
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    rows, cols = np.nonzero(inside)
    ref = ik.predict(np.column_stack([x0 + (cols + 0.5) * dx, y0 + (rows + 0.5) * dy]))
    np.testing.assert_allclose(a[1][rows, cols], ref.exceedance[:, 1], atol=1e-6)
    assert QgsRasterLayer(res["OUTPUT_ETYPE"], "e").renderer().type() == "singlebandpseudocolor"
    assert 0 < res["RMSE"] < 400
    with pytest.raises(QgsProcessingException, match="outside the data range"):
        run_alg("geoml:indicatorkriging", {
            "INPUT": str(MEUSE), "FIELD": "zinc", "CUTOFFS": "500, 5000", "REFERENCE": str(DIST),
            "OUTPUT_EXCEEDANCE": str(tmp_path / "p2.tif")})


def test_fit_nested_variogram_then_krige(run_alg, logzinc, tmp_path):
    """The nested fit from gstat's starting values (fit.ranges = FALSE: nugget 0.0032546, Exp 0.097064,
    Sph 0.55651 in gstat 2.1), and its JSON model used by ordinary kriging."""
    import json

    res = run_alg("geoml:fitnestedvariogram", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", "STRUCTURE_1": 1, "STRUCTURE_2": 1,
        "NUGGET": 0.05, "PSILL_1": 0.1, "RANGE_1": 300.0, "PSILL_2": 0.5, "RANGE_2": 1000.0, "FIT_RANGES": False,
        "OUTPUT_MODEL": str(tmp_path / "m.json"), "OUTPUT_REPORT": str(tmp_path / "m.html")})
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["nugget"] == pytest.approx(0.00325456, abs=1e-6)
    assert [s["psill"] for s in m["structures"]] == [pytest.approx(0.0970645, abs=1e-6), pytest.approx(0.5565096, abs=1e-6)]
    assert res["SSERR"] == pytest.approx(8.87279848e-06, rel=1e-6)
    ok = run_alg("geoml:ordinarykriging", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", "REFERENCE": str(DIST), "VARIOGRAM_FILE": res["OUTPUT_MODEL"],
        "OUTPUT_ESTIMATE": str(tmp_path / "e.tif"), "OUTPUT_VARIANCE": str(tmp_path / "v.tif")})
    e = gdal.Open(ok["OUTPUT_ESTIMATE"]).ReadAsArray()
    assert 4.5 < e[e != -9999].min() and e.max() < 7.7


def test_block_kriging_algorithm(run_alg, logzinc, tmp_path):
    from geoml_qgis.core.geostats import VariogramModel
    from geoml_qgis.core.geostats.block import BlockKriging

    res = run_alg("geoml:blockkriging", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", "DRIFT": 0, "REFERENCE": str(DIST), **EXP, "NEIGHBOURS": 24,
        "OUTPUT_ESTIMATE": str(tmp_path / "est.tif"), "OUTPUT_VARIANCE": str(tmp_path / "var.tif")})
    d = pd.read_csv(SAMPLE / "meuse" / "meuse.txt")
    model = VariogramModel("exponential", 0.05, 0.35, 900.0)
    bk = BlockKriging(model, (40.0, 40.0), "constant", 24).fit(d[["x", "y"]].to_numpy(float), np.log(d.zinc))
    ds = gdal.Open(str(DIST))
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    rows, cols = np.nonzero(ds.ReadAsArray() >= 0)
    ref = bk.predict(np.column_stack([x0 + (cols + 0.5) * dx, y0 + (rows + 0.5) * dy]))
    est = gdal.Open(res["OUTPUT_ESTIMATE"]).ReadAsArray()
    var = gdal.Open(res["OUTPUT_VARIANCE"]).ReadAsArray()
    np.testing.assert_allclose(est[rows, cols], ref.estimate, rtol=1e-6)
    np.testing.assert_allclose(var[rows, cols], ref.variance, rtol=1e-5)
    assert var[rows, cols].max() < 0.35 - 0.05  # block variances hold no nugget


def test_gaussian_simulation_algorithm(run_alg, tmp_path):
    from qgis.core import QgsProcessingException

    params = {"INPUT": str(MEUSE), "FIELD": "zinc", "EXTENT": "178500,181400,329700,333700 [EPSG:28992]",
              "PIXEL_SIZE": 100.0, "VARIOGRAM_MODEL": 1, "NUGGET": 0.1, "SILL": 1.0, "RANGE": 900.0,
              "REALISATIONS": 3, "SEED": 4, "CUTOFFS": "500"}
    res = run_alg("geoml:gaussiansimulation", {
        **params, "OUTPUT_REALISATIONS": str(tmp_path / "r.tif"), "OUTPUT_ETYPE": str(tmp_path / "e.tif"),
        "OUTPUT_SD": str(tmp_path / "sd.tif"), "OUTPUT_EXCEEDANCE": str(tmp_path / "p.tif")})
    r = gdal.Open(res["OUTPUT_REALISATIONS"]).ReadAsArray()
    assert r.shape[0] == 3 and r.min() >= 113 and r.max() <= 1839  # within the data's range (default tails)
    p = gdal.Open(res["OUTPUT_EXCEEDANCE"]).ReadAsArray()
    np.testing.assert_allclose(p, (r > 500).mean(axis=0), atol=1e-6)
    again = run_alg("geoml:gaussiansimulation", {**params, "OUTPUT_REALISATIONS": str(tmp_path / "r2.tif")})
    np.testing.assert_array_equal(gdal.Open(again["OUTPUT_REALISATIONS"]).ReadAsArray(), r)  # same seed, same maps
    with pytest.raises(QgsProcessingException, match="cut-offs"):
        run_alg("geoml:gaussiansimulation", {**params, "CUTOFFS": "", "OUTPUT_EXCEEDANCE": str(tmp_path / "p3.tif")})


def test_cokriging_algorithm(run_alg, tmp_path):
    import json

    from geoml_qgis.core.geostats.cokriging import OrdinaryCokriging, fit_lmc
    from geoml_qgis.core.io.vector import read_points, write_points

    pts = read_points(MEUSE)
    pts.attributes["lzn"] = np.log(pts.attributes["zinc"].astype(float))
    pts.attributes["lcu"] = np.log(pts.attributes["copper"].astype(float))
    path = tmp_path / "meuse2.gpkg"
    write_points(path, pts)
    res = run_alg("geoml:cokriging", {
        "INPUT": str(path), "FIELD": "lzn", "SECONDARY_FIELDS": ["lcu"], "RANGE_1": 800.0, "NEIGHBOURS": 12,
        "CROSS_VALIDATION": 1,
        "REFERENCE": str(DIST), "OUTPUT_ESTIMATE": str(tmp_path / "e.tif"), "OUTPUT_VARIANCE": str(tmp_path / "v.tif"),
        "OUTPUT_MODEL": str(tmp_path / "lmc.json")})
    assert json.loads((tmp_path / "lmc.json").read_text())["names"] == ["lzn", "lcu"]
    assert 0.2 < res["RMSE"] < 0.5
    xy = np.column_stack([pts.x, pts.y])
    z = pts.attributes[["lzn", "lcu"]].to_numpy(float)
    ck = OrdinaryCokriging(fit_lmc(xy, z, [("nugget", 0.0), ("spherical", 800.0)]), 0, 12).fit(xy, z)
    ds = gdal.Open(str(DIST))
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    rows, cols = np.nonzero(ds.ReadAsArray() >= 0)
    ref = ck.predict(np.column_stack([x0 + (cols + 0.5) * dx, y0 + (rows + 0.5) * dy]))
    np.testing.assert_allclose(gdal.Open(res["OUTPUT_ESTIMATE"]).ReadAsArray()[rows, cols], ref.estimate, rtol=1e-6)
    np.testing.assert_allclose(gdal.Open(res["OUTPUT_VARIANCE"]).ReadAsArray()[rows, cols], ref.variance, rtol=1e-5)


def test_collocated_cokriging_algorithm(run_alg, logzinc, sqrt_dist, tmp_path):
    from geoml_qgis.core.geostats.cokriging import CollocatedCokriging, fit_lmc
    from geoml_qgis.core.geostats.trend_rasters import sample_covariates

    res = run_alg("geoml:cokriging", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", "SECONDARY_RASTER": sqrt_dist, "RANGE_1": 800.0, "NEIGHBOURS": 16,
        "REFERENCE": sqrt_dist, "OUTPUT_ESTIMATE": str(tmp_path / "e.tif"), "OUTPUT_VARIANCE": str(tmp_path / "v.tif")})
    d = pd.read_csv(SAMPLE / "meuse" / "meuse.txt")
    xy = d[["x", "y"]].to_numpy(float)
    s, _ = sample_covariates([sqrt_dist], xy)
    z = np.column_stack([np.log(d.zinc), s[:, 0]])
    cc = CollocatedCokriging(fit_lmc(xy, z, [("nugget", 0.0), ("spherical", 800.0)]), 16).fit(xy, z[:, 0], s.mean())
    ds = gdal.Open(sqrt_dist)
    c = ds.ReadAsArray().astype(float)
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    rows, cols = np.nonzero(c >= 0)
    ref = cc.predict(np.column_stack([x0 + (cols + 0.5) * dx, y0 + (rows + 0.5) * dy]), c[rows, cols])
    np.testing.assert_allclose(gdal.Open(res["OUTPUT_ESTIMATE"]).ReadAsArray()[rows, cols], ref.estimate, rtol=1e-6)
    np.testing.assert_allclose(gdal.Open(res["OUTPUT_VARIANCE"]).ReadAsArray()[rows, cols], ref.variance, rtol=1e-5)
