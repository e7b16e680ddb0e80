"""Bad input that used to give a silent wrong result, inputs matched by name, and Ctrl-C under
qgis_process: a clear error or a correct handling, and pre-existing outputs survive (see
test_bad_input.py for the shared approach)."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal, ogr

from .bad_input_support import (  # noqa: F401 - data is a fixture
    OLD, VARIOGRAM, data, good_params, no_parts, pre_existing, refused)

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
