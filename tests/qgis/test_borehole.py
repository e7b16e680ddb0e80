"""Borehole clustering and the downhole sequence model through Processing.

Known answers come from the bundled SYNTHETIC borehole set (made by
``geoml_qgis.core.borehole.synthetic``, truth in ``synthetic_truth.csv``) and the real Meuse metals.
"""
from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest
from osgeo import ogr
from sklearn.metrics import adjusted_rand_score

from .conftest import SAMPLE

BOREHOLES = SAMPLE / "boreholes"
ELEMENTS = ["Cu_ppm", "Zn_ppm", "Pb_ppm", "As_ppm", "Au_ppb", "Ag_ppm", "Fe_pct", "S_pct"]
SHEETS = ["samples", "cluster_summary", "k_selection", "k_votes", "k_per_hole", "continuity", "cleaning", "notes"]


def _layer_frame(path):
    ds = ogr.Open(str(path))
    lyr = ds.GetLayer(0)
    defn = lyr.GetLayerDefn()
    names = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    rows = [[f.GetField(i) for i in range(len(names))] for f in lyr]
    return pd.DataFrame(rows, columns=names), lyr.GetGeomType(), lyr.GetSpatialRef()


def _layer_xyz(path) -> np.ndarray:
    ds = ogr.Open(str(path))  # kept alive while its features are read
    xyz = [[f.GetGeometryRef().GetX(), f.GetGeometryRef().GetY(), f.GetGeometryRef().GetZ()] for f in ds.GetLayer(0)]
    return np.array(xyz)


def _cluster_params(tmp_path, **extra):
    return {
        "INPUT": str(BOREHOLES / "synthetic_assays.csv"), "HOLE_FIELD": "hole", "FROM_FIELD": "from", "TO_FIELD": "to",
        "ELEMENT_FIELDS": ELEMENTS, "COLLARS": str(BOREHOLES / "synthetic_collars.csv"),
        "COLLAR_X_FIELD": "x", "COLLAR_Y_FIELD": "y", "COLLAR_Z_FIELD": "z", "AZIMUTH_FIELD": "azimuth",
        "DIP_FIELD": "dip", "TRANSFORM": 2, "N_CLUSTERS": 0, "K_MAX": 8, "CRS": "EPSG:28992",
        "OUTPUT": str(tmp_path / "clusters.gpkg"), "OUTPUT_WORKBOOK": str(tmp_path / "clusters.xlsx"),
        "OUTPUT_REPORT": str(tmp_path / "clusters.html"), **extra,
    }


