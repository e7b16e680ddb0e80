"""Windowed spectral feature fitting: real USGS splib07 spectra and the bundled SYNTHETIC scene (known truth)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.hyperspectral.featurefit import WindowedFeatureFitting, classify_feature_fitting
from geoml_qgis.core.hyperspectral.features import DEFAULT_SFF_WINDOWS_TEXT, parse_windows
from geoml_qgis.core.hyperspectral.library import read_library
from geoml_qgis.core.hyperspectral.resample import resample_spectra
from geoml_qgis.core.hyperspectral.synthetic import swir_sensor

HS = Path(__file__).resolve().parents[2] / "geoml_qgis" / "sample_data" / "hyperspectral"
LIBRARY = read_library(HS / "usgs_scene_minerals.sli")
WINDOWS = parse_windows("alunite=1740-1800; Al-OH=2120-2245; Fe-OH=2230-2290; Mg-OH/CO3=2295-2370")


def _on_sensor():
    wl, fw = swir_sensor()
    return wl, resample_spectra(LIBRARY.spectra, LIBRARY.wavelengths, wl, fw)


def test_library_spectra_fit_themselves_whatever_their_brightness():
    wl, refs = _on_sensor()
    sff = WindowedFeatureFitting(refs, np.arange(len(refs)), wl, WINDOWS)
    cls, score = sff.predict(refs * np.linspace(0.5, 1.5, len(refs))[:, None])
    np.testing.assert_array_equal(cls, np.arange(len(refs)) + 1)
    assert score.min() > 0.999
    # a 50:50 mixture of two minerals fits either worse than a pure spectrum fits itself
    y = LIBRARY.y
    a, b = np.flatnonzero(y == LIBRARY.classes.index("kaolinite"))[0], np.flatnonzero(y == LIBRARY.classes.index("calcite"))[0]
    s = sff.scores((0.5 * (refs[a] + refs[b]))[None])[0]
    assert max(s[a], s[b]) < 0.95 and s.argmax() in (a, b)


def test_scene_classes_and_scores(tmp_path):
    truth = gdal.Open(str(HS / "synthetic_swir_truth.tif")).ReadAsArray()
    out, score = tmp_path / "sff.tif", tmp_path / "score.tif"
    warnings: list[str] = []
    windows = parse_windows(DEFAULT_SFF_WINDOWS_TEXT + "; Fe3+=900-1000")
    counts = classify_feature_fitting(HS / "synthetic_swir_cube.bil", LIBRARY, out, score, windows, min_score=0.8,
                                      warn=warnings.append, max_pixels=2500)
    assert any("Fe3+ 900-1000" in w for w in warnings)  # the scene's sensor starts at 1500 nm
    cls = gdal.Open(str(out)).ReadAsArray()
    sc = gdal.Open(str(score)).ReadAsArray()
    assert counts["unclassified"] == int((cls == 0).sum()) == int((sc < 0.8).sum()) > 0
    classified = cls > 0
    assert (cls[classified] == truth[classified]).mean() > 0.8  # 3-mineral mixtures at SNR 100
    right = cls == truth
    assert sc[right].mean() > sc[classified & ~right].mean()


def test_windows_outside_the_shared_bands_are_refused():
    wl, refs = _on_sensor()
    with pytest.raises(GeoMLError, match="None of the windows"):
        WindowedFeatureFitting(refs, LIBRARY.y, wl, parse_windows("Fe3+=900-1000; Fe2+=1000-1100"))


def test_one_window_over_the_whole_range_equals_whole_range_sff():
    from geoml_qgis.core.hyperspectral.sff import SpectralFeatureFitting

    wl, refs = _on_sensor()
    rng = np.random.default_rng(2)
    mix = rng.dirichlet(np.ones(len(refs)) * 0.3, 500) @ refs
    mix += rng.normal(size=mix.shape) * 0.005
    whole = WindowedFeatureFitting(refs, LIBRARY.y, wl, parse_windows(f"all={wl[0]:g}-{wl[-1]:g}"))
    ref_cls, _ = SpectralFeatureFitting(refs, LIBRARY.y, wl).predict(mix)
    cls, _ = whole.predict(mix)
    assert (cls == ref_cls).mean() > 0.99  # best fit share = smallest residual after scaling
