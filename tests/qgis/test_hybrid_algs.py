"""geoml:trainhybridpredictor and geoml:predicthybrid through processing.run on the Meuse data."""
from __future__ import annotations

import pytest
from osgeo import gdal

from .conftest import SAMPLE

pytest.importorskip("torch")

MEUSE = SAMPLE / "meuse" / "meuse.gpkg"
GRIDS = SAMPLE / "meuse" / "grids"


def test_train_then_predict_on_the_meuse_grid(run_alg, tmp_path):
    covs = [str(GRIDS / "dist.tif"), str(GRIDS / "dem.tif")]
    res = run_alg("geoml:trainhybridpredictor", {
        "INPUT": str(MEUSE), "FIELD": "zinc", "COVARIATES": covs, "NEIGHBOURS": 8, "TRANSFORM": 1,
        "EPOCHS": 8, "MEMBERS": 1, "FOLDS": 3, "LOSS": 1, "OUTPUT_MODEL": str(tmp_path / "h.pt"),
        "OUTPUT_REPORT": str(tmp_path / "h.html")})
    assert 0.2 < res["KRIGING_RMSE"] < 1.0 and res["HYBRID_RMSE"] > 0
    assert "hybrid" in (tmp_path / "h.html").read_text()
    out = run_alg("geoml:predicthybrid", {
        "MODEL": res["OUTPUT_MODEL"], "INPUT": str(MEUSE), "COVARIATES": covs, "REFERENCE": str(GRIDS / "dist.tif"),
        "OUTPUT_PREDICTION": str(tmp_path / "p.tif"), "OUTPUT_UNCERTAINTY": str(tmp_path / "u.tif")})
    ds, ref = gdal.Open(out["OUTPUT_PREDICTION"]), gdal.Open(str(GRIDS / "dist.tif"))
    assert ds.GetGeoTransform() == ref.GetGeoTransform()
    band, rband = ds.GetRasterBand(1), ref.GetRasterBand(1)
    pred, inside = band.ReadAsArray(), rband.ReadAsArray() != rband.GetNoDataValue()
    assert (pred[~inside] == band.GetNoDataValue()).all()
    assert 80 < pred[inside].min() and pred[inside].max() < 2500  # zinc, ppm


def test_wrong_covariate_count_is_refused(run_alg, tmp_path):
    from qgis.core import QgsProcessingException

    res = run_alg("geoml:trainhybridpredictor", {
        "INPUT": str(MEUSE), "FIELD": "zinc", "NEIGHBOURS": 8, "EPOCHS": 3, "MEMBERS": 1, "FOLDS": 2,
        "OUTPUT_MODEL": str(tmp_path / "h.pt"), "OUTPUT_REPORT": str(tmp_path / "h.html")})
    with pytest.raises(QgsProcessingException, match="trained with 0 covariate"):
        run_alg("geoml:predicthybrid", {
            "MODEL": res["OUTPUT_MODEL"], "COVARIATES": [str(GRIDS / "dist.tif")], "REFERENCE": str(GRIDS / "dist.tif"),
            "OUTPUT_PREDICTION": str(tmp_path / "p.tif"), "OUTPUT_UNCERTAINTY": str(tmp_path / "u.tif")})
