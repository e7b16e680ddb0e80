"""Graphical-modeler chains, one per capability, built in code with the helpers that write the shipped
workflows (scripts/modeler.py): a declared layer or file output of one GeoML algorithm feeds the next,
and the model's results are compared with the same algorithms run one after the other (and with known
answers). Prospectivity's chains are the shipped workflows, run in test_models.py (kriging to drill
targets) and test_prospectivity_classics_algs.py (fuzzy membership to overlay to evaluation)."""
from __future__ import annotations

import json
import sys

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal

from .conftest import ROOT, SAMPLE

MEUSE = SAMPLE / "meuse" / "meuse.gpkg"
GRIDS = SAMPLE / "meuse" / "grids"
BOREHOLES = SAMPLE / "boreholes"
ELEMENTS = ["Cu_ppm", "Zn_ppm", "Pb_ppm", "As_ppm", "Au_ppb", "Ag_ppm", "Fe_pct", "S_pct"]


@pytest.fixture
def modeler(geoml_provider):
    """scripts/modeler.py (model-building helpers shared with scripts/make_models.py)."""
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    import modeler

    return modeler


@pytest.fixture
def run_model(run_alg):
    """Run a QgsProcessingModelAlgorithm; returns its results with ``CHILD_RESULTS`` (each child's own
    results dictionary, where QGIS keeps them) checked to hold declared outputs only."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingException, QgsProject

    from .conftest import check_declared, recording_feedback

    def _run(model, params):
        context, feedback = QgsProcessingContext(), recording_feedback()
        context.setProject(QgsProject.instance())
        try:
            results = processing.run(model, params, feedback=feedback, context=context)
        except QgsProcessingException as exc:
            raise AssertionError(f"{exc}: {' / '.join(feedback.errors)}") from exc
        for child_id, child_results in results.get("CHILD_RESULTS", {}).items():
            check_declared(model.childAlgorithm(child_id).algorithmId(), child_results)
        return results

    return _run


def output_key(model, name: str) -> str:
    """The model parameter (and result key) of model output *name*: ``child:name`` on QGIS 3.22,
    a safe lower-case name such as ``variogram`` on 3.40 and later."""
    return next(p.name() for p in model.destinationParameterDefinitions() if p.description() == name)


def _new_model(name: str):
    from qgis.core import QgsProcessingModelAlgorithm

    return QgsProcessingModelAlgorithm(name, "Tests", "tests")


def test_geostats_fitted_variogram_feeds_cross_validation(modeler, run_model, run_alg, tmp_path):
    """fitvariogram's OUTPUT_MODEL (JSON) is krigingcrossvalidation's VARIOGRAM_FILE."""
    m = _new_model("variogram to cross-validation")
    modeler.step(m, "fit", "geoml:fitvariogram", "Fit variogram",
                 {"INPUT": str(MEUSE), "FIELD": "copper", "VARIOGRAM_MODEL": 1,
                  "OUTPUT_MODEL": modeler.TEMPORARY, "OUTPUT_REPORT": modeler.TEMPORARY},
                 {"OUTPUT_MODEL": "Variogram"}, 100)
    modeler.step(m, "cv", "geoml:krigingcrossvalidation", "Cross-validation",
                 {"INPUT": str(MEUSE), "FIELD": "copper", "VARIOGRAM_FILE": modeler.child_output("fit", "OUTPUT_MODEL"),
                  "NEIGHBOURS": 16, "METHOD": 0, "OUTPUT": modeler.TEMPORARY, "OUTPUT_REPORT": modeler.TEMPORARY,
                  "OUTPUT_CSV": modeler.TEMPORARY},
                 {"OUTPUT_CSV": "Cross-validation table"}, 300)
    res = run_model(m, {output_key(m, "Variogram"): str(tmp_path / "vg.json"),
                        output_key(m, "Cross-validation table"): str(tmp_path / "cv.csv")})
    vg = json.loads((tmp_path / "vg.json").read_text())
    assert vg["kind"] == "spherical" and vg["range"] > 0
    # the same two algorithms run by hand from the same variogram file give the same figures
    by_hand = run_alg("geoml:krigingcrossvalidation", {
        "INPUT": str(MEUSE), "FIELD": "copper", "VARIOGRAM_FILE": str(tmp_path / "vg.json"), "NEIGHBOURS": 16,
        "METHOD": 0, "OUTPUT": str(tmp_path / "cv.gpkg"), "OUTPUT_REPORT": str(tmp_path / "cv.html")})
    table = pd.read_csv(res[output_key(m, "Cross-validation table")])
    rmse = float(np.sqrt(np.mean(table["error"] ** 2)))
    assert rmse == pytest.approx(by_hand["RMSE"], rel=1e-9)
    assert rmse < 0.8 * table["observed"].std()  # kriging beats the mean of the data on held-out copper
    assert res["CHILD_RESULTS"]["cv"]["RMSE"] == pytest.approx(rmse, rel=1e-9)  # the declared figure


def test_borehole_log_ratios_feed_kriging(modeler, run_model, tmp_path):
    """logratiotransform's OUTPUT layer (isometric log-ratio balances of the Meuse metals, real data) is
    krigingcrossvalidation's INPUT: balances, not raw parts, are what compositional geostatistics krige."""
    from scipy.stats import gmean

    from geoml_qgis.core.borehole.compositional import LOG_RATIOS
    from geoml_qgis.core.io import read_points

    parts = ["cadmium", "copper", "lead", "zinc"]
    m = _new_model("log-ratios to kriging")
    modeler.step(m, "ilr", "geoml:logratiotransform", "Isometric log-ratios", {
        "INPUT": str(MEUSE), "FIELDS": parts, "LOG_RATIO": LOG_RATIOS.index("ilr"), "OUTPUT": modeler.TEMPORARY},
        {}, 100)
    modeler.step(m, "cv", "geoml:krigingcrossvalidation", "Cross-validation of the last balance", {
        "INPUT": modeler.child_output("ilr", "OUTPUT"), "FIELD": "ilr_3", "VARIOGRAM_MODEL": 1, "NEIGHBOURS": 16,
        "METHOD": 0, "OUTPUT": modeler.TEMPORARY, "OUTPUT_REPORT": modeler.TEMPORARY, "OUTPUT_CSV": modeler.TEMPORARY},
        {"OUTPUT_CSV": "Cross-validation table"}, 300)
    res = run_model(m, {output_key(m, "Cross-validation table"): str(tmp_path / "cv.csv")})
    table = pd.read_csv(res[output_key(m, "Cross-validation table")])
    pts = read_points(MEUSE)
    x = pts.attributes[parts].to_numpy(float)
    balance = np.sqrt(3 / 4) * np.log(gmean(x[:, :3], axis=1) / x[:, 3])  # the last ilr balance, analytically
    assert len(table) == len(balance) == 155
    assert np.allclose(np.sort(table["observed"]), np.sort(balance))
    rmse = res["CHILD_RESULTS"]["cv"]["RMSE"]
    assert rmse == pytest.approx(np.sqrt(np.mean(table["error"] ** 2))) and rmse < table["observed"].std()


