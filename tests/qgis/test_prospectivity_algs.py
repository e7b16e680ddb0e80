"""Prospectivity algorithms through Processing on the Meuse data (real): zinc >= 500 ppm as 'occurrence'."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from geoml_qgis.core.io import read_points, write_points
from geoml_qgis.core.prospectivity.model import METHODS

from .conftest import SAMPLE

GRIDS = SAMPLE / "meuse" / "grids"
YUKON = SAMPLE / "yukon_porphyry"


@pytest.fixture(scope="module")
def occurrences(tmp_path_factory):
    pts = read_points(SAMPLE / "meuse" / "meuse.gpkg")
    pts.attributes = pts.attributes.assign(dep=(pts.attributes["zinc"] >= 500).astype(int))
    path = tmp_path_factory.mktemp("meuse") / "occ.gpkg"
    write_points(path, pts, columns=["zinc", "dep"])
    return path


def test_stack_train_compare_predict_evaluate(run_alg, occurrences, tmp_path):
    from qgis.core import QgsRasterLayer, QgsVectorLayer

    stack = tmp_path / "stack.tif"
    res = run_alg("geoml:buildfeaturestack", {
        "INPUTS": [str(GRIDS / f"{n}.tif") for n in ("dem", "dist", "twi")], "CATEGORICAL": [str(GRIDS / "ffreq.tif")],
        "PCA_COMPONENTS": 0, "OUTPUT": str(stack)})
    ds = gdal.Open(res["OUTPUT"])
    names = [ds.GetRasterBand(i + 1).GetDescription() for i in range(ds.RasterCount)]
    assert names == ["dem", "dist", "twi", "ffreq=1", "ffreq=2", "ffreq=3"]
    assert (tmp_path / "stack.tif.json").exists()
    res = run_alg("geoml:trainprospectivity", {
        "INPUT": str(occurrences), "LABEL_FIELD": "dep", "FEATURES": str(stack), "METHOD": 0,
        "PRETEXT_RASTER": str(GRIDS / "soil.tif"), "PRETEXT_SAMPLES": 300, "EPOCHS": 40, "COMPARE": True,
        "MEMBERS": 3, "UNLABELLED": 200,
        "OUTPUT_MODEL": str(tmp_path / "m.pt"), "OUTPUT_REPORT": str(tmp_path / "r.html")})
    html = (tmp_path / "r.html").read_text()
    for m in ("transfer", "scratch", "random_forest", "svm", "logistic_regression"):
        assert f"<td>{m}</td>" in html
    assert res["CV_ROC_AUC"] > 0.7  # zinc is high near the river: distance and elevation predict it
    res = run_alg("geoml:predictprospectivity", {
        "MODEL": str(tmp_path / "m.pt"), "FEATURES": str(stack), "INPUT": str(occurrences),
        "OUTPUT_PROBABILITY": str(tmp_path / "p.tif"), "OUTPUT": str(tmp_path / "scored.gpkg")})
    lyr = QgsRasterLayer(res["OUTPUT_PROBABILITY"], "p")
    assert lyr.isValid() and lyr.renderer().type() == "singlebandpseudocolor"
    scored = QgsVectorLayer(res["OUTPUT"], "s")
    p = np.array([v if isinstance(v, float) else np.nan for v in (f["probability"] for f in scored.getFeatures())])
    ok = np.isfinite(p)  # a point on a nodata cell of the grids gets an empty probability
    assert len(p) == 155 and ok.sum() >= 150 and 0 <= p[ok].min() and p[ok].max() <= 1
    res = run_alg("geoml:evaluateprospectivity", {
        "PROBABILITY": str(tmp_path / "p.tif"), "VALIDATION": str(occurrences), "LABEL_FIELD": "dep",
        "OUTPUT_REPORT": str(tmp_path / "e.html"), "OUTPUT_CSV": str(tmp_path / "e.csv")})
    figures = dict(line.split(",") for line in (tmp_path / "e.csv").read_text().split("\n\n")[0].splitlines()[1:])
    assert 0.5 < res["ROC_AUC"] <= 1 and float(figures["roc_auc"]) == pytest.approx(res["ROC_AUC"])
    assert float(figures["success_rate_auc"]) == pytest.approx(res["SUCCESS_RATE_AUC"])
    assert 0 < float(figures["captured_top_10pct"]) <= 1 and int(figures["n_deposits"]) > 20
    assert "<td>deposits captured in top 10 % of area</td>" in (tmp_path / "e.html").read_text()  # display text
    res2 = run_alg("geoml:evaluateprospectivity", {"SCORED": str(tmp_path / "scored.gpkg"), "LABEL_FIELD": "dep",
                                                   "OUTPUT_REPORT": str(tmp_path / "e2.html")})
    assert res2["ROC_AUC"] == pytest.approx(res["ROC_AUC"], abs=0.02)  # same points, same model


def test_table_features_and_bad_inputs(run_alg, tmp_path):
    from qgis.core import QgsProcessingException

    common = {"INPUT": str(YUKON / "02_Train_PCA.csv"), "LABEL_FIELD": "DEP", "METHOD": 4,
              "OUTPUT_MODEL": str(tmp_path / "lr.pt")}
    res = run_alg("geoml:trainprospectivity", {**common, "FEATURE_FIELDS": [f"PC{i}" for i in range(1, 8)]})
    assert res["CV_ROC_AUC"] > 0.75
    res = run_alg("geoml:predictprospectivity", {"MODEL": res["OUTPUT_MODEL"], "INPUT": str(YUKON / "013_Random.csv"),
                                                 "OUTPUT": str(tmp_path / "bg.csv")})
    assert (tmp_path / "bg.csv").read_text().splitlines()[0].endswith("probability")
    with pytest.raises(QgsProcessingException, match="only one class"):
        run_alg("geoml:trainprospectivity", {**common, "LABEL_FIELD": "DEP",
                                             "INPUT": str(_one_class(tmp_path)), "FEATURE_FIELDS": ["PC1", "PC2"]})
    with pytest.raises(QgsProcessingException, match="stack's bands .* Missing: PC3"):
        stack = tmp_path / "s.tif"
        run_alg("geoml:buildfeaturestack", {"INPUTS": [str(GRIDS / "dem.tif"), str(GRIDS / "dist.tif")],
                                            "PCA_COMPONENTS": 2, "OUTPUT": str(stack)})
        run_alg("geoml:predictprospectivity", {"MODEL": str(tmp_path / "lr.pt"), "FEATURES": str(stack),
                                               "OUTPUT_PROBABILITY": str(tmp_path / "never.tif")})
    assert not (tmp_path / "never.tif").exists()


def _one_class(tmp_path):
    lines = (YUKON / "02_Train_PCA.csv").read_text().splitlines()
    path = tmp_path / "ones.csv"
    path.write_text("\n".join([lines[0]] + [ln for ln in lines[1:] if ln.startswith('"1"')]) + "\n")
    return path


def test_vae_ensemble_writes_uncertainty_rasters(run_alg, occurrences, tmp_path):
    stack = tmp_path / "stack.tif"
    run_alg("geoml:buildfeaturestack", {"INPUTS": [str(GRIDS / f"{n}.tif") for n in ("dem", "dist", "twi")],
                                        "OUTPUT": str(stack)})
    run_alg("geoml:trainprospectivity", {
        "INPUT": str(occurrences), "LABEL_FIELD": "dep", "FEATURES": str(stack), "METHOD": 5, "MEMBERS": 3,
        "EPOCHS": 10, "UNLABELLED": 300, "FOLDS": 3, "OUTPUT_MODEL": str(tmp_path / "e.pt")})
    outs = {k: str(tmp_path / f"{k}.tif") for k in ("OUTPUT_PROBABILITY", "OUTPUT_ALEATORIC", "OUTPUT_EPISTEMIC", "OUTPUT_TOTAL")}
    run_alg("geoml:predictprospectivity", {"MODEL": str(tmp_path / "e.pt"), "FEATURES": str(stack), **outs})
    a = {k: gdal.Open(v).ReadAsArray() for k, v in outs.items()}
    ok = a["OUTPUT_PROBABILITY"] != -9999
    total = np.sqrt(a["OUTPUT_ALEATORIC"][ok] ** 2 + a["OUTPUT_EPISTEMIC"][ok] ** 2)
    assert np.allclose(a["OUTPUT_TOTAL"][ok], total, atol=1e-5) and a["OUTPUT_EPISTEMIC"][ok].max() > 0
    res = run_alg("geoml:rankdrilltargets", {
        "PROBABILITY": outs["OUTPUT_PROBABILITY"], "UNCERTAINTY": outs["OUTPUT_TOTAL"], "COST": 1, "VALUE": 3,
        "CONFIDENCE": 0.9, "N_TARGETS": 5, "MIN_SPACING": 200, "OUTPUT_TARGETS": str(tmp_path / "t.gpkg"),
        "OUTPUT_CATEGORIES": str(tmp_path / "cat.tif"), "OUTPUT_REPORT": str(tmp_path / "t.html")})
    from qgis.core import QgsVectorLayer

    t = QgsVectorLayer(res["OUTPUT_TARGETS"], "t")
    ra = [f["risk_adjusted_return"] for f in t.getFeatures()]
    assert 1 <= len(ra) <= 5 and ra == sorted(ra, reverse=True)
    assert set(np.unique(gdal.Open(res["OUTPUT_CATEGORIES"]).ReadAsArray())) <= {0, 1, 2, 3, 4}
    res = run_alg("geoml:suggestsamples", {"MODEL": str(tmp_path / "e.pt"), "FEATURES": str(stack), "N_TARGETS": 4,
                                           "MIN_SPACING": 300, "OUTPUT": str(tmp_path / "s.gpkg")})
    s = QgsVectorLayer(res["OUTPUT"], "s")
    assert s.featureCount() == 4 and "epistemic" in s.fields().names()


def test_core_argument_errors_name_the_parameters(run_alg, occurrences, tmp_path):
    """Core names its own arguments (background, stack_path); the wrapper says BACKGROUND, FEATURES."""
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match=r"Background non-deposits \(BACKGROUND\) can only be drawn "
                                                     r"from a feature stack \(FEATURES\)"):
        run_alg("geoml:trainprospectivity", {"INPUT": str(occurrences), "LABEL_FIELD": "dep",
                                             "FEATURE_FIELDS": ["zinc"], "BACKGROUND": 50,
                                             "METHOD": METHODS.index("random_forest"), "OUTPUT_MODEL": str(tmp_path / "m.pt")})
    assert not (tmp_path / "m.pt").exists()
