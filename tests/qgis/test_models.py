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


def test_kriging_to_drill_targets_workflow_on_meuse(run_alg, tmp_path):
    from geoml_qgis.core.io import read_points, write_points

    # Meuse has no deposits: zinc >= 500 ppm stands in for an occurrence (as in the demo)
    pts = read_points(SAMPLE / "meuse" / "meuse.gpkg")
    pts.attributes = pts.attributes.assign(occurrence=(pts.attributes["zinc"] >= 500).astype(int))
    occ = tmp_path / "occ.gpkg"
    write_points(occ, pts, columns=["zinc", "occurrence"])
    grids = SAMPLE / "meuse" / "grids"
    res = run_alg("geoml:Kriging to drill targets", {
        "samples": str(SAMPLE / "meuse" / "meuse.gpkg"), "value_field": "copper", "reference": str(grids / "dist.tif"),
        "evidence": [str(grids / "dem.tif"), str(grids / "dist.tif")], "occurrences": str(occ),
        "label_field": "occurrence", "members": 3, "epochs": 15,
        "kriged:Kriged features": str(tmp_path / "kriged.tif"), "predict:Probability": str(tmp_path / "p.tif"),
        "predict:Total uncertainty": str(tmp_path / "u.tif"), "targets:Drill targets": str(tmp_path / "t.gpkg"),
        "targets:Risk-return categories": str(tmp_path / "rr.tif"),
    })
    prob_ds = gdal.Open(res["predict:Probability"])
    prob = np.ma.masked_equal(prob_ds.GetRasterBand(1).ReadAsArray(), prob_ds.GetRasterBand(1).GetNoDataValue())
    assert 0 <= prob.min() and prob.max() <= 1 and prob.count() > 1000
    # the stand-in occurrences score higher than the non-occurrences on the probability map
    sampled = np.array([prob[int((333760 - y) // 40), int((x - 178440) // 40)] for x, y in zip(pts.x, pts.y)])
    label = pts.attributes["occurrence"].to_numpy()
    assert sampled[label == 1].mean() > sampled[label == 0].mean()
    targets = read_points(res["targets:Drill targets"])
    assert 1 <= len(targets) <= 10 and list(targets.attributes["rank"][:3]) == [1, 2, 3]
