"""Bad input through processing.run: a clear error or a correct handling, never a traceback, never a lost file.

Every case sets up pre-existing files at the output paths and asserts that they
survive byte for byte (or, where the run succeeds, that the run replaced them as a
whole), and that no hidden ``.part`` file is left behind. Inputs are copies of the
repository's sample data (Meuse, synthetic boreholes, synthetic SWIR cube), so a
failing guard can never destroy the originals. Cases refused before work take a
fraction of a second; the few that run an algorithm use the small Meuse grid.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal, ogr

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


# ---- paths refused before any work, for every algorithm -------------------------------------------------------
MULTI = [a for a in ALGORITHMS if len(outputs(good_params(a, Path("/d"), Path("/o")))) >= 2]


@pytest.mark.parametrize("alg", MULTI)
def test_two_outputs_sharing_a_path_are_refused(run_alg, data, tmp_path, alg):
    params = good_params(alg, data, tmp_path)
    keys = [k for k in params if k.startswith("OUTPUT") and isinstance(params[k], str)]
    params[keys[1]] = params[keys[0]]
    refused(run_alg, alg, params, "are both set to .* Give each output its own file name")


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_output_onto_an_input_is_refused(run_alg, data, tmp_path, alg):
    params = good_params(alg, data, tmp_path)
    victim = tmp_path / "in" / "victim"
    victim.parent.mkdir()
    # the first file input, copied so that a failing guard destroys only the copy
    key = next(k for k, v in params.items() if not k.startswith("OUTPUT") and (
        isinstance(v, str) and Path(v).is_file() or isinstance(v, list)))
    src = Path(params[key][0] if isinstance(params[key], list) else params[key])
    copy = victim.with_name(src.name)
    shutil.copy(src, copy)
    if src.suffix == ".bil" or src.suffix == ".sli":
        shutil.copy(src.with_suffix(".hdr"), copy.with_suffix(".hdr"))
    params[key] = [str(copy)] + params[key][1:] if isinstance(params[key], list) else str(copy)
    out_key = next(k for k in params if k.startswith("OUTPUT") and isinstance(params[k], str))
    params[out_key] = str(copy)
    refused(run_alg, alg, params, "is the input .* would destroy the input", keep=[str(copy)])


@pytest.mark.parametrize("alg", ALGORITHMS)
def test_output_below_a_file_is_refused(run_alg, data, tmp_path, alg):
    params = good_params(alg, data, tmp_path)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder is expected")
    out_key = next(k for k in params if k.startswith("OUTPUT") and isinstance(params[k], str))
    params[out_key] = str(blocker / "sub" / Path(params[out_key]).name)
    refused(run_alg, alg, params, "is a file, not a folder", keep=[str(blocker)])


# ---- a failure late in the run, or a cancellation, changes nothing -------------------------------------------
def _fail_on_write(monkeypatch, module: str):
    """Make the report writer of *module* fail as an unwritable path does, after every other output is written."""
    import errno
    import importlib

    mod = importlib.import_module(module)

    def fail(path, text):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(mod, "write_text_atomic", fail)


@pytest.mark.parametrize("alg, module", [
    ("ordinarykriging", "geoml_qgis.core.geostats.report"),
    ("boreholeclustering", "geoml_qgis.core.borehole.report"),
])
def test_late_failure_leaves_every_existing_output(run_alg, data, tmp_path, monkeypatch, alg, module):
    # was: the estimate and variance (or the workbook) already replaced when the report failed
    params = good_params(alg, data, tmp_path)
    _fail_on_write(monkeypatch, module)
    refused(run_alg, alg, params, r"Permission denied on '.*\.html'")


class CancelAt:
    """A feedback that cancels when progress first reaches *at* percent."""

    def __new__(cls, at: float):
        from qgis.core import QgsProcessingFeedback

        class _Feedback(QgsProcessingFeedback):
            def setProgress(self, value):  # noqa: N802 - QGIS API
                super().setProgress(value)
                if value >= at:
                    self.cancel()

        return _Feedback()


@pytest.mark.parametrize("alg, at", [
    ("ordinarykriging", 30), ("krigedfeatures", 30), ("alignrasters", 1), ("buildfeaturestack", 1),
    ("rankdrilltargets", 1), ("spectralanglemapper", 20), ("krigingcrossvalidation", 10), ("boreholeclustering", 10),
])
def test_cancellation_is_a_failure_that_leaves_nothing(run_alg, data, tmp_path, alg, at):
    # was: a cancelled run returned an empty result (exit 0 under qgis_process)
    params = good_params(alg, data, tmp_path)
    keep, fresh = outputs(params)[:1], outputs(params)[1:]  # one output existed before, the others did not
    msg = refused(run_alg, alg, params, "Cancelled", keep=keep, feedback=CancelAt(at), all_outputs=False)
    assert "unchanged" in msg
    assert not any(Path(p).exists() for p in fresh), [p for p in fresh if Path(p).exists()]


def test_successful_run_replaces_all_outputs_together(run_alg, data, tmp_path):
    params = good_params("ordinarykriging", data, tmp_path)
    pre_existing(outputs(params))
    res = run_alg("geoml:ordinarykriging", params)
    for p in outputs(params):
        assert not Path(p).read_bytes().startswith(OLD)
    assert gdal.Open(res["OUTPUT_ESTIMATE"]).RasterXSize == 78
    no_parts(tmp_path)


def test_stale_parts_of_a_killed_run_are_cleaned(run_alg, data, tmp_path):
    import subprocess
    import sys

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout)
    stale = tmp_path / f".est.{dead}-0123abcd.part.tif"
    stale.write_bytes(b"half-written by a killed run")
    run_alg("geoml:ordinarykriging", good_params("ordinarykriging", data, tmp_path))
    assert not stale.exists()


# ---- damaged inputs: the file and the fix named, no traceback -------------------------------------------------
def _truncated(src: Path, dst: Path) -> str:
    gdal.Translate(str(dst), str(src), creationOptions=["TILED=NO"])
    size = dst.stat().st_size
    with open(dst, "r+b") as fh:
        fh.truncate(size // 2)
    return str(dst)


@pytest.mark.parametrize("alg, key", [
    ("ordinarykriging", "REFERENCE"), ("krigedfeatures", "REFERENCE"), ("alignrasters", "INPUTS"),
    ("buildfeaturestack", "INPUTS"), ("rankdrilltargets", "PROBABILITY"), ("rankdrilltargets", "UNCERTAINTY"),
    ("evaluateprospectivity", "PROBABILITY"), ("trainhybridpredictor", "COVARIATES"),
])
def test_truncated_geotiff_is_named_as_damaged(run_alg, data, tmp_path, alg, key):
    params = good_params(alg, data, tmp_path)
    src = Path(params[key][0] if isinstance(params[key], list) else params[key])
    bad = _truncated(src, tmp_path / f"broken_{src.name}")
    params[key] = [bad] + params[key][1:] if isinstance(params[key], list) else bad
    refused(run_alg, alg, params, rf"broken_{src.stem}\.tif.* (is )?damaged or truncated|broken_{src.stem}")


def test_not_a_raster_is_named(run_alg, data, tmp_path):
    params = good_params("alignrasters", data, tmp_path)
    fake = tmp_path / "notes.tif"
    fake.write_text("this is text, not a GeoTIFF")
    params["INPUTS"] = [str(fake)]
    refused(run_alg, "alignrasters", params, "'notes.tif' .* cannot be opened: .*not recognized")


def test_model_of_the_wrong_kind_of_file_is_named(run_alg, data, tmp_path):
    params = {**good_params("predictweightsofevidence", data, tmp_path), "MODEL": str(data / "model.pt")}
    refused(run_alg, "predictweightsofevidence", params, r"'model.pt' \(.*\) must be a .json file")


def test_damaged_model_file_is_named(run_alg, data, tmp_path):
    msg = refused(run_alg, "predicthybrid", good_params("predicthybrid", data, tmp_path), "model.pt")
    assert "weights_only" not in msg and "file an issue" not in msg


# ---- layers without CRS ---------------------------------------------------------------------------------------
def _copy_points_without_crs(src: Path, dst: Path) -> str:
    ogr.UseExceptions()
    drv = "ESRI Shapefile" if dst.suffix == ".shp" else "GPKG"
    gdal.VectorTranslate(str(dst), str(src), format=drv)
    if dst.suffix == ".shp":
        dst.with_suffix(".prj").unlink(missing_ok=True)
    else:
        ds = ogr.Open(str(dst), 1)
        ds.ExecuteSQL("UPDATE gpkg_geometry_columns SET srs_id = 0")
        ds.ExecuteSQL("UPDATE gpkg_contents SET srs_id = 0")
        ds = None
    return str(dst)


@pytest.mark.parametrize("alg", ["fitvariogram", "ordinarykriging", "krigingcrossvalidation", "trainhybridpredictor"])
@pytest.mark.parametrize("suffix", [".shp", ".gpkg"])
def test_points_without_crs_are_named_with_how_to_assign(run_alg, data, tmp_path, alg, suffix):
    # was: a shapefile without .prj kriged into rasters without CRS; a GeoPackage without CRS called "geographic"
    params = good_params(alg, data, tmp_path)
    params["INPUT"] = _copy_points_without_crs(data / "meuse.gpkg", tmp_path / f"nocrs{suffix}")
    msg = refused(run_alg, alg, params, r"nocrs.* has no coordinate reference system.*Assign")
    assert "geographic" not in msg


def test_raster_without_crs_is_named(run_alg, data, tmp_path):
    params = good_params("alignrasters", data, tmp_path)
    bare = tmp_path / "bare.tif"
    ds = gdal.Translate(str(bare), str(data / "dem.tif"))
    ds.SetProjection("")
    ds = None
    Path(str(bare) + ".aux.xml").unlink(missing_ok=True)
    params["INPUTS"] = [str(bare)]
    refused(run_alg, "alignrasters", params, r"bare.tif.* has no coordinate reference system")


# ---- silent wrong results -------------------------------------------------------------------------------------
def _assays_with(data: Path, tmp_path: Path, edit, encoding="utf-8") -> str:
    df = pd.read_csv(data / "synthetic_assays.csv")
    df = edit(df)
    path = tmp_path / "assays.csv"
    path.write_bytes(df.to_csv(index=False).encode(encoding))
    return str(path)


def test_assay_code_minus_999_is_missing_not_a_detection_limit(run_alg, data, tmp_path):
    def edit(df):
        df["Cu_ppm"] = df["Cu_ppm"].astype(object)
        df.loc[[3, 10, 20], "Cu_ppm"] = -999
        df.loc[[30], "Cu_ppm"] = -9999
        return df

    params = {**good_params("boreholeclustering", data, tmp_path), "INPUT": _assays_with(data, tmp_path, edit)}
    res = run_alg("geoml:boreholeclustering", params)
    cleaning = pd.read_excel(res["OUTPUT_WORKBOOK"], sheet_name="cleaning").set_index("element")
    assert cleaning.loc["Cu_ppm", "missing_code"] == 4
    from geoml_qgis.core.io.vector import read_points

    out = read_points(res["OUTPUT"]).attributes
    assert out["Cu_ppm"].max() < 499.5 or out["Cu_ppm"].max() == pd.read_csv(data / "synthetic_assays.csv")["Cu_ppm"].max()
    assert "missing-value code" in Path(res["OUTPUT_REPORT"]).read_text(encoding="utf-8")


def test_latin1_hole_names_survive(run_alg, data, tmp_path):
    # was: Latin-1 names turned into U+FFFD; two holes differing by an accent then collided
    holes = pd.read_csv(data / "synthetic_assays.csv")["hole"].unique()

    def edit(df):
        df["hole"] = df["hole"].replace({holes[0]: "Séverin-1", holes[1]: "Severin-1"})
        return df

    params = good_params("boreholeclustering", data, tmp_path)
    collars = pd.read_csv(data / "synthetic_collars.csv")
    collars["hole"] = collars["hole"].replace({holes[0]: "Séverin-1", holes[1]: "Severin-1"})
    (tmp_path / "collars.csv").write_bytes(collars.to_csv(index=False).encode("cp1252"))
    params.update(INPUT=_assays_with(data, tmp_path, edit, "cp1252"), COLLARS=str(tmp_path / "collars.csv"))
    res = run_alg("geoml:boreholeclustering", params)
    from geoml_qgis.core.io.vector import read_points

    names = set(read_points(res["OUTPUT"]).attributes["hole"])
    assert {"Séverin-1", "Severin-1"} <= names and not any("\ufffd" in n for n in names)


@pytest.mark.parametrize("scale, match", [(3000.0, r"prob3000.tif. holds .*outside 0 to 1"), (100.0, "percentage")])
def test_probability_outside_0_1_is_refused(run_alg, data, tmp_path, scale, match):
    # was: a "probability" of 3000 made 100 % of the area "high return, low risk"
    params = good_params("rankdrilltargets", data, tmp_path)
    src = gdal.Open(params["PROBABILITY"])
    dst = tmp_path / f"prob{int(scale)}.tif"
    out = gdal.GetDriverByName("GTiff").CreateCopy(str(dst), src)
    band = out.GetRasterBand(1)
    arr = band.ReadAsArray()
    band.WriteArray(np.where(arr < 0, arr, arr * scale))
    out = None
    params["PROBABILITY"] = str(dst)
    refused(run_alg, "rankdrilltargets", params, match)


@pytest.mark.parametrize("header, match", [
    ({"byte order": "1"}, "wrong byte order"), ({"interleave": "bsq"}, "interleave = bsq"),
    ({"interleave": "bip"}, "interleave = bip"),
])
def test_cube_with_a_wrong_header_is_refused(run_alg, data, tmp_path, header, match):
    # was: a wrong byte order classified at 0.999 confidence; a BSQ header on BIL data mapped at accuracy 0.13
    cube = tmp_path / "cube.bil"
    shutil.copy(data / "synthetic_swir_cube.bil", cube)
    text = (data / "synthetic_swir_cube.hdr").read_text()
    for key, value in header.items():
        text = re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
    cube.with_suffix(".hdr").write_text(text)
    params = {**good_params("spectralanglemapper", data, tmp_path), "INPUT": str(cube)}
    refused(run_alg, "spectralanglemapper", params, match + ".*plausibly with 'interleave = bil' and 'byte order = 0'")


def test_huge_output_is_refused_before_work_with_the_numbers(run_alg, data, tmp_path):
    # was: 1.24e10 cells accepted, 0 % after two minutes
    params = good_params("ordinarykriging", data, tmp_path)
    del params["REFERENCE"]
    params.update(EXTENT="178000,182000,329000,334000 [EPSG:28992]", PIXEL_SIZE=0.04)
    refused(run_alg, "ordinarykriging", params, r"100,000 x 125,000 cells.*GEOML_MAX_OUTPUT_CELLS")


def test_all_nodata_output_is_warned(run_alg, data, tmp_path):
    from qgis.core import QgsProcessingFeedback

    class Log(QgsProcessingFeedback):
        warnings: list = []

        def pushWarning(self, text):  # noqa: N802 - QGIS API
            self.warnings.append(text)
            super().pushWarning(text)

    ref = tmp_path / "empty_ref.tif"
    ds = gdal.Translate(str(ref), str(data / "dist.tif"))
    band = ds.GetRasterBand(1)
    band.WriteArray(np.full((ds.RasterYSize, ds.RasterXSize), band.GetNoDataValue(), np.float32))
    ds = None
    fb = Log()
    params = {**good_params("ordinarykriging", data, tmp_path), "REFERENCE": str(ref)}
    run_alg("geoml:ordinarykriging", params, feedback=fb)
    assert any("holds no value at all" in w and "est.tif" in w for w in fb.warnings), fb.warnings


def test_continuous_label_refused_before_training(run_alg, data, tmp_path):
    # was: "ValueError: continuous is not supported", after training
    params = good_params("boreholesequencemodel", data, tmp_path)
    params.update(INPUT=str(data / "synthetic_assays.csv"), LABEL_FIELD="S_pct")
    refused(run_alg, "boreholesequencemodel", params, "label field 'S_pct' holds continuous values")


# ---- inputs matched by name -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run_alg_module(qgis_app, qgis_processing):
    """``run_alg`` for module-scoped fixtures (the provider registered as ``geoml_provider`` does)."""
    import sys

    from qgis.core import QgsApplication, QgsProcessingContext, QgsProcessingFeedback, QgsProject

    from geoml_qgis.provider import GeoMLProvider

    from .conftest import _ALIVE

    registry = QgsApplication.processingRegistry()
    if registry.providerById("geoml") is None:
        provider = GeoMLProvider()
        registry.addProvider(provider)
        _ALIVE.append(provider)
    if "/usr/share/qgis/python/plugins" not in sys.path:
        sys.path.append("/usr/share/qgis/python/plugins")
    import processing

    def _run(alg_id, params):
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())
        return processing.run(alg_id, params, feedback=QgsProcessingFeedback(), context=context)

    return _run


@pytest.fixture(scope="module")
def hybrid_model(run_alg_module, data, tmp_path_factory):
    out = tmp_path_factory.mktemp("hybrid")
    res = run_alg_module("geoml:trainhybridpredictor", {
        "INPUT": str(data / "meuse.gpkg"), "FIELD": "zinc", "COVARIATES": [str(data / "dist.tif"), str(data / "dem.tif")],
        "NEIGHBOURS": 8, "EPOCHS": 2, "MEMBERS": 1, "FOLDS": 2,
        "OUTPUT_MODEL": str(out / "h.pt"), "OUTPUT_REPORT": str(out / "h.html")})
    return res["OUTPUT_MODEL"]


def test_hybrid_covariates_in_another_order_are_matched_by_name(run_alg, data, hybrid_model, tmp_path):
    # was: only the count was checked; swapped covariates gave up to 614 ppm off, without a word
    def predict(covs, name):
        res = run_alg("geoml:predicthybrid", {
            "MODEL": hybrid_model, "COVARIATES": covs, "REFERENCE": str(data / "dist.tif"),
            "OUTPUT_PREDICTION": str(tmp_path / f"{name}.tif"), "OUTPUT_UNCERTAINTY": str(tmp_path / f"{name}_u.tif")})
        return gdal.Open(res["OUTPUT_PREDICTION"]).ReadAsArray()

    same = predict([str(data / "dist.tif"), str(data / "dem.tif")], "same")
    swapped = predict([str(data / "dem.tif"), str(data / "dist.tif")], "swapped")
    np.testing.assert_array_equal(same, swapped)


@pytest.mark.parametrize("covs, match", [
    (["dist", "twi"], "missing: dem; not in the model: twi"),
    (["dist"], "missing: dem"),
    (["dist", "dem", "twi"], "not in the model: twi"),
])
def test_hybrid_covariates_that_differ_are_named(run_alg, data, hybrid_model, tmp_path, covs, match):
    params = {"MODEL": hybrid_model, "COVARIATES": [str(data / f"{c}.tif") for c in covs],
              "REFERENCE": str(data / "dist.tif"), "OUTPUT_PREDICTION": str(tmp_path / "p.tif"),
              "OUTPUT_UNCERTAINTY": str(tmp_path / "u.tif")}
    refused(run_alg, "predicthybrid", params, r"trained with 2 covariate raster\(s\) \(dist, dem\).*" + match)


# ---- qgis_process ---------------------------------------------------------------------------------------------
def test_ctrl_c_under_qgis_process_is_a_failure_that_writes_nothing(data, tmp_path):
    # was: exit status 0 with an empty result, so scripts took a cancelled run for a success
    import os
    import signal
    import subprocess
    import time

    from .conftest import LAUNCHER

    est, var = tmp_path / "est.tif", tmp_path / "var.tif"
    var.write_bytes(OLD)
    args = [str(LAUNCHER), "run", "geoml:ordinarykriging", "--", f"INPUT={data / 'meuse.gpkg'}", "FIELD=log_zinc",
            "EXTENT=178500,181500,329600,333700 [EPSG:28992]", "PIXEL_SIZE=1.5", "NEIGHBOURS=32",
            *(f"{k}={v}" for k, v in VARIOGRAM.items()), f"OUTPUT_ESTIMATE={est}", f"OUTPUT_VARIANCE={var}"]
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "profile"))
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    seen, start = [], time.monotonic()
    for line in proc.stdout:  # wait until kriging has started
        seen.append(line)
        if "Kriging" in line or time.monotonic() - start > 300:
            break
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    out = "".join(seen) + proc.communicate(timeout=300)[0]
    assert proc.returncode not in (0, None), out[-2000:]
    assert "Cancelled" in out and "Traceback" not in out, out[-2000:]
    assert not est.exists() and var.read_bytes() == OLD
    no_parts(tmp_path)


def test_sink_output_as_in_the_dialog_is_staged_and_loaded_under_its_name(run_alg, data, tmp_path):
    """The dialog passes QgsProcessingOutputLayerDefinition; the layer QGIS loads is the final file."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProcessingOutputLayerDefinition, QgsProject

    params = good_params("krigingcrossvalidation", data, tmp_path)
    target = params["OUTPUT"]
    pre_existing([target])
    params["OUTPUT"] = QgsProcessingOutputLayerDefinition(target, QgsProject.instance())
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    res = processing.run("geoml:krigingcrossvalidation", params, feedback=QgsProcessingFeedback(), context=context)
    assert res["OUTPUT"].split("|")[0] == target
    keys = list(context.layersToLoadOnCompletion())
    assert [k.split("|")[0] for k in keys] == [target]
    assert context.layerToLoadOnCompletionDetails(keys[0]).postProcessor() is not None  # its styler came along
    ds = ogr.Open(target)  # kept alive while its layers are used
    names = [ds.GetLayer(i).GetName() for i in range(ds.GetLayerCount())]
    count = ds.GetLayer(0).GetFeatureCount()
    ds = None
    assert names == ["cv", "layer_styles"] and count > 100  # named as the file, with its default style saved
    no_parts(tmp_path)
