"""Absorption-feature algorithms through Processing, on the bundled SYNTHETIC scene (USGS spectra, known truth)."""
from __future__ import annotations

import numpy as np
import pytest
from osgeo import gdal

from .conftest import SAMPLE

HS = SAMPLE / "hyperspectral"
CUBE = HS / "synthetic_swir_cube.bil"
LIBRARY = HS / "usgs_scene_minerals.sli"


def test_minimum_wavelength_styled_outputs_and_bad_windows(run_alg, tmp_path):
    from qgis.core import QgsProcessingException, QgsRasterLayer

    out, pos, rep = tmp_path / "mwl.tif", tmp_path / "aloh.tif", tmp_path / "mwl.html"
    res = run_alg("geoml:minimumwavelength", {"INPUT": str(CUBE), "OUTPUT": str(out), "OUTPUT_POSITION": str(pos),
                                              "OUTPUT_REPORT": str(rep)})
    assert res["FEATURE_PIXELS"] > 5000 and rep.stat().st_size > 5000
    ds = gdal.Open(str(out))
    assert ds.RasterCount == 8  # Al-OH and Mg-OH/CO3; the SWIR cube has no 900-1000 nm bands
    position = ds.GetRasterBand(1).ReadAsArray()
    ok = position != ds.GetRasterBand(1).GetNoDataValue()
    assert 2180 < np.median(position[ok]) < 2215
    layer = QgsRasterLayer(str(pos), "Al-OH position")
    assert layer.isValid() and layer.renderer().type() == "singlebandpseudocolor"
    assert layer.renderer().alphaBand() == 2
    assert layer.renderer().classificationMin() == 2120 and layer.renderer().classificationMax() == 2245
    with pytest.raises(QgsProcessingException, match="900-1000 nm holds 0 usable"):
        run_alg("geoml:minimumwavelength", {"INPUT": str(CUBE), "WINDOWS": "Fe3+=900-1000", "OUTPUT": str(out)})
    with pytest.raises(QgsProcessingException, match="must be odd"):
        run_alg("geoml:minimumwavelength", {"INPUT": str(CUBE), "FIT_BANDS": 4, "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()
