"""The geostatistics algorithms through processing.run (and once through qgis_process) on the Meuse data."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal

from .conftest import SAMPLE

MEUSE = SAMPLE / "meuse" / "meuse.gpkg"
DIST = SAMPLE / "meuse" / "grids" / "dist.tif"
CLASSIC = {"VARIOGRAM_MODEL": 1, "NUGGET": 0.0507, "SILL": 0.6413, "RANGE": 897.0}


@pytest.fixture(scope="module")
def logzinc(tmp_path_factory):
    """Meuse points with a log_zinc field (and a NULL in one record), EPSG:28992."""
    from geoml_qgis.core.io.vector import read_points, write_points

    pts = read_points(MEUSE)
    pts.attributes["log_zinc"] = np.log(pts.attributes["zinc"].astype(float))
    pts.attributes.loc[3, "log_zinc"] = np.nan
    path = tmp_path_factory.mktemp("meuse") / "meuse_log.gpkg"
    write_points(path, pts)
    return path


def test_fit_variogram_then_krige_onto_reference_grid(run_alg, logzinc, tmp_path):
    from qgis.core import QgsRasterLayer

    fit = run_alg("geoml:fitvariogram", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", "VARIOGRAM_MODEL": 1,
        "OUTPUT_MODEL": str(tmp_path / "vg.json"), "OUTPUT_REPORT": str(tmp_path / "vg.html")})
    model = json.loads((tmp_path / "vg.json").read_text())
    assert model["kind"] == "spherical" and 0.4 < model["sill"] - model["nugget"] < 0.8
    assert "data:image/png;base64" in (tmp_path / "vg.html").read_text()
    res = run_alg("geoml:ordinarykriging", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", "REFERENCE": str(DIST),
        "VARIOGRAM_FILE": fit["OUTPUT_MODEL"], "NEIGHBOURS": 32,
        "OUTPUT_ESTIMATE": str(tmp_path / "est.tif"), "OUTPUT_VARIANCE": str(tmp_path / "var.tif")})
    est, ref = gdal.Open(res["OUTPUT_ESTIMATE"]), gdal.Open(str(DIST))
    assert est.GetGeoTransform() == ref.GetGeoTransform()
    assert (est.RasterXSize, est.RasterYSize) == (ref.RasterXSize, ref.RasterYSize)
    band = ref.GetRasterBand(1)
    inside = band.ReadAsArray() != band.GetNoDataValue()  # the reference's nodata stays nodata
    e = est.GetRasterBand(1).ReadAsArray()
    assert (e[~inside] == -9999).all()
    assert 4.5 < e[inside].min() and e[inside].max() < 7.7
    vds = gdal.Open(res["OUTPUT_VARIANCE"])
    v = vds.GetRasterBand(1).ReadAsArray()[inside]
    assert v.min() >= 0 and v.max() < 1.2 * (model["sill"])
    assert QgsRasterLayer(res["OUTPUT_ESTIMATE"], "e").renderer().type() == "singlebandpseudocolor"


def test_cross_validation_layer_and_summary(run_alg, logzinc, tmp_path):
    from qgis.core import QgsVectorLayer

    res = run_alg("geoml:krigingcrossvalidation", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", **CLASSIC, "NEIGHBOURS": 0, "METHOD": 0,
        "OUTPUT": str(tmp_path / "cv.gpkg"), "OUTPUT_REPORT": str(tmp_path / "cv.html"),
        "OUTPUT_CSV": str(tmp_path / "cv.csv")})
    assert res["RMSE"] == pytest.approx(0.39, abs=0.01)
    layer = QgsVectorLayer(res["OUTPUT"], "cv")
    assert layer.featureCount() == 154  # one NULL value skipped
    assert "std_error" in layer.fields().names()
    table = pd.read_csv(tmp_path / "cv.csv")
    assert np.sqrt(np.mean(table["error"] ** 2)) == pytest.approx(res["RMSE"])


def test_kriged_features_on_reference_grid(run_alg, logzinc, tmp_path):
    res = run_alg("geoml:krigedfeatures", {
        "INPUT": str(logzinc), "FIELD": "log_zinc", "REFERENCE": str(DIST), **CLASSIC,
        "OUTPUT": str(tmp_path / "feat.tif")})
    ds = gdal.Open(res["OUTPUT"])
    ref = gdal.Open(str(DIST))
    assert ds.RasterCount == 4 and ds.GetGeoTransform() == ref.GetGeoTransform()
    dist = ds.GetRasterBand(3).ReadAsArray()
    dist = dist[dist != -9999]
    assert dist.min() < 20 and dist.max() > 200  # metres to the nearest sample


def test_geographic_crs_and_empty_extent_are_refused(run_alg, logzinc, tmp_path):
    from qgis.core import QgsProcessingException

    wgs = tmp_path / "wgs84.gpkg"
    gdal.VectorTranslate(str(wgs), str(logzinc), dstSRS="EPSG:4326", reproject=True)
    with pytest.raises(QgsProcessingException, match="geographic CRS"):
        run_alg("geoml:ordinarykriging", {
            "INPUT": str(wgs), "FIELD": "log_zinc", **CLASSIC, "EXTENT": "5.7,5.8,50.9,51.0", "PIXEL_SIZE": 0.001,
            "OUTPUT_ESTIMATE": str(tmp_path / "e.tif"), "OUTPUT_VARIANCE": str(tmp_path / "v.tif")})
    with pytest.raises(QgsProcessingException, match="None of the 154 samples"):
        run_alg("geoml:ordinarykriging", {
            "INPUT": str(logzinc), "FIELD": "log_zinc", **CLASSIC, "EXTENT": "0,1000,0,1000 [EPSG:28992]",
            "PIXEL_SIZE": 50, "OUTPUT_ESTIMATE": str(tmp_path / "e.tif"), "OUTPUT_VARIANCE": str(tmp_path / "v.tif")})
    assert not list(tmp_path.glob("*.tif"))


def test_ordinary_kriging_through_qgis_process(qgis_process, logzinc, tmp_path):
    out = qgis_process("geoml:ordinarykriging", {
        "INPUT": logzinc, "FIELD": "log_zinc", "VARIOGRAM_MODEL": 0, "EXTENT": "178600,181400,329600,333600",
        "PIXEL_SIZE": 100, "OUTPUT_ESTIMATE": tmp_path / "e.tif", "OUTPUT_VARIANCE": tmp_path / "v.tif",
        "OUTPUT_REPORT": tmp_path / "r.html"})
    ds = gdal.Open(out["results"]["OUTPUT_ESTIMATE"])
    assert (ds.RasterXSize, ds.RasterYSize) == (28, 40)
    assert (tmp_path / "e.qml").exists() and (tmp_path / "r.html").exists()


def test_3d_kriging_at_target_points(run_alg, tmp_path):
    """3D samples (PointZ, synthetic: value = depth trend + easting) kriged at 3D target points."""
    from qgis.core import QgsVectorLayer

    from geoml_qgis.core.geostats import OrdinaryKriging, VariogramModel
    from geoml_qgis.core.io.vector import PointTable, write_points

    rng = np.random.default_rng(4)
    xyz = rng.uniform(0, 100, (80, 3))
    value = xyz[:, 2] / 10 + xyz[:, 0] / 50
    write_points(tmp_path / "s.gpkg", PointTable(xyz[:, 0], xyz[:, 1], xyz[:, 2], pd.DataFrame({"v": value}), "EPSG:32633"))
    t = rng.uniform(10, 90, (12, 3))
    write_points(tmp_path / "t.gpkg", PointTable(t[:, 0], t[:, 1], t[:, 2], pd.DataFrame({"id": np.arange(12)}), "EPSG:32633"))
    res = run_alg("geoml:ordinarykriging", {
        "INPUT": str(tmp_path / "s.gpkg"), "FIELD": "v", "VARIOGRAM_MODEL": 2, "NUGGET": 0.0,
        "SILL": 2.0, "RANGE": 80.0, "NEIGHBOURS": 16, "TARGET_POINTS": str(tmp_path / "t.gpkg"),
        "OUTPUT_POINTS": str(tmp_path / "out.gpkg")})
    layer = QgsVectorLayer(res["OUTPUT_POINTS"], "o")
    got = np.array([[f["id"], f["estimate"], f["variance"]] for f in layer.getFeatures()])
    got = got[np.argsort(got[:, 0])]
    ref = OrdinaryKriging(VariogramModel("exponential", 0.0, 2.0, 80.0), 16).fit(xyz, value).predict(t)
    np.testing.assert_allclose(got[:, 1], ref.estimate, atol=1e-9)
    np.testing.assert_allclose(got[:, 2], ref.variance, atol=1e-9)
