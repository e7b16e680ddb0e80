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
    # one typed window, parabola fit, no position map asked for (scripts get only what they name)
    res = run_alg("geoml:minimumwavelength", {"INPUT": str(CUBE), "WINDOWS": "Mg-OH=2295-2370", "FIT": 1,
                                              "OUTPUT": str(tmp_path / "mg.tif")})
    mg = gdal.Open(str(tmp_path / "mg.tif"))
    assert mg.RasterCount == 4 and mg.GetRasterBand(1).GetDescription() == "Mg-OH position (nm)"
    assert not res["OUTPUT_POSITION"] and res["FEATURE_PIXELS"] > 0
    with pytest.raises(QgsProcessingException, match="900-1000 nm holds 0 usable"):
        run_alg("geoml:minimumwavelength", {"INPUT": str(CUBE), "WINDOWS": "Fe3+=900-1000", "OUTPUT": str(out)})
    with pytest.raises(QgsProcessingException, match="must be odd"):
        run_alg("geoml:minimumwavelength", {"INPUT": str(CUBE), "FIT_BANDS": 4, "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


def test_unmix_abundances_on_the_synthetic_scene(run_alg, tmp_path):
    from qgis.core import QgsProcessingException

    truth = gdal.Open(str(HS / "synthetic_swir_truth.tif")).ReadAsArray()
    shares = {}
    for method in (0, 1):
        out = tmp_path / f"ab{method}.tif"
        run_alg("geoml:unmixabundances", {"INPUT": str(CUBE), "LIBRARY": str(LIBRARY), "METHOD": method,
                                          "OUTPUT": str(out)})
        ds = gdal.Open(str(out))
        ab = ds.ReadAsArray()
        assert ds.RasterCount == 11 and ds.GetRasterBand(1).GetDescription() == "abundance: kaolinite"
        shares[method] = float(((ab[:10].argmax(axis=0) + 1) == truth).mean())
        assert ab[:10].min() >= 0 and np.median(ab[10]) < 0.02
    # the largest abundance is the scene's dominant class; the scene's illumination (0.6-1.2) breaks the
    # sum-to-one constraint, which only NNLS (free sum) absorbs
    assert shares[1] > 0.9 and shares[0] < shares[1]
    vnir = tmp_path / "vnir.csv"  # a library measured 400-1000 nm does not overlap the SWIR cube
    wl = np.arange(400, 1001, 10)
    vnir.write_text("wavelength,hematite,goethite\n" + "".join(f"{w},{0.1 + w / 5000:.4f},{0.2:.4f}\n" for w in wl))
    with pytest.raises(QgsProcessingException, match="share only 0 bands"):
        run_alg("geoml:unmixabundances", {"INPUT": str(CUBE), "LIBRARY": str(vnir), "OUTPUT": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()


def test_spectral_feature_fitting_classes_and_score(run_alg, tmp_path):
    from qgis.core import QgsProcessingException, QgsRasterLayer

    truth = gdal.Open(str(HS / "synthetic_swir_truth.tif")).ReadAsArray()
    out, score = tmp_path / "sff.tif", tmp_path / "score.tif"
    run_alg("geoml:spectralfeaturefitting", {"INPUT": str(CUBE), "LIBRARY": str(LIBRARY), "MIN_SCORE": 0.0,
                                             "OUTPUT_CLASSES": str(out), "OUTPUT_SCORE": str(score)})
    assert (gdal.Open(str(out)).ReadAsArray() == truth).mean() > 0.6
    layer = QgsRasterLayer(str(out), "classes")
    assert layer.isValid() and layer.renderer().type() == "paletted"
    sc = gdal.Open(str(score)).ReadAsArray()
    assert 0 <= sc.min() and sc.max() <= 1
    with pytest.raises(QgsProcessingException, match="None of the windows"):
        run_alg("geoml:spectralfeaturefitting", {"INPUT": str(CUBE), "LIBRARY": str(LIBRARY), "WINDOWS": "Fe=900-1000",
                                                 "OUTPUT_CLASSES": str(tmp_path / "x.tif")})
    assert not (tmp_path / "x.tif").exists()
