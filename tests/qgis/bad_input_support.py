"""Inputs and checks shared by the bad-input suites (test_bad_input*.py): copies of the sample data,
the parameters of a good run of every algorithm, pre-existing output files and the refusal check."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal

from .conftest import SAMPLE

GRIDS = SAMPLE / "meuse" / "grids"
HS = SAMPLE / "hyperspectral"
BOREHOLES = SAMPLE / "boreholes"
ELEMENTS = ["Cu_ppm", "Zn_ppm", "Pb_ppm", "As_ppm", "Au_ppb", "S_pct"]
VARIOGRAM = {"VARIOGRAM_MODEL": 1, "NUGGET": 0.05, "SILL": 0.64, "RANGE": 900.0}  # spherical
OLD = b"pre-existing output: must survive a failed run"


# ---- inputs ---------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Copies of the sample inputs in a private folder (plus a log-zinc field and an occurrence label)."""
    from geoml_qgis.core.io.vector import read_points, write_points

    d = tmp_path_factory.mktemp("inputs")
    pts = read_points(SAMPLE / "meuse" / "meuse.gpkg")
    pts.attributes["log_zinc"] = np.log(pts.attributes["zinc"].astype(float))
    pts.attributes["dep"] = (pts.attributes["zinc"] >= 500).astype(int)
    write_points(d / "meuse.gpkg", pts)
    for name in ("dist", "dem", "soil", "twi"):
        shutil.copy(GRIDS / f"{name}.tif", d / f"{name}.tif")
    for name in ("synthetic_swir_cube.bil", "synthetic_swir_cube.hdr", "usgs_scene_minerals.sli", "usgs_scene_minerals.hdr"):
        shutil.copy(HS / name, d / name)
    shutil.copy(BOREHOLES / "synthetic_collars.csv", d / "synthetic_collars.csv")
    assays = pd.read_csv(BOREHOLES / "synthetic_assays.csv")
    assays[assays["hole"].isin(assays["hole"].unique()[:4])].to_csv(d / "synthetic_assays.csv", index=False)  # 4 holes
    (d / "model.pt").write_bytes(b"not a model")
    (d / "model.json").write_text("{}")
    ref = gdal.Open(str(d / "dist.tif"))
    arr = ref.GetRasterBand(1).ReadAsArray().astype(np.float32)
    nd = ref.GetRasterBand(1).GetNoDataValue()
    p = np.where(arr == nd, -1, np.clip(1 - arr, 0.01, 0.99)).astype(np.float32)
    for name, values in (("prob.tif", p), ("unc.tif", np.where(p < 0, -1, 0.05).astype(np.float32))):
        out = gdal.GetDriverByName("GTiff").CreateCopy(str(d / name), ref)
        out.GetRasterBand(1).WriteArray(values)
        out.GetRasterBand(1).SetNoDataValue(-1)
        out = None
    return d


