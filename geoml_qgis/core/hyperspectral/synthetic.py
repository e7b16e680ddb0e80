"""Synthetic test scenes built from the USGS library (for tests, the demo and benchmarks).

A scene is a map of mineral classes with spatial structure: each class has a
smooth random abundance field; at every pixel the three strongest classes are
mixed linearly (the strongest is the truth), each class's spectrum is itself a
random blend of that class's library spectra (natural variability), the mixture
is scaled by a smooth illumination field (topography) and white Gaussian noise
is added at a chosen SNR (noise sd = mean reflectance / SNR). Spectra are
resampled from the library's 1 nm sampling to the scene sensor's Gaussian bands
before mixing (resampling is linear, so the order does not matter).
Everything here is synthetic and labelled so where it is written.
"""
from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter

from .library import SpectralLibrary, read_usgs_npz
from .resample import resample_spectra

#: scene classes -> rule names of their spectra in the bundled USGS npz
SCENE_CLASSES = {
    "kaolinite": ["kaolinite_wxl", "kaolinite_pxl"],
    "alunite": ["alunite_K_250C", "alunite_Na_450C"],
    "muscovite": ["muscovite_medAl", "muscovite_medhighAl"],
    "montmorillonite": ["montmorillonite_Na", "montmorillonite_Ca"],
    "calcite": ["calcite"],
    "dolomite": ["dolomite"],
    "chlorite": ["clinochlore_Fe", "chlorite_lowFe"],
    "epidote": ["epidote"],
    "jarosite": ["jarosite_K", "jarosite_Na"],
    "pyrophyllite": ["pyrophyllite"],
}


def swir_sensor(lo: float = 1500.0, hi: float = 2480.0, step: float = 10.0, fwhm: float = 12.0) -> tuple[np.ndarray, np.ndarray]:
    """Band centres and FWHM (nm) of an imaging spectrometer's SWIR range."""
    wl = np.arange(lo, hi + step / 2, step)
    return wl, np.full(wl.shape, fwhm)


def scene_library(npz_path, classes: dict | None = None) -> SpectralLibrary:
    """The scene's classes from the USGS npz, at 1 nm."""
    return read_usgs_npz(npz_path, classes or SCENE_CLASSES)


def make_scene(library: SpectralLibrary, wavelengths: np.ndarray, fwhm: np.ndarray, height: int = 100,
               width: int = 100, snr: float = 100.0, illumination: tuple[float, float] = (0.6, 1.2),
               n_mix: int = 3, sharpness: float = 2.5, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic cube.

    Returns
    -------
    cube : ``(height, width, bands)`` float32 reflectance
    truth : ``(height, width)`` uint8, dominant class (1 = ``library.classes[0]``)
    dominance : ``(height, width)`` float32, share of the dominant class
    """
    rng = np.random.default_rng(seed)
    refs = resample_spectra(library.spectra, library.wavelengths, wavelengths, fwhm)
    if np.isnan(refs).any():
        bad = sorted({library.labels[i] for i in np.flatnonzero(np.isnan(refs).any(axis=1))})
        raise ValueError(f"library spectra {bad} do not cover the sensor's range")
    y = library.y
    k = len(library.classes)
    smooth = max(height, width) / 14.0
    fields = np.stack([gaussian_filter(rng.normal(size=(height, width)), smooth, mode="wrap") for _ in range(k)])
    fields /= fields.std(axis=(1, 2), keepdims=True)
    weights = np.exp(sharpness * fields)
    order = np.argsort(-weights, axis=0)
    keep = np.zeros_like(weights, bool)
    np.put_along_axis(keep, order[:n_mix], True, axis=0)
    ab = np.where(keep, weights, 0.0)
    ab /= ab.sum(axis=0, keepdims=True)  # (k, h, w)
    truth = (ab.argmax(axis=0) + 1).astype(np.uint8)
    dominance = ab.max(axis=0).astype(np.float32)
    n = height * width
    cube = np.zeros((n, len(wavelengths)))
    for c in range(k):
        members = refs[y == c]
        blend = rng.dirichlet(np.ones(len(members)), n) if len(members) > 1 else np.ones((n, 1))
        cube += ab[c].reshape(-1, 1) * (blend @ members)
    light = gaussian_filter(rng.normal(size=(height, width)), smooth * 2, mode="wrap")
    light = (light - light.min()) / max(light.max() - light.min(), 1e-12)
    cube *= (illumination[0] + (illumination[1] - illumination[0]) * light).reshape(-1, 1)
    if snr:
        cube += rng.normal(size=cube.shape) * (cube.mean(axis=1, keepdims=True) / snr)
    return cube.reshape(height, width, -1).astype(np.float32), truth, dominance


def write_scene(folder, npz_path, height: int = 100, width: int = 100, snr: float = 100.0, seed: int = 0,
                pixel_size: float = 15.0, epsg: int = 28992,
                origin: tuple[float, float] = (182000.0, 333760.0)) -> dict:
    """Write a synthetic scene into *folder*: ENVI cube, truth GeoTIFF and the scene's library (.sli).

    Returns the paths (``cube``, ``truth``, ``library``). The cube is labelled
    synthetic in its ENVI description; the grid is an invented location (by default just
    east of the Meuse sample area, in its CRS, so the demo project shows everything in one CRS).
    """
    from pathlib import Path

    from osgeo import osr

    from ..io.grid import Grid
    from ..io.style import RasterStyle
    from ..io.writer import BlockWriter
    from .cube import write_envi
    from .library import write_sli

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    lib = scene_library(npz_path)
    wl, fw = swir_sensor()
    cube, truth, _ = make_scene(lib, wl, fw, height, width, snr=snr, seed=seed)
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    grid = Grid(width, height, (origin[0], pixel_size, 0.0, origin[1], 0.0, -pixel_size), srs.ExportToWkt())
    paths = {"cube": out / "synthetic_swir_cube.bil", "truth": out / "synthetic_swir_truth.tif",
             "library": out / "usgs_scene_minerals.sli"}
    desc = (f"SYNTHETIC test scene made by GeoML from USGS splib07 spectra: {len(lib.classes)} mineral classes, "
            f"3-class linear mixtures, illumination 0.6-1.2, SNR {snr:g}, seed {seed}")
    with write_envi(paths["cube"], grid, wl, fw, "bil", desc) as w:
        w.write_rows(cube)
    classes = {i + 1: c for i, c in enumerate(lib.classes)}
    with BlockWriter(paths["truth"], grid, 1, "uint8", nodata=255, band_names=["dominant class (synthetic truth)"],
                     metadata={"GEOML_SYNTHETIC": desc, "GEOML_CLASSES": ",".join(lib.classes)},
                     style=RasterStyle("categorical", classes=classes)) as w:
        w.write(grid.windows(max(height, width)).__next__(), truth)
    write_sli(paths["library"], lib)
    return {k: str(v) for k, v in paths.items()}
