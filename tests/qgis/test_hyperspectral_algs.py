"""Hyperspectral algorithms through Processing, on the bundled SYNTHETIC scene (USGS spectra, known truth)."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal, ogr, osr

from .conftest import SAMPLE

HS = SAMPLE / "hyperspectral"
CUBE = HS / "synthetic_swir_cube.bil"
LIBRARY = HS / "usgs_scene_minerals.sli"
TRUTH = gdal.Open(str(HS / "synthetic_swir_truth.tif")).ReadAsArray()
CLASSES = ["kaolinite", "alunite", "muscovite", "montmorillonite", "calcite", "dolomite", "chlorite", "epidote",
           "jarosite", "pyrophyllite"]


def _accuracy(path) -> float:
    return float((gdal.Open(str(path)).ReadAsArray() == TRUTH).mean())


def test_train_and_classify_from_library(run_alg, tmp_path):
    pytest.importorskip("torch")
    from qgis.core import QgsRasterLayer

    res = run_alg("geoml:trainspectralclassifier", {
        "LIBRARY": str(LIBRARY), "TARGET_CUBE": str(CUBE), "PREPROCESSING": 0, "AUGMENT": True, "EPOCHS": 10,
        "SEED": 1, "OUTPUT_MODEL": str(tmp_path / "m.pt"), "OUTPUT_REPORT": str(tmp_path / "r.html")})
    assert res["HELD_OUT_ACCURACY"] > 0.9 and (tmp_path / "r.html").stat().st_size > 10000
    out = tmp_path / "classes.tif"
    run_alg("geoml:classifyhyperspectral", {"INPUT": str(CUBE), "MODEL": str(tmp_path / "m.pt"), "MIN_CONFIDENCE": 0.0,
                                            "OUTPUT_CLASSES": str(out), "OUTPUT_CONFIDENCE": str(tmp_path / "conf.tif")})
    assert _accuracy(out) >= 0.88  # SNR 100 scene; the SAM test below stays far lower
    layer = QgsRasterLayer(str(out), "classes")
    assert layer.isValid() and layer.renderer().type() == "paletted"
    labels = [c.label for c in layer.renderer().classes()]
    assert labels[:3] == ["unclassified", "kaolinite", "alunite"]
    # a confidence threshold of 1.0 leaves (almost) every pixel unclassified
    run_alg("geoml:classifyhyperspectral", {"INPUT": str(CUBE), "MODEL": str(tmp_path / "m.pt"), "MIN_CONFIDENCE": 1.0,
                                            "OUTPUT_CLASSES": str(out)})
    assert (gdal.Open(str(out)).ReadAsArray() == 0).mean() > 0.5


def test_train_from_labelled_pixels(run_alg, tmp_path):
    pytest.importorskip("torch")
    ds = gdal.Open(str(CUBE))
    x0, dx, _, y0, _, dy = ds.GetGeoTransform()
    srs = osr.SpatialReference(wkt=ds.GetProjection())
    path = str(tmp_path / "labels.gpkg")
    src = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    layer = src.CreateLayer("labels", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("mineral", ogr.OFTString))
    rng = np.random.default_rng(0)
    for k, name in enumerate(CLASSES, start=1):
        rows, cols = np.nonzero(TRUTH == k)
        for i in rng.choice(rows.size, min(25, rows.size), replace=False):
            f = ogr.Feature(layer.GetLayerDefn())
            f.SetField("mineral", name)
            f.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x0 + (cols[i] + 0.5) * dx} {y0 + (rows[i] + 0.5) * dy})"))
            layer.CreateFeature(f)
    src = None
    res = run_alg("geoml:trainspectralclassifier", {
        "TRAINING_CUBE": str(CUBE), "TRAINING_LABELS": path, "CLASS_FIELD": "mineral", "AUGMENT": True, "EPOCHS": 8,
        "OUTPUT_MODEL": str(tmp_path / "px.pt")})
    assert res["HELD_OUT_ACCURACY"] > 0.7


def test_sam_and_bad_input(run_alg, tmp_path, write_raster):
    from qgis.core import QgsProcessingException

    out = tmp_path / "sam.tif"
    run_alg("geoml:spectralanglemapper", {"INPUT": str(CUBE), "LIBRARY": str(LIBRARY), "MAX_ANGLE": 0.5,
                                          "OUTPUT_CLASSES": str(out), "OUTPUT_ANGLE": str(tmp_path / "angle.tif")})
    assert 0.6 < _accuracy(out) < 0.88
    angle = gdal.Open(str(tmp_path / "angle.tif")).ReadAsArray()
    assert 0 < angle.min() and angle.max() < 0.5
    plain = write_raster(np.ones((5, 4, 4)), name="plain.tif")
    with pytest.raises(QgsProcessingException, match="no band wavelengths"):
        run_alg("geoml:spectralanglemapper", {"INPUT": plain, "LIBRARY": str(LIBRARY), "OUTPUT_CLASSES": str(out)})


def test_sam_headless_through_qgis_process(qgis_process, tmp_path):
    out = tmp_path / "sam.tif"
    res = qgis_process("geoml:spectralanglemapper", {"INPUT": CUBE, "LIBRARY": LIBRARY, "MAX_ANGLE": 0.05,
                                                     "OUTPUT_CLASSES": out})
    assert res["results"]["OUTPUT_CLASSES"] == str(out)
    classes = gdal.Open(str(out)).ReadAsArray()
    assert (classes == 0).any() and (classes > 0).any()  # a tight angle leaves mixed pixels unclassified
