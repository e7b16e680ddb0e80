"""Weights of evidence and fuzzy logic through Processing on the Meuse data (real): zinc >= 500 ppm
sites stand for 'deposits'; evidence: distance to the river (ascending), flood frequency and soil
classes (categorical). Fuzzy memberships against QGIS's own native:fuzzifyraster* algorithms. The
demo step 47_wofe_fuzzy.py runs the same algorithms headless through qgis_process."""
from __future__ import annotations

import csv

import numpy as np
import pytest
from osgeo import gdal

from geoml_qgis.core.io import read_points, write_points

from .conftest import SAMPLE

GRIDS = SAMPLE / "meuse" / "grids"


@pytest.fixture(scope="module")
def zinc_sites(tmp_path_factory):
    pts = read_points(SAMPLE / "meuse" / "meuse.gpkg")
    keep = pts.attributes["zinc"].to_numpy() >= 500
    pts.x, pts.y, pts.attributes = pts.x[keep], pts.y[keep], pts.attributes[keep].reset_index(drop=True)
    path = tmp_path_factory.mktemp("wofe") / "zinc500.gpkg"
    write_points(path, pts, columns=["zinc"])
    return path


@pytest.fixture(scope="module")
def labelled_sites(tmp_path_factory):
    pts = read_points(SAMPLE / "meuse" / "meuse.gpkg")
    pts.attributes = pts.attributes.assign(dep=(pts.attributes["zinc"] >= 500).astype(int))
    path = tmp_path_factory.mktemp("wofe") / "labelled.gpkg"
    write_points(path, pts, columns=["zinc", "dep"])
    return path


def _params(zinc_sites, tmp_path):
    return {"EVIDENCE": [str(GRIDS / "dist.tif"), str(GRIDS / "ffreq.tif"), str(GRIDS / "soil.tif")],
            "EVIDENCE_TYPES": "ascending, categorical, categorical", "DEPOSITS": str(zinc_sites),
            "UNIT_CELL_AREA": 0.0009, "OUTPUT_POSTERIOR": str(tmp_path / "post.tif"),
            "OUTPUT_SD": str(tmp_path / "sd.tif"), "OUTPUT_WEIGHTS": str(tmp_path / "w.csv"),
            "OUTPUT_REPORT": str(tmp_path / "r.html"), "OUTPUT_MODEL": str(tmp_path / "m.json"),
            "OUTPUT_EXPLANATIONS": str(tmp_path / "e.csv")}