def test_hybrid_trained_model_feeds_prediction(modeler, run_model, tmp_path):
    """trainhybridpredictor's OUTPUT_MODEL is predicthybrid's MODEL, on the Meuse zinc (real data)."""
    pytest.importorskip("torch")
    covs = [str(GRIDS / "dist.tif"), str(GRIDS / "dem.tif")]
    m = _new_model("hybrid train to predict")
    modeler.step(m, "train", "geoml:trainhybridpredictor", "Train", {
        "INPUT": str(MEUSE), "FIELD": "zinc", "COVARIATES": covs, "NEIGHBOURS": 8, "TRANSFORM": 1, "EPOCHS": 8,
        "MEMBERS": 1, "FOLDS": 3, "LOSS": 1, "OUTPUT_MODEL": modeler.TEMPORARY, "OUTPUT_REPORT": modeler.TEMPORARY},
        {}, 100)
    modeler.step(m, "predict", "geoml:predicthybrid", "Predict", {
        "MODEL": modeler.child_output("train", "OUTPUT_MODEL"), "INPUT": str(MEUSE), "COVARIATES": covs,
        "REFERENCE": str(GRIDS / "dist.tif"), "OUTPUT_PREDICTION": modeler.TEMPORARY,
        "OUTPUT_UNCERTAINTY": modeler.TEMPORARY}, {"OUTPUT_PREDICTION": "Zinc"}, 300)
    res = run_model(m, {output_key(m, "Zinc"): str(tmp_path / "zinc.tif")})
    train = res["CHILD_RESULTS"]["train"]
    assert 0.2 < train["KRIGING_RMSE"] < 1.0 and train["HYBRID_RMSE"] > 0  # log-scale RMSE of held-out zinc
    ds, ref = gdal.Open(res[output_key(m, "Zinc")]), gdal.Open(str(GRIDS / "dist.tif"))
    assert ds.GetGeoTransform() == ref.GetGeoTransform()
    band = ds.GetRasterBand(1)
    pred = np.ma.masked_equal(band.ReadAsArray(), band.GetNoDataValue())
    assert 80 < pred.min() and pred.max() < 2500 and pred.count() > 3000  # zinc, ppm, over the whole floodplain
    from geoml_qgis.core.io import read_points

    pts = read_points(MEUSE)
    gt = ds.GetGeoTransform()
    at = pred[((pts.y - gt[3]) / gt[5]).astype(int), ((pts.x - gt[0]) / gt[1]).astype(int)]
    zinc = pts.attributes["zinc"].to_numpy(float)
    ok = ~np.ma.getmaskarray(at)
    assert np.corrcoef(np.log(at[ok]), np.log(zinc[ok]))[0, 1] > 0.6  # the map follows the samples