def test_clustering_then_sequence_model_on_synthetic_holes(run_alg, tmp_path):
    from qgis.core import QgsVectorLayer

    res = run_alg("geoml:boreholeclustering", _cluster_params(tmp_path, OUTPUT_LOGS=str(tmp_path / "logs.pdf")))
    assert res["K_USED"] == 4  # the generator's four units
    pdf = (tmp_path / "logs.pdf").read_bytes()
    assert res["OUTPUT_LOGS"] and pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 12  # one page per hole
    df, gtype, srs = _layer_frame(res["OUTPUT"])
    assert gtype == ogr.wkbPoint25D and srs.GetAuthorityCode(None) == "28992"
    assert {"hole", "depth", "from", "to", "cluster", "pc1", "pc2", *ELEMENTS} <= set(df.columns)
    truth = pd.read_csv(BOREHOLES / "synthetic_truth.csv")
    joined = df.merge(truth, on=["hole", "from", "to"])
    assert len(joined) == len(df) > 800
    assert adjusted_rand_score(joined["unit"], joined["cluster"]) >= 0.9
    wb = openpyxl.load_workbook(res["OUTPUT_WORKBOOK"], read_only=True)
    assert wb.sheetnames == SHEETS
    sel = pd.read_excel(res["OUTPUT_WORKBOOK"], sheet_name="k_selection")
    assert list(sel["k"]) == list(range(1, 9)) and sel.loc[sel["chosen"], "k"].tolist() == [4]
    cleaning = pd.read_excel(res["OUTPUT_WORKBOOK"], sheet_name="cleaning").set_index("element")
    assert cleaning.loc["As_ppm", "negative_flag"] > 0 and cleaning.loc["Au_ppb", "flag_column"] > 0
    html = open(res["OUTPUT_REPORT"], encoding="utf-8").read()
    assert html.count("<img") >= 9 and "continuity" in html
    assert all(t in html for t in ("Strip logs", "Vertical section", "3D view", "chosen by"))
    from qgis._3d import Qgs3D

    Qgs3D.initialize()  # desktop QGIS does this; needed here to read 3D renderers back
    layer = QgsVectorLayer(res["OUTPUT"], "clusters", "ogr")
    assert layer.renderer().type() == "categorizedSymbol" and len(layer.renderer().categories()) == 4
    assert layer.renderer3D() is not None and layer.renderer3D().type() == "rulebased"

    seq = run_alg("geoml:boreholesequencemodel", {
        "INPUT": res["OUTPUT"], "HOLE_FIELD": "hole", "LABEL_FIELD": "cluster", "FEATURE_FIELDS": ELEMENTS,
        "DEPTH_FIELD": "depth", "CELL": 1, "SEQUENCE_LENGTH": 16, "EPOCHS": 6,
        "OUTPUT_MODEL": str(tmp_path / "seq.pt"), "OUTPUT": str(tmp_path / "pred.gpkg"),
        "OUTPUT_REPORT": str(tmp_path / "seq.html"),
    })
    assert seq["VALIDATION_ACCURACY"] >= 0.9
    pred, gtype, _ = _layer_frame(seq["OUTPUT"])
    assert gtype == ogr.wkbPoint25D and set(pred["split"]) == {"train", "validation"}
    val = pred[pred["split"] == "validation"]
    assert np.isclose((val["predicted"] == val["cluster"]).mean(), seq["VALIDATION_ACCURACY"])
    assert set(pred.loc[pred["split"] == "train", "hole"]).isdisjoint(val["hole"])

    # the trained model applied to the held-out holes alone, as new holes (a table without geometry)
    from qgis.core import QgsProcessingException

    new = df[df["hole"].isin(set(val["hole"]))].drop(columns=["cluster", "pc1", "pc2"])
    xyz = _layer_xyz(res["OUTPUT"])[new.index]
    new = new.assign(known=df.loc[new.index, "cluster"], X=xyz[:, 0], Y=xyz[:, 1], Z=xyz[:, 2])
    new.to_csv(tmp_path / "new_holes.csv", index=False)
    applied = run_alg("geoml:applysequencemodel", {
        "MODEL": str(tmp_path / "seq.pt"), "INPUT": str(tmp_path / "new_holes.csv"), "HOLE_FIELD": "hole",
        "DEPTH_FIELD": "depth", "LABEL_FIELD": "known", "X_FIELD": "X", "Y_FIELD": "Y", "Z_FIELD": "Z",
        "CRS": "EPSG:28992", "OUTPUT": str(tmp_path / "applied.gpkg"),
    })
    out, gtype, _ = _layer_frame(applied["OUTPUT"])
    assert np.allclose(np.sort(_layer_xyz(applied["OUTPUT"])[:, 2]), np.sort(xyz[:, 2]))
    assert gtype == ogr.wkbPoint25D and len(out) == len(val) and {"predicted", "probability"} <= set(out.columns)
    assert out["probability"].between(1 / 4, 1).all()
    # the same network on the same samples: the labels of the training run's validation holes
    merged = out.merge(val[["hole", "depth", "predicted"]], on=["hole", "depth"], suffixes=("", "_train"))
    assert len(merged) == len(out) and (merged["predicted"] == merged["predicted_train"]).all()
    assert np.isclose(applied["AGREEMENT"], seq["VALIDATION_ACCURACY"])
    layer = QgsVectorLayer(applied["OUTPUT"], "applied", "ogr")
    assert layer.renderer().type() == "categorizedSymbol" and layer.renderer3D() is not None
    new.drop(columns=["Zn_ppm"]).to_csv(tmp_path / "no_zn.csv", index=False)
    with pytest.raises(QgsProcessingException, match="lacks: Zn_ppm"):
        run_alg("geoml:applysequencemodel", {
            "MODEL": str(tmp_path / "seq.pt"), "INPUT": str(tmp_path / "no_zn.csv"), "HOLE_FIELD": "hole",
            "DEPTH_FIELD": "depth", "OUTPUT": str(tmp_path / "no_zn.gpkg")})
    assert not (tmp_path / "no_zn.gpkg").exists()

    # the clustering's cleaning options: a laboratory's 'IS' code and a negative value in two new samples
    coded = new.astype({"Zn_ppm": object}).reset_index(drop=True)
    coded.loc[0, "Zn_ppm"], coded.loc[1, "Cu_ppm"] = "IS", -0.5
    coded.to_csv(tmp_path / "coded.csv", index=False)
    params = {"MODEL": str(tmp_path / "seq.pt"), "INPUT": str(tmp_path / "coded.csv"), "HOLE_FIELD": "hole",
              "DEPTH_FIELD": "depth", "OUTPUT": str(tmp_path / "coded.gpkg")}
    with pytest.raises(QgsProcessingException, match="add it to the missing-value codes"):
        run_alg("geoml:applysequencemodel", params)  # default codes: 'IS' is unknown text
    with pytest.raises(QgsProcessingException, match="holds negative values"):
        run_alg("geoml:applysequencemodel", {**params, "MISSING_VALUES": "-9999, IS", "NEGATIVE_VALUES": 2})
    kept = run_alg("geoml:applysequencemodel", {**params, "MISSING_VALUES": "IS", "NEGATIVE_VALUES": 1})
    assert len(_layer_frame(kept["OUTPUT"])[0]) == len(coded) - 2  # both samples missing a value, dropped
    flagged = run_alg("geoml:applysequencemodel", {**params, "MISSING_VALUES": "IS",
                                                   "OUTPUT": str(tmp_path / "flagged.gpkg")})
    assert len(_layer_frame(flagged["OUTPUT"])[0]) == len(coded) - 1  # -0.5 read as below 0.5 (the default)