def good_params(alg: str, d: Path, out: Path) -> dict:
    """Valid parameters of *alg* with every file output in *out*."""
    cube = str(d / "synthetic_swir_cube.bil")
    lib = str(d / "usgs_scene_minerals.sli")
    pts = str(d / "meuse.gpkg")
    table = {
        "fitvariogram": {"INPUT": pts, "FIELD": "log_zinc", "VARIOGRAM_MODEL": 1, "OUTPUT_MODEL": "vg.json", "OUTPUT_REPORT": "vg.html"},
        "ordinarykriging": {"INPUT": pts, "FIELD": "log_zinc", "REFERENCE": str(d / "dist.tif"), **VARIOGRAM,
                            "NEIGHBOURS": 16, "OUTPUT_ESTIMATE": "est.tif", "OUTPUT_VARIANCE": "var.tif",
                            "OUTPUT_REPORT": "ok.html"},
        "krigingcrossvalidation": {"INPUT": pts, "FIELD": "log_zinc", **VARIOGRAM, "NEIGHBOURS": 16, "METHOD": 0,
                                   "FOLDS": 5, "OUTPUT": "cv.gpkg", "OUTPUT_REPORT": "cv.html", "OUTPUT_CSV": "cv.csv"},
        "krigedfeatures": {"INPUT": pts, "FIELD": "log_zinc", "REFERENCE": str(d / "dist.tif"), **VARIOGRAM,
                           "NEIGHBOURS": 16, "OUTPUT": "kf.tif"},
        "alignrasters": {"INPUTS": [str(d / "dem.tif"), str(d / "twi.tif")], "REFERENCE": str(d / "dist.tif"),
                         "RESAMPLING": 0, "OUTPUT": "aligned.tif"},
        "buildfeaturestack": {"INPUTS": [str(d / "dem.tif"), str(d / "dist.tif")], "PCA_COMPONENTS": 0,
                              "OUTPUT": "stack.tif", "OUTPUT_TRANSFORM": "stack.json"},
        "trainprospectivity": {"INPUT": pts, "LABEL_FIELD": "dep", "FEATURES": str(d / "dist.tif"), "EPOCHS": 2,
                               "OUTPUT_MODEL": "p.pt", "OUTPUT_REPORT": "p.html"},
        "predictprospectivity": {"MODEL": str(d / "model.pt"), "FEATURES": str(d / "dist.tif"),
                                 "OUTPUT_PROBABILITY": "prob.tif", "OUTPUT_ALEATORIC": "ale.tif",
                                 "OUTPUT_EPISTEMIC": "epi.tif", "OUTPUT_TOTAL": "tot.tif"},
        "evaluateprospectivity": {"PROBABILITY": str(d / "prob.tif"), "VALIDATION": pts, "LABEL_FIELD": "dep",
                                  "OUTPUT_REPORT": "ev.html", "OUTPUT_CSV": "ev.csv"},
        "rankdrilltargets": {"PROBABILITY": str(d / "prob.tif"), "UNCERTAINTY": str(d / "unc.tif"), "COST": 1.0,
                             "VALUE": 10.0, "CONFIDENCE": 0.9, "N_TARGETS": 3, "MIN_SPACING": 100.0,
                             "OUTPUT_TARGETS": "targets.gpkg", "OUTPUT_CATEGORIES": "cats.tif", "OUTPUT_REPORT": "rank.html"},
        "suggestsamples": {"MODEL": str(d / "model.pt"), "FEATURES": str(d / "dist.tif"), "N_TARGETS": 3, "MIN_SPACING": 0.0,
                           "CRITERION": 0, "OUTPUT": "suggested.gpkg"},
        "trainhybridpredictor": {"INPUT": pts, "FIELD": "log_zinc", "COVARIATES": [str(d / "dist.tif")], "EPOCHS": 2,
                                 "MEMBERS": 1, "OUTPUT_MODEL": "h.pt", "OUTPUT_REPORT": "h.html"},
        "predicthybrid": {"MODEL": str(d / "model.pt"), "REFERENCE": str(d / "dist.tif"),
                          "OUTPUT_PREDICTION": "hp.tif", "OUTPUT_UNCERTAINTY": "hu.tif"},
        "boreholeclustering": {"INPUT": str(d / "synthetic_assays.csv"), "HOLE_FIELD": "hole", "FROM_FIELD": "from",
                               "TO_FIELD": "to", "ELEMENT_FIELDS": ELEMENTS, "COLLARS": str(d / "synthetic_collars.csv"),
                               "COLLAR_X_FIELD": "x", "COLLAR_Y_FIELD": "y", "COLLAR_Z_FIELD": "z",
                               "AZIMUTH_FIELD": "azimuth", "DIP_FIELD": "dip", "TRANSFORM": 2, "N_CLUSTERS": 4,
                               "CRS": "EPSG:28992", "OUTPUT": "clusters.gpkg", "OUTPUT_WORKBOOK": "clusters.xlsx",
                               "OUTPUT_REPORT": "clusters.html"},
        "boreholesequencemodel": {"INPUT": str(d / "synthetic_assays.csv"), "HOLE_FIELD": "hole", "LABEL_FIELD": "Cu_ppm",
                                  "FEATURE_FIELDS": ELEMENTS[1:], "DEPTH_FIELD": "from", "EPOCHS": 1,
                                  "OUTPUT_MODEL": "seq.pt", "OUTPUT": "seq.gpkg", "OUTPUT_REPORT": "seq.html"},
        "classifyhyperspectral": {"INPUT": cube, "MODEL": str(d / "model.pt"), "OUTPUT_CLASSES": "cls.tif",
                                  "OUTPUT_CONFIDENCE": "conf.tif"},
        "spectralanglemapper": {"INPUT": cube, "LIBRARY": lib, "MAX_ANGLE": 0.2, "OUTPUT_CLASSES": "sam.tif",
                                "OUTPUT_ANGLE": "angle.tif"},
        "trainspectralclassifier": {"LIBRARY": lib, "TARGET_CUBE": cube, "EPOCHS": 1, "OUTPUT_MODEL": "cnn.pt",
                                    "OUTPUT_REPORT": "cnn.html"},
        "blockkriging": {"INPUT": pts, "FIELD": "log_zinc", "REFERENCE": str(d / "dist.tif"), **VARIOGRAM,
                         "OUTPUT_ESTIMATE": "bk.tif", "OUTPUT_VARIANCE": "bkv.tif", "OUTPUT_REPORT": "bk.html"},
        "trendkriging": {"INPUT": pts, "FIELD": "log_zinc", "REFERENCE": str(d / "dist.tif"), **VARIOGRAM,
                         "OUTPUT_ESTIMATE": "tk.tif", "OUTPUT_VARIANCE": "tkv.tif", "OUTPUT_CSV": "tk.csv",
                         "OUTPUT_REPORT": "tk.html"},
        "indicatorkriging": {"INPUT": pts, "FIELD": "log_zinc", "REFERENCE": str(d / "dist.tif"),
                             "OUTPUT_EXCEEDANCE": "ik.tif", "OUTPUT_ETYPE": "ike.tif", "OUTPUT_VARIANCE": "ikv.tif"},
        "cokriging": {"INPUT": pts, "FIELD": "log_zinc", "SECONDARY_RASTER": str(d / "dist.tif"),
                      "REFERENCE": str(d / "dist.tif"), "OUTPUT_ESTIMATE": "ck.tif", "OUTPUT_VARIANCE": "ckv.tif",
                      "OUTPUT_MODEL": "ck.json"},
        "gaussiansimulation": {"INPUT": pts, "FIELD": "log_zinc", "REFERENCE": str(d / "dist.tif"), **VARIOGRAM,
                               "REALISATIONS": 2, "OUTPUT_ETYPE": "sim_e.tif", "OUTPUT_SD": "sim_sd.tif"},
        "fitnestedvariogram": {"INPUT": pts, "FIELD": "log_zinc", "OUTPUT_MODEL": "nv.json", "OUTPUT_REPORT": "nv.html"},
        "fuzzymembership": {"INPUT": str(d / "dist.tif"), "OUTPUT": "fm.tif"},
        "fuzzyoverlay": {"INPUTS": [str(d / "prob.tif"), str(d / "unc.tif")], "OUTPUT": "fo.tif"},
        "weightsofevidence": {"EVIDENCE": [str(d / "dist.tif")], "DEPOSITS": pts, "OUTPUT_POSTERIOR": "woe.tif",
                              "OUTPUT_SD": "woe_sd.tif", "OUTPUT_REPORT": "woe.html"},
        "predictweightsofevidence": {"MODEL": str(d / "model.json"), "EVIDENCE": [str(d / "dist.tif")],
                                     "OUTPUT_POSTERIOR": "pw.tif", "OUTPUT_SD": "pw_sd.tif"},
        "unmixabundances": {"INPUT": cube, "LIBRARY": lib, "OUTPUT": "abund.tif"},
        "spectralfeaturefitting": {"INPUT": cube, "LIBRARY": lib, "OUTPUT_CLASSES": "sff.tif",
                                   "OUTPUT_SCORE": "sff_score.tif"},
        "minimumwavelength": {"INPUT": cube, "OUTPUT": "mwl.tif", "OUTPUT_POSITION": "mwl_pos.tif",
                              "OUTPUT_REPORT": "mwl.html"},
    }
    params = dict(table[alg])
    for k, v in params.items():
        if k.startswith("OUTPUT") and isinstance(v, str):
            params[k] = str(out / v)
    return params