def _frame(path) -> pd.DataFrame:
    from osgeo import ogr

    ds = ogr.Open(str(path))
    lyr = ds.GetLayer(0)
    defn = lyr.GetLayerDefn()
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    return pd.DataFrame([[f.GetField(i) for i in range(len(names))] for f in lyr], columns=names)


def test_hyperspectral_trained_classifier_feeds_classification(modeler, run_model, run_alg, tmp_path):
    """trainspectralclassifier's OUTPUT_MODEL is classifyhyperspectral's MODEL, on the bundled SYNTHETIC
    scene (USGS splib07 spectra, known truth): a short training, so the check is the chain itself (the
    model's map equals the by-hand classification with the same model file) and a map better than chance."""
    pytest.importorskip("torch")
    hs = SAMPLE / "hyperspectral"
    cube = str(hs / "synthetic_swir_cube.bil")
    m = _new_model("spectral training to classification")
    modeler.step(m, "train", "geoml:trainspectralclassifier", "Train", {
        "LIBRARY": str(hs / "usgs_scene_minerals.sli"), "TARGET_CUBE": cube, "EPOCHS": 5,
        "OUTPUT_MODEL": modeler.TEMPORARY}, {"OUTPUT_MODEL": "Model"}, 100)
    modeler.step(m, "classify", "geoml:classifyhyperspectral", "Classify", {
        "INPUT": cube, "MODEL": modeler.child_output("train", "OUTPUT_MODEL"), "MIN_CONFIDENCE": 0.0,
        "OUTPUT_CLASSES": modeler.TEMPORARY, "OUTPUT_CONFIDENCE": modeler.TEMPORARY},
        {"OUTPUT_CLASSES": "Classes"}, 300)
    res = run_model(m, {output_key(m, "Model"): str(tmp_path / "cnn.pt"), output_key(m, "Classes"): str(tmp_path / "classes.tif")})
    by_hand = run_alg("geoml:classifyhyperspectral", {
        "INPUT": cube, "MODEL": str(tmp_path / "cnn.pt"), "MIN_CONFIDENCE": 0.0,
        "OUTPUT_CLASSES": str(tmp_path / "again.tif"), "OUTPUT_CONFIDENCE": str(tmp_path / "conf.tif")})
    classes = gdal.Open(res[output_key(m, "Classes")]).ReadAsArray()
    assert np.array_equal(classes, gdal.Open(by_hand["OUTPUT_CLASSES"]).ReadAsArray())
    truth_ds = gdal.Open(str(hs / "synthetic_swir_truth.tif"))
    truth = truth_ds.ReadAsArray()
    n_classes = len(truth_ds.GetMetadataItem("GEOML_CLASSES").split(","))
    valid = (truth > 0) & (truth < 255)
    assert np.mean(classes[valid] == truth[valid]) > 2 / n_classes  # well above chance after 5 epochs