def test_sequence_model_algorithms_clean_assays_as_the_clustering_does(geoml_provider):
    """MISSING_VALUES and NEGATIVE_VALUES: same ids, types, options and defaults in all three algorithms."""
    algs = [geoml_provider.algorithm(n) for n in ("boreholeclustering", "boreholesequencemodel", "applysequencemodel")]
    for name in ("MISSING_VALUES", "NEGATIVE_VALUES"):
        defs = [a.parameterDefinition(name) for a in algs]
        assert all(d is not None for d in defs), name
        assert len({(d.type(), str(d.defaultValue()), d.description()) for d in defs}) == 1, name
    assert {tuple(a.parameterDefinition("NEGATIVE_VALUES").options()) for a in algs} == {
        ("below-detection flags: -0.01 = below 0.01", "missing", "an error")}
    assert algs[0].parameterDefinition("MISSING_VALUES").defaultValue() == "-9999, -999, -99"


def test_clustering_real_meuse_metals_end_to_end(run_alg, tmp_path):
    res = run_alg("geoml:boreholeclustering", {
        "INPUT": str(SAMPLE / "meuse" / "meuse.gpkg"), "ELEMENT_FIELDS": ["cadmium", "copper", "lead", "zinc"],
        "Z_FIELD": "elev", "TRANSFORM": 1, "N_CLUSTERS": 0, "K_MAX": 6,
        "OUTPUT": str(tmp_path / "meuse.gpkg"), "OUTPUT_WORKBOOK": str(tmp_path / "meuse.xlsx"),
        "OUTPUT_REPORT": str(tmp_path / "meuse.html"),
    })
    assert 2 <= res["K_USED"] <= 6
    df, gtype, srs = _layer_frame(res["OUTPUT"])
    assert len(df) == 155 and gtype == ogr.wkbPoint25D and srs.GetAuthorityCode(None) == "28992"
    assert {"cluster", "cadmium", "zinc", "pc1"} <= set(df.columns)
    assert set(df["cluster"]) == set(range(1, res["K_USED"] + 1))
    assert openpyxl.load_workbook(res["OUTPUT_WORKBOOK"], read_only=True).sheetnames == SHEETS
    continuity = pd.read_excel(res["OUTPUT_WORKBOOK"], sheet_name="continuity")
    assert set(continuity["direction"]) == {"3d"}  # surface samples: no downhole curves
    probs = continuity.filter(like="p_").dropna()
    assert np.allclose(probs.sum(axis=1), 1.0)


