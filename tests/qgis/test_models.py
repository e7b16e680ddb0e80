"""The graphical-modeler workflows shipped with the plugin run end to end on the sample data."""
from __future__ import annotations

import numpy as np
from osgeo import gdal

from .conftest import SAMPLE


def test_spectral_workflow_maps_the_synthetic_scene(run_alg, tmp_path):
    hs = SAMPLE / "hyperspectral"
    res = run_alg("geoml:Spectral library to mineral map", {
        "library": str(hs / "usgs_scene_minerals.sli"), "cube": str(hs / "synthetic_swir_cube.bil"),
        "classify:Mineral classes": str(tmp_path / "classes.tif"), "classify:Confidence": str(tmp_path / "conf.tif"),
        "train:Model": str(tmp_path / "model.pt"),
    })
    ds, truth_ds = gdal.Open(res["classify:Mineral classes"]), gdal.Open(str(hs / "synthetic_swir_truth.tif"))
    classes, truth = ds.GetRasterBand(1).ReadAsArray(), truth_ds.GetRasterBand(1).ReadAsArray()
    valid = (truth > 0) & (truth < 255)
    # synthetic scene with known dominant minerals (see sample_data/README.md)
    assert np.mean(classes[valid] == truth[valid]) >= 0.85