def test_weights_of_evidence_meuse(run_alg, zinc_sites, tmp_path):
    from qgis.core import QgsProcessingException, QgsRasterLayer

    res = run_alg("geoml:weightsofevidence", _params(zinc_sites, tmp_path))
    for key in ("OUTPUT_POSTERIOR", "OUTPUT_SD"):
        lyr = QgsRasterLayer(res[key], key)
        assert lyr.isValid() and lyr.renderer().type() == "singlebandpseudocolor"
    rows = [r for r in csv.DictReader(open(res["OUTPUT_WEIGHTS"])) if r["role"] == "weight"]
    ff = {r["class"]: float(r["weight"]) for r in rows if r["layer"] == "ffreq"}
    assert ff["1"] > 0 > ff["2"] > ff["3"]  # zinc-rich soils are flooded every year
    near = next(r for r in rows if r["layer"] == "dist" and r["class"].startswith("v <="))
    assert float(near["weight"]) > 0 and float(near["deposits"]) >= 50
    p = gdal.Open(res["OUTPUT_POSTERIOR"]).ReadAsArray()
    d = gdal.Open(str(GRIDS / "dist.tif")).ReadAsArray()
    ok = (p >= 0) & (d >= 0)
    assert np.corrcoef(p[ok], d[ok])[0, 1] < -0.3  # posterior falls away from the river
    # the three layers all follow the river: the Agterberg-Cheng test must flag it
    html = (tmp_path / "r.html").read_text()
    assert res["CI_RATIO"] < 0.85 and "Agterberg-Cheng" in html and "Permutation importance" in html
    imp = [r for r in csv.DictReader(open(res["OUTPUT_EXPLANATIONS"])) if r["kind"] == "importance"]
    assert {r["feature"] for r in imp} == {"dist", "ffreq", "soil"} and float(imp[0]["importance_mean"]) > 0
    again = run_alg("geoml:predictweightsofevidence", {"MODEL": str(tmp_path / "m.json"), "EVIDENCE": _params(
        zinc_sites, tmp_path)["EVIDENCE"], "OUTPUT_POSTERIOR": str(tmp_path / "p2.tif")})
    assert np.array_equal(gdal.Open(again["OUTPUT_POSTERIOR"]).ReadAsArray(), p)  # the saved weights give the same map
    one = tmp_path / "one.gpkg"
    pts = read_points(zinc_sites)
    pts.x, pts.y, pts.attributes = pts.x[:1], pts.y[:1], pts.attributes[:1]
    write_points(one, pts)
    with pytest.raises(QgsProcessingException, match="at least two"):
        run_alg("geoml:weightsofevidence", {**_params(one, tmp_path), "OUTPUT_POSTERIOR": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


NATIVE = [  # (QGIS algorithm, its parameters, GeoML function, GeoML parameters) on dist.tif (0-1)
    ("linearmembership", {"FUZZYLOWBOUND": 0.6, "FUZZYHIGHBOUND": 0.05}, "linear", {"LOW": 0.6, "HIGH": 0.05}),
    ("powermembership", {"FUZZYLOWBOUND": 0.05, "FUZZYHIGHBOUND": 0.7, "FUZZYEXPONENT": 1.7}, "power",
     {"LOW": 0.05, "HIGH": 0.7, "EXPONENT": 1.7}),
    ("smallmembership", {"FUZZYMIDPOINT": 0.2, "FUZZYSPREAD": 4}, "small", {"MIDPOINT": 0.2, "SPREAD": 4}),
    ("largemembership", {"FUZZYMIDPOINT": 0.3, "FUZZYSPREAD": 3}, "large", {"MIDPOINT": 0.3, "SPREAD": 3}),
    ("gaussianmembership", {"FUZZYMIDPOINT": 0.25, "FUZZYSPREAD": 20}, "gaussian", {"MIDPOINT": 0.25, "SPREAD": 20}),
    ("nearmembership", {"FUZZYMIDPOINT": 0.25, "FUZZYSPREAD": 30}, "near", {"MIDPOINT": 0.25, "SPREAD": 30}),
]


def _band(path):
    ds = gdal.Open(str(path))
    b = ds.GetRasterBand(1)
    a = b.ReadAsArray().astype(float)
    nd = b.GetNoDataValue()
    return np.where(a == nd, np.nan, a) if nd is not None else a


def test_fuzzy_memberships_equal_qgis_fuzzify(run_alg, tmp_path):
    from geoml_qgis.algorithms.prospectivity.fuzzy_membership import FUNCTIONS

    src = str(GRIDS / "dist.tif")
    for native, nparams, fn, gparams in NATIVE:
        ref = run_alg(f"native:fuzzifyraster{native}", {"INPUT": src, "BAND": 1, **nparams,
                                                         "OUTPUT": str(tmp_path / f"q_{fn}.tif")})["OUTPUT"]
        ours = run_alg("geoml:fuzzymembership", {"INPUT": src, "BAND": 1, "FUNCTION": FUNCTIONS.index(fn), **gparams,
                                                 "OUTPUT": str(tmp_path / f"g_{fn}.tif")})["OUTPUT"]
        q, g = _band(ref), _band(ours)
        assert np.array_equal(np.isnan(q), np.isnan(g)), fn
        ok = np.isfinite(q)
        assert ok.sum() > 3000 and np.allclose(g[ok], q[ok], atol=1e-6), fn


def test_fuzzy_categorical_overlay_evaluate(run_alg, labelled_sites, tmp_path):
    from qgis.core import QgsProcessingException, QgsRasterLayer

    near = run_alg("geoml:fuzzymembership", {"INPUT": str(GRIDS / "dist.tif"), "FUNCTION": 0, "LOW": 0.5, "HIGH": 0.0,
                                             "OUTPUT": str(tmp_path / "near.tif")})["OUTPUT"]
    flood = run_alg("geoml:fuzzymembership", {"INPUT": str(GRIDS / "ffreq.tif"), "FUNCTION": 6,
                                              "CLASS_MEMBERSHIPS": "1: 0.9, 2: 0.5, 3: 0.2",
                                              "OUTPUT": str(tmp_path / "flood.tif")})["OUTPUT"]
    f, m = _band(GRIDS / "ffreq.tif"), _band(flood)
    assert np.allclose(m[f == 1], 0.9) and np.allclose(m[f == 3], 0.2)
    res = run_alg("geoml:fuzzyoverlay", {"INPUTS": [near, flood], "OPERATOR": 0, "GAMMA": 0.9,
                                         "OUTPUT": str(tmp_path / "gamma.tif")})
    lyr = QgsRasterLayer(res["OUTPUT"], "g")
    assert lyr.isValid() and lyr.renderer().type() == "singlebandpseudocolor"
    n, fl, o = _band(near), m, _band(res["OUTPUT"])
    ok = np.isfinite(o)
    s = 1 - (1 - n[ok]) * (1 - fl[ok])
    assert np.allclose(o[ok], s ** 0.9 * (n[ok] * fl[ok]) ** 0.1, atol=1e-5)
    ev = run_alg("geoml:evaluateprospectivity", {"PROBABILITY": res["OUTPUT"], "VALIDATION": str(labelled_sites),
                                                 "LABEL_FIELD": "dep", "OUTPUT_REPORT": str(tmp_path / "e.html")})
    assert ev["ROC_AUC"] > 0.75  # near the river and often flooded: where the zinc-rich soils are
    with pytest.raises(QgsProcessingException, match="not a fuzzy membership"):
        run_alg("geoml:fuzzyoverlay", {"INPUTS": [str(GRIDS / "dem.tif")], "OUTPUT": str(tmp_path / "x.tif")})


def test_fuzzy_workflow_model(run_alg, labelled_sites, tmp_path):
    res = run_alg("geoml:Fuzzy membership to overlay to evaluation", {
        "continuous": str(GRIDS / "dist.tif"), "low": 0.5, "high": 0.0, "categorical": str(GRIDS / "ffreq.tif"),
        "class_memberships": "1: 0.9, 2: 0.5, 3: 0.2", "gamma": 0.9, "validation": str(labelled_sites),
        "label_field": "dep", "overlay:Fuzzy overlay": str(tmp_path / "gamma.tif"),
        "evaluate:Evaluation report": str(tmp_path / "e.html"), "evaluate:Evaluation figures": str(tmp_path / "e.csv")})
    o = _band(res["overlay:Fuzzy overlay"])
    assert np.nanmin(o) >= 0 and np.nanmax(o) <= 1 and "ROC AUC" in (tmp_path / "e.html").read_text()
    figures = dict(r for r in csv.reader(open(res["evaluate:Evaluation figures"])) if len(r) == 2)
    assert float(figures["roc_auc"]) > 0.75  # the same map as the step-by-step run above


def test_weights_of_evidence_tables_yukon(run_alg, tmp_path):
    from qgis.core import QgsVectorLayer

    yukon = SAMPLE / "yukon_porphyry"
    res = run_alg("geoml:weightsofevidencetable", {
        "INPUT": str(yukon / "02_Train_PCA.csv"), "LABEL_FIELD": "DEP", "FEATURE_FIELDS": [f"PC{i}" for i in range(1, 8)],
        "AREA_SAMPLE": str(yukon / "013_Random.csv"), "EVIDENCE_TYPES": "ordered", "FOLDS": 3,
        "OUTPUT": str(tmp_path / "scored.csv"), "OUTPUT_WEIGHTS": str(tmp_path / "w.csv"),
        "OUTPUT_REPORT": str(tmp_path / "r.html")})
    assert 0.7 < res["CV_ROC_AUC"] < 0.9
    rows = list(QgsVectorLayer(res["OUTPUT"], "s").getFeatures())
    assert len(rows) == 313 and all(0 < float(f["posterior"]) < 1 for f in rows)
    assert sum(r["role"] == "weight" for r in csv.DictReader(open(tmp_path / "w.csv"))) == 14  # 7 PCs x 2 classes