def test_separation_choice_of_k_on_real_meuse_metals(run_alg, tmp_path):
    res = run_alg("geoml:boreholeclustering", {
        "INPUT": str(SAMPLE / "meuse" / "meuse.gpkg"), "ELEMENT_FIELDS": ["cadmium", "copper", "lead", "zinc"],
        "Z_FIELD": "elev", "TRANSFORM": 2, "N_CLUSTERS": 0, "K_MAX": 6, "K_METHOD": 3,
        "OUTPUT": str(tmp_path / "meuse.gpkg"), "OUTPUT_WORKBOOK": str(tmp_path / "meuse.xlsx"),
        "OUTPUT_REPORT": str(tmp_path / "meuse.html"),
    })
    sel = pd.read_excel(res["OUTPUT_WORKBOOK"], sheet_name="k_selection")
    assert {"separation", "mixing", "smallest_share", "passes"} <= set(sel.columns)
    assert sel.loc[sel["chosen"], "k"].tolist() == [res["K_USED"]] and 2 <= res["K_USED"] <= 6
    passing = sel.loc[sel["passes"], "k"]
    assert res["K_USED"] == passing.max() or (passing.max() == 1 and res["K_USED"] >= 2)
    assert "chosen by separation" in open(res["OUTPUT_REPORT"], encoding="utf-8").read()


def test_bad_input_messages_reach_the_user(run_alg, tmp_path):
    from qgis.core import QgsProcessingException

    bad = pd.read_csv(BOREHOLES / "synthetic_assays.csv")
    bad.loc[5, "Cu_ppm"] = "see note"
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(QgsProcessingException, match=r"Cu_ppm.*'see note' in row 6"):
        run_alg("geoml:boreholeclustering", _cluster_params(tmp_path, INPUT=str(path)))
    assert not (tmp_path / "clusters.gpkg").exists() and not (tmp_path / "clusters.xlsx").exists()
    one = pd.read_csv(BOREHOLES / "synthetic_assays.csv").query("hole == 'DH001'")
    one.to_csv(tmp_path / "one.csv", index=False)
    res = run_alg("geoml:boreholeclustering", _cluster_params(tmp_path, INPUT=str(tmp_path / "one.csv")))
    with pytest.raises(QgsProcessingException, match="at least two holes"):
        run_alg("geoml:boreholesequencemodel", {
            "INPUT": res["OUTPUT"], "HOLE_FIELD": "hole", "FEATURE_FIELDS": ELEMENTS, "DEPTH_FIELD": "depth",
            "EPOCHS": 1, "OUTPUT_MODEL": str(tmp_path / "m.pt"), "OUTPUT": str(tmp_path / "p.gpkg"),
            "OUTPUT_REPORT": str(tmp_path / "r.html"),
        })
    assert not (tmp_path / "m.pt").exists()


def test_clustering_headless_through_qgis_process(qgis_process, tmp_path):
    out = qgis_process("geoml:boreholeclustering", _cluster_params(tmp_path, N_CLUSTERS=4, K_MAX=5))
    assert out["results"]["K_USED"] == 4
    df, gtype, _ = _layer_frame(out["results"]["OUTPUT"])
    assert gtype == ogr.wkbPoint25D and set(df["cluster"]) == {1, 2, 3, 4}


