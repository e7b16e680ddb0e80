"""Blocked k-fold cross-validation inside indicator kriging and cokriging, and cokriging with a nested
coregionalisation, through processing.run on Meuse: the algorithms give what the core gives."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal

from .conftest import SAMPLE

MEUSE = SAMPLE / "meuse" / "meuse.gpkg"
DIST = SAMPLE / "meuse" / "grids" / "dist.tif"


@pytest.fixture(scope="module")
def meuse2(tmp_path_factory):
    from geoml_qgis.core.io.vector import read_points, write_points

    pts = read_points(MEUSE)
    pts.attributes["lzn"] = np.log(pts.attributes["zinc"].astype(float))
    pts.attributes["lcu"] = np.log(pts.attributes["copper"].astype(float))
    path = tmp_path_factory.mktemp("meuse") / "meuse2.gpkg"
    write_points(path, pts)
    return path, np.column_stack([pts.x, pts.y]), pts.attributes[["lzn", "lcu"]].to_numpy(float)


def test_indicator_kriging_blocked_cross_validation(run_alg, tmp_path):
    from geoml_qgis.core.geostats.crossval_indicator import blocked_kfold_indicator
    from geoml_qgis.core.geostats.indicator import IndicatorKriging

    res = run_alg("geoml:indicatorkriging", {
        "INPUT": str(MEUSE), "FIELD": "zinc", "CUTOFFS": "200, 500, 1000", "INDICATOR_VARIOGRAM": 1,
        "VARIOGRAM_MODEL": 1, "REFERENCE": str(DIST), "NEIGHBOURS": 24, "CROSS_VALIDATION": 2, "FOLDS": 4,
        "BLOCK_SIZE": 600.0, "SEED": 2, "OUTPUT_CSV": str(tmp_path / "cv.csv"),
        "OUTPUT_EXCEEDANCE": str(tmp_path / "p.tif")})
    d = pd.read_csv(SAMPLE / "meuse" / "meuse.txt")
    xy = d[["x", "y"]].to_numpy(float)
    ik = IndicatorKriging([200, 500, 1000], None, 24, median=True).fit(xy, d.zinc)
    cv = blocked_kfold_indicator(ik, xy, d.zinc, 4, 600.0, 2)
    table = pd.read_csv(tmp_path / "cv.csv")
    assert sorted(table.fold.unique()) == [0, 1, 2, 3] and "p_exceed_2" in table
    assert res["RMSE"] == pytest.approx(cv.summary["RMSE"], rel=1e-9)
    assert res["MSDR"] == pytest.approx(cv.summary["MSDR"], rel=1e-6)


def test_cokriging_nested_lmc_and_blocked_cross_validation(run_alg, meuse2, tmp_path):
    from geoml_qgis.core.geostats.cokriging import OrdinaryCokriging, blocked_kfold_cokriging, fit_lmc

    path, xy, z = meuse2
    res = run_alg("geoml:cokriging", {
        "INPUT": str(path), "FIELD": "lzn", "SECONDARY_FIELDS": ["lcu"], "STRUCTURE_1": 0, "RANGE_1": 300.0,
        "STRUCTURE_2": 1, "RANGE_2": 1200.0, "NEIGHBOURS": 12, "CROSS_VALIDATION": 2, "FOLDS": 5,
        "BLOCK_SIZE": 800.0, "SEED": 3, "REFERENCE": str(DIST), "OUTPUT_ESTIMATE": str(tmp_path / "e.tif"),
        "OUTPUT_VARIANCE": str(tmp_path / "v.tif"), "OUTPUT_MODEL": str(tmp_path / "lmc.json")})
    model = json.loads((tmp_path / "lmc.json").read_text())
    assert [(s["kind"], s["range"]) for s in model["structures"]] == [
        ("nugget", 0.0), ("spherical", 300.0), ("spherical", 1200.0)]
    lmc = fit_lmc(xy, z, [("nugget", 0.0), ("spherical", 300.0), ("spherical", 1200.0)])
    np.testing.assert_allclose(model["sills"], lmc.sills, rtol=1e-12)
    cv = blocked_kfold_cokriging(lmc, xy, z, 12, 0, 5, 800.0, 3)
    assert res["RMSE"] == pytest.approx(cv.summary["RMSE"], rel=1e-9)
    ds = gdal.Open(str(DIST))
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    rows, cols = np.nonzero(ds.ReadAsArray() >= 0)
    ref = OrdinaryCokriging(lmc, 0, 12).fit(xy, z).predict(np.column_stack([x0 + (cols + 0.5) * dx,
                                                                          y0 + (rows + 0.5) * dy]))
    np.testing.assert_allclose(gdal.Open(res["OUTPUT_ESTIMATE"]).ReadAsArray()[rows, cols], ref.estimate, rtol=1e-6)


def test_cokriging_nested_ranges_from_the_primary_variogram(run_alg, meuse2, tmp_path):
    from qgis.core import QgsProcessingException

    from geoml_qgis.core.geostats.nested import fit_nested
    from geoml_qgis.core.geostats.variogram import experimental_variogram

    path, xy, z = meuse2
    common = {"INPUT": str(path), "FIELD": "lzn", "SECONDARY_FIELDS": ["lcu"], "STRUCTURE_1": 1, "STRUCTURE_2": 0,
              "REFERENCE": str(DIST), "OUTPUT_ESTIMATE": str(tmp_path / "e.tif"),
              "OUTPUT_VARIANCE": str(tmp_path / "v.tif")}
    run_alg("geoml:cokriging", {**common, "STRUCTURE_2": 1, "OUTPUT_MODEL": str(tmp_path / "lmc.json")})
    fitted = fit_nested(experimental_variogram(xy, z[:, 0]), ("exponential", "spherical"))[0]
    got = [s["range"] for s in json.loads((tmp_path / "lmc.json").read_text())["structures"][1:]]
    np.testing.assert_allclose(got, [s.range for s in fitted.structures], rtol=1e-9)
    with pytest.raises(QgsProcessingException, match="both ranges"):
        run_alg("geoml:cokriging", {**common, "STRUCTURE_2": 1, "RANGE_1": 300.0})
    with pytest.raises(QgsProcessingException, match="same type and range"):
        run_alg("geoml:cokriging", {**common, "STRUCTURE_1": 0, "STRUCTURE_2": 1, "RANGE_1": 500.0, "RANGE_2": 500.0})
