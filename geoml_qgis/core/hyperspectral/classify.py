"""Classify cubes strip by strip into styled GeoTIFFs: the CNN and the Spectral Angle Mapper.

A strip is a set of full rows (about ``max_pixels`` pixels), so raw ENVI files are
read with one contiguous read per strip and memory stays the same whatever the
cube's size. Class rasters are uint8: 1 = first class of the library, 0 =
unclassified, 255 = no data; they carry category names and a palette.
"""
from __future__ import annotations

import contextlib
import os
import threading
from typing import Callable

import numpy as np

from ..device import resolve_device
from ..errors import GeoMLError
from ..io.blocks import process_blocks
from ..io.provenance import provenance
from ..io.style import RasterStyle
from ..io.writer import BlockWriter
from ..progress import ProgressCallback
from .cube import Cube
from .library import SpectralLibrary
from .resample import resample_spectra

NODATA_CLASS = 255
#: share of the model's bands that the cube must cover
MIN_OVERLAP = 0.9
#: fewest bands shared by a library and a cube for SAM
MIN_SHARED_BANDS = 10

Warn = Callable[[str], None]


def class_style(classes: list[str]) -> RasterStyle:
    return RasterStyle("categorical", classes={0: "unclassified", **{i + 1: c for i, c in enumerate(classes)}})


def open_cube(path: str | os.PathLike, warn: Warn | None = None) -> Cube:
    """Open a cube and flag bands that hold no valid value (e.g. NaN water-vapour bands) as bad."""
    cube = Cube(path)
    empty = cube.find_empty_bands()
    if empty.size:
        cube.bad[empty] = True
        if cube.bad.all():
            raise GeoMLError(f"Every band of '{cube.name}' is empty (NaN or nodata).")
        if warn:
            wl = ", ".join(f"{cube.wavelengths[i]:.0f}" for i in empty[:12])
            warn(f"{empty.size} band(s) of '{cube.name}' hold no data and are left out (nm: {wl}{'...' if empty.size > 12 else ''}).")
    return cube