def test_desurvey_holes_writes_3d_traces_along_the_survey(run_alg, tmp_path):
    from qgis.core import QgsProcessingException

    rate = np.radians(3.0) / 30.0
    st = np.arange(0.0, 151.0, 30.0)
    pd.DataFrame({"HOLEID": ["A", "B"], "EAST": [1000.0, 1200.0], "NORTH": [2000.0, 2000.0], "RL": [300.0, 310.0],
                  "AZI": [0.0, 45.0], "DIP": [-90.0, -60.0], "DEPTH": [150.0, 100.0]}).to_csv(tmp_path / "collar.csv", index=False)
    survey = pd.DataFrame({"HOLEID": "A", "AT": st, "AZ": 90.0, "INCL": -(90.0 - np.degrees(rate * st))})
    survey.to_csv(tmp_path / "survey.csv", index=False)
    params = {"COLLARS": str(tmp_path / "collar.csv"), "COLLAR_HOLE_FIELD": "HOLEID", "COLLAR_X_FIELD": "EAST",
              "COLLAR_Y_FIELD": "NORTH", "COLLAR_Z_FIELD": "RL", "AZIMUTH_FIELD": "AZI", "DIP_FIELD": "DIP",
              "LENGTH_FIELD": "DEPTH", "SURVEY": str(tmp_path / "survey.csv"), "SURVEY_HOLE_FIELD": "HOLEID",
              "SURVEY_DEPTH_FIELD": "AT", "SURVEY_AZIMUTH_FIELD": "AZ", "SURVEY_DIP_FIELD": "INCL", "STEP": 10.0,
              "CRS": "EPSG:28992", "OUTPUT": str(tmp_path / "traces.gpkg")}
    res = run_alg("geoml:desurveyholes", params)
    assert res["N_HOLES"] == 2
    ds = ogr.Open(res["OUTPUT"])
    lyr = ds.GetLayer(0)
    assert lyr.GetGeomType() == ogr.wkbLineString25D and lyr.GetSpatialRef().GetAuthorityCode(None) == "28992"
    traces = {f.GetField("hole"): (np.array(f.GetGeometryRef().GetPoints()), f.GetField("length")) for f in lyr}
    a, length = traces["A"]
    s = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(a, axis=0), axis=1))])
    arc = np.column_stack([1000 + (1 - np.cos(rate * s)) / rate, np.full(len(s), 2000.0), 300 - np.sin(rate * s) / rate])
    assert length == 150.0 and len(a) == 16 and np.abs(a - arc).max() < 0.01
    b, length_b = traces["B"]  # no survey rows: straight along the collar's azimuth and dip, to its length
    assert length_b == 100.0 and np.allclose(b[-1], [1200 + 50 * np.sin(np.pi / 4), 2000 + 50 * np.cos(np.pi / 4),
                                                     310 - 100 * np.sin(np.pi / 3)])
    survey.assign(AZ=[90.0, 90.0, 400.0, 90.0, 90.0, 90.0]).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(QgsProcessingException, match="'A' has azimuth 400 at 60 m"):
        run_alg("geoml:desurveyholes", {**params, "SURVEY": str(tmp_path / "bad.csv"), "OUTPUT": str(tmp_path / "bad.gpkg")})
    assert not (tmp_path / "bad.gpkg").exists()


def test_log_ratio_transform_keeps_features_and_round_trips(run_alg, tmp_path):
    from qgis.core import QgsProcessingException
    from scipy.stats import gmean

    meuse = str(SAMPLE / "meuse" / "meuse.gpkg")
    parts = ["cadmium", "copper", "lead", "zinc"]
    res = run_alg("geoml:logratiotransform", {"INPUT": meuse, "FIELDS": parts, "LOG_RATIO": 2,
                                              "OUTPUT": str(tmp_path / "ilr.gpkg")})
    df, gtype, _ = _layer_frame(res["OUTPUT"])
    src, src_type, _ = _layer_frame(meuse)
    assert gtype == src_type and len(df) == len(src) == 155
    x = src[parts].to_numpy(float)
    assert np.allclose(df["ilr_3"], np.sqrt(3 / 4) * np.log(gmean(x[:, :3], axis=1) / x[:, 3]))
    back = run_alg("geoml:logratiotransform", {"INPUT": res["OUTPUT"], "FIELDS": ["ilr_1", "ilr_2", "ilr_3"],
                                               "LOG_RATIO": 2, "INVERSE": True, "TOTAL": 1e6,
                                               "OUTPUT": str(tmp_path / "back.gpkg")})
    parts_back, _, _ = _layer_frame(back["OUTPUT"])
    assert np.allclose(parts_back[[f"part_{j}" for j in range(1, 5)]].to_numpy(), 1e6 * x / x.sum(axis=1, keepdims=True))
    with pytest.raises(QgsProcessingException, match="already has field"):
        run_alg("geoml:logratiotransform", {"INPUT": res["OUTPUT"], "FIELDS": parts, "LOG_RATIO": 2,
                                            "OUTPUT": str(tmp_path / "again.gpkg")})
