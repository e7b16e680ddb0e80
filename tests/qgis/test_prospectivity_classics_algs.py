"""Weights of evidence through Processing and qgis_process on the Meuse data (real): zinc >= 500 ppm
sites stand for 'deposits'; evidence: distance to the river (ascending), flood frequency and soil
classes (categorical)."""
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


def _params(zinc_sites, tmp_path):
    return {"EVIDENCE": [str(GRIDS / "dist.tif"), str(GRIDS / "ffreq.tif"), str(GRIDS / "soil.tif")],
            "EVIDENCE_TYPES": "ascending, categorical, categorical", "DEPOSITS": str(zinc_sites),
            "UNIT_CELL_AREA": 0.0009, "OUTPUT_POSTERIOR": str(tmp_path / "post.tif"),
            "OUTPUT_SD": str(tmp_path / "sd.tif"), "OUTPUT_WEIGHTS": str(tmp_path / "w.csv"),
            "OUTPUT_REPORT": str(tmp_path / "r.html"), "OUTPUT_MODEL": str(tmp_path / "m.json")}


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
    assert res["CI_RATIO"] < 0.85 and "Agterberg-Cheng" in (tmp_path / "r.html").read_text()
    one = tmp_path / "one.gpkg"
    pts = read_points(zinc_sites)
    pts.x, pts.y, pts.attributes = pts.x[:1], pts.y[:1], pts.attributes[:1]
    write_points(one, pts)
    with pytest.raises(QgsProcessingException, match="at least two"):
        run_alg("geoml:weightsofevidence", {**_params(one, tmp_path), "OUTPUT_POSTERIOR": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


def test_weights_of_evidence_qgis_process(qgis_process, zinc_sites, tmp_path):
    params = {**_params(zinc_sites, tmp_path), "EVIDENCE": [str(GRIDS / "ffreq.tif")], "EVIDENCE_TYPES": "categorical",
              "VECTORS": []}
    out = qgis_process("geoml:weightsofevidence", params)
    assert gdal.Open(out["results"]["OUTPUT_POSTERIOR"]) is not None