def model_bands(model, cube: Cube, warn: Warn | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cube bands the model reads and the weights ``(n_used, n_grid)`` that resample them onto the model grid.

    Refuses cubes covering less than :data:`MIN_OVERLAP` of the model's range;
    model bands outside the cube's bands take the nearest covered band.
    """
    good = cube.good
    wl, fw = cube.wavelengths[good], cube.fwhm[good]
    weights, covered = model.resampling_matrix(wl, fw)
    share = covered.mean()
    lo, hi = model.grid_[0], model.grid_[-1]
    if share < MIN_OVERLAP:
        raise GeoMLError(
            f"The cube '{cube.name}' ({wl[0]:.0f}-{wl[-1]:.0f} nm, {good.size} usable bands) covers only "
            f"{100 * share:.0f}% of the model's spectral range ({lo:.0f}-{hi:.0f} nm); at least "
            f"{100 * MIN_OVERLAP:.0f}% is needed. Use a model trained for this sensor's range."
        )
    if not covered.all() and warn:
        warn(f"{(~covered).sum()} of the model's {covered.size} bands lie outside the cube's bands; the nearest band stands in.")
    same = wl.size == model.sensor_wavelengths_.size and np.allclose(wl, model.sensor_wavelengths_, atol=0.5)
    if not same and warn:
        warn(f"The cube's bands ({good.size} bands, {wl[0]:.0f}-{wl[-1]:.0f} nm) differ from the model's "
             f"({model.sensor_wavelengths_.size} bands); the cube is resampled onto the model's bands.")
    used = np.flatnonzero(np.abs(weights).sum(axis=1) > 0)
    return good[used], np.ascontiguousarray(weights[used], np.float32)


def classify_cnn(cube_path, model, out_classes, out_confidence=None, min_confidence: float = 0.0,
                 parameters: dict | None = None, model_hash: str | None = None, warn: Warn | None = None,
                 progress: ProgressCallback | None = None, max_pixels: int = 65536, batch: int = 1024,
                 workers: int | None = None, device: str | None = "cpu",
                 algorithm: str = "geoml_qgis.core.hyperspectral.classify_cnn") -> dict:
    """Classify a cube with a :class:`~.cnn.SpectralCNN`; returns pixel counts per class name.

    Pixels whose top probability is below *min_confidence* are unclassified (0). *workers* threads
    classify strips at once (None: every core); the files do not depend on it. *device*: ``cpu``,
    ``auto`` or ``cuda`` (:mod:`~geoml_qgis.core.device`).
    """
    import torch

    from .preprocess import preprocess

    cube = open_cube(cube_path, warn)
    bands, weights = model_bands(model, cube, warn)
    dev = resolve_device(device)
    weights_t = torch.from_numpy(weights).to(dev)  # torch's matrix product: several times numpy's here
    net = model.predictor(dev)
    meta = provenance(algorithm, parameters, model_hash)
    meta["GEOML_CLASSES"] = ",".join(model.classes_)
    counts = np.zeros(len(model.classes_) + 1, np.int64)
    lock = threading.Lock()
    grid = model.grid_
    step = batch if dev.type == "cpu" else max(batch, 1 << 16)  # a GPU wants large batches

    def compute(pixels, valid):
        cls = np.full(len(pixels), NODATA_CLASS, np.uint8)
        conf = np.full(len(pixels), np.nan, np.float32)
        z = preprocess((torch.from_numpy(pixels if valid.all() else pixels[valid]).to(dev) @ weights_t).cpu().numpy(),
                       grid, model.preprocessing)
        prob_max = np.empty(len(z), np.float32)
        arg = np.empty(len(z), np.int64)
        with torch.inference_mode():
            for s in range(0, len(z), step):
                logits = net(torch.from_numpy(np.ascontiguousarray(z[s:s + step])).to(dev))
                p, a = torch.softmax(logits, 1).max(1)
                prob_max[s:s + step], arg[s:s + step] = p.cpu().numpy(), a.cpu().numpy()
        c = (arg + 1).astype(np.uint8)
        c[prob_max < min_confidence] = 0
        cls[valid], conf[valid] = c, prob_max
        with lock:
            counts[:] += np.bincount(c, minlength=counts.size)
        return cls, conf

    writers = [BlockWriter(out_classes, cube.grid, 1, "uint8", nodata=NODATA_CLASS, band_names=["class"],
                           metadata=meta, style=class_style(model.classes_))]
    if out_confidence:
        writers.append(BlockWriter(out_confidence, cube.grid, 1, "float32", band_names=["confidence"], metadata=meta,
                                   style=RasterStyle("continuous", ramp="viridis", vmin=0, vmax=1)))
    _run(cube, bands, compute, writers, progress, max_pixels, workers)
    return {"unclassified": int(counts[0]), **{c: int(counts[i + 1]) for i, c in enumerate(model.classes_)}}


def library_on_cube(library: SpectralLibrary, cube: Cube) -> tuple[np.ndarray, np.ndarray]:
    """The library resampled onto the cube's usable bands: ``(band indices used, spectra (m, n_used))``.

    Bands where a library spectrum has no value are dropped; fewer than
    :data:`MIN_SHARED_BANDS` left is an error.
    """
    good = cube.good
    refs = resample_spectra(library.spectra, library.wavelengths, cube.wavelengths[good], cube.fwhm[good],
                            library.fwhm)
    ok = np.isfinite(refs).all(axis=0)
    if ok.sum() < MIN_SHARED_BANDS:
        lib_lo, lib_hi = library.wavelengths[0], library.wavelengths[-1]
        raise GeoMLError(
            f"The library ({lib_lo:.0f}-{lib_hi:.0f} nm) and the cube '{cube.name}' "
            f"({cube.wavelengths[good][0]:.0f}-{cube.wavelengths[good][-1]:.0f} nm) share only {int(ok.sum())} bands "
            f"where every library spectrum has values; at least {MIN_SHARED_BANDS} are needed."
        )
    return good[ok], refs[:, ok]


def classify_sam(cube_path, library: SpectralLibrary, out_classes, out_angle=None, max_angle: float = 0.1,
                 parameters: dict | None = None, warn: Warn | None = None, progress: ProgressCallback | None = None,
                 max_pixels: int = 65536, workers: int | None = None,
                 algorithm: str = "geoml_qgis.core.hyperspectral.classify_sam") -> dict:
    """Spectral Angle Mapper over a cube; returns pixel counts per class name (*workers*: as for the CNN)."""
    from .sam import SpectralAngleMapper

    library.require_classes(2)
    cube = open_cube(cube_path, warn)
    bands, refs = library_on_cube(library, cube)
    sam = SpectralAngleMapper(refs, library.y, library.classes, max_angle)
    meta = provenance(algorithm, parameters)
    meta["GEOML_CLASSES"] = ",".join(library.classes)
    counts = np.zeros(len(library.classes) + 1, np.int64)
    lock = threading.Lock()

    def compute(pixels, valid):
        cls = np.full(len(pixels), NODATA_CLASS, np.uint8)
        ang = np.full(len(pixels), np.nan, np.float32)
        c, a = sam.predict(pixels if valid.all() else pixels[valid])  # no copy of a strip with no gap
        cls[valid], ang[valid] = c, a
        with lock:
            counts[:] += np.bincount(c, minlength=counts.size)
        return cls, ang

    writers = [BlockWriter(out_classes, cube.grid, 1, "uint8", nodata=NODATA_CLASS, band_names=["class"],
                           metadata=meta, style=class_style(library.classes))]
    if out_angle:
        writers.append(BlockWriter(out_angle, cube.grid, 1, "float32", band_names=["spectral angle (rad)"],
                                   metadata=meta, style=RasterStyle("continuous", ramp="magma", vmin=0, vmax=max_angle)))
    _run(cube, bands, compute, writers, progress, max_pixels, workers)
    return {"unclassified": int(counts[0]), **{c: int(counts[i + 1]) for i, c in enumerate(library.classes)}}


def _run(cube, bands, compute, writers, progress, max_pixels, workers=None) -> None:
    """Strips of *cube* read and computed by *workers* threads (None: every core), written in order."""
    def work(window):
        pixels, valid = cube.read_pixels(window, bands, reuse=True)  # each strip read by its worker, into its buffer
        return [out.reshape(window.height, window.width) for out in compute(pixels, valid)]

    with contextlib.ExitStack() as stack:
        opened = [stack.enter_context(w) for w in writers]
        process_blocks(cube.grid, work, opened, progress, workers=workers, windows=cube.strips(max_pixels))
    cube.close()