ALGORITHMS = ["fitvariogram", "ordinarykriging", "krigingcrossvalidation", "krigedfeatures", "alignrasters",
              "buildfeaturestack", "trainprospectivity", "predictprospectivity", "evaluateprospectivity",
              "rankdrilltargets", "suggestsamples", "trainhybridpredictor", "predicthybrid", "boreholeclustering",
              "boreholesequencemodel", "classifyhyperspectral", "spectralanglemapper", "trainspectralclassifier",
              "blockkriging", "trendkriging", "indicatorkriging", "cokriging", "gaussiansimulation",
              "fitnestedvariogram", "fuzzymembership", "fuzzyoverlay", "weightsofevidence", "predictweightsofevidence",
              "unmixabundances", "spectralfeaturefitting", "minimumwavelength"]


def outputs(params: dict) -> list[str]:
    return [v for k, v in params.items() if k.startswith("OUTPUT") and isinstance(v, str)]


def pre_existing(paths) -> dict[str, bytes]:
    """Write a distinct pre-existing file at each path; return their bytes."""
    snap = {}
    for p in dict.fromkeys(paths):
        Path(p).parent.mkdir(parents=True, exist_ok=True)
        if not Path(p).exists():
            Path(p).write_bytes(OLD + Path(p).name.encode())
        snap[p] = Path(p).read_bytes()
    return snap


def _in_a_folder(path: str) -> bool:
    """True when the nearest existing ancestor of *path* is a folder (a file can be put there)."""
    p = Path(path).parent
    while not p.exists():
        p = p.parent
    return p.is_dir()


def no_parts(*folders) -> None:
    for f in folders:
        left = [p.name for p in Path(f).iterdir() if ".part" in p.name] if Path(f).is_dir() else []
        assert not left, f"temporary files left behind: {left}"


def refused(run_alg, alg: str, params: dict, match: str, keep=(), feedback=None, all_outputs=True) -> str:
    """Run and expect a clear error matching *match*; every file in *keep* (and every output) survives."""
    from qgis.core import QgsProcessingException

    snap = pre_existing(list(keep) + ([p for p in outputs(params) if _in_a_folder(p)] if all_outputs else []))
    with pytest.raises(QgsProcessingException) as info:
        run_alg(f"geoml:{alg}", params, feedback=feedback)
    msg = str(info.value)
    assert re.search(match, msg, re.S), msg
    assert "Traceback" not in msg and ".part" not in msg, msg
    for p, b in snap.items():
        assert Path(p).read_bytes() == b, f"{p} was changed by a failed run"
    no_parts(*{Path(p).parent for p in snap})
    return msg


