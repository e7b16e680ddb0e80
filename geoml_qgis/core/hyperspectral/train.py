"""Training a spectral CNN from a library and/or labelled pixels, for a target sensor.

The training spectra are resampled onto the *sensor* bands the model is meant
for: the target cube's usable bands when one is given, else the training cube's,
else the library's own sampling. Sensor bands where a library spectrum has no
value are dropped. The model then bins them internally (see :mod:`.cnn`).
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from ..progress import ProgressCallback, scaled
from .augment import augment
from .library import SpectralLibrary
from .metrics import scores
from .resample import default_fwhm, resample_spectra

MIN_BANDS = 10


def sensor_library(sources: list[SpectralLibrary], wavelengths: np.ndarray | None, fwhm: np.ndarray | None) -> SpectralLibrary:
    """All *sources* on one set of sensor bands (default: the first source's), with bands lacking any value dropped."""
    if wavelengths is None:
        wavelengths = sources[0].wavelengths
        fwhm = sources[0].fwhm if sources[0].fwhm is not None else default_fwhm(wavelengths)
    spectra, labels = [], []
    for lib in sources:
        same = lib.wavelengths.size == len(wavelengths) and np.allclose(lib.wavelengths, wavelengths, atol=0.01)
        spectra.append(lib.spectra if same else resample_spectra(lib.spectra, lib.wavelengths, wavelengths, fwhm, lib.fwhm))
        labels += lib.labels
    x = np.concatenate(spectra)
    ok = np.isfinite(x).all(axis=0)
    if ok.sum() < MIN_BANDS:
        lo, hi = min(s.wavelengths[0] for s in sources), max(s.wavelengths[-1] for s in sources)
        raise GeoMLError(
            f"The training spectra ({lo:.0f}-{hi:.0f} nm) cover only {int(ok.sum())} of the target sensor's "
            f"bands ({wavelengths[0]:.0f}-{wavelengths[-1]:.0f} nm); at least {MIN_BANDS} are needed: the "
            "spectral ranges do not overlap enough."
        )
    idx = np.flatnonzero(ok)  # gaps (water-vapour bands) are fine: the model resamples the bands it has
    return SpectralLibrary(np.asarray(wavelengths)[idx], x[:, idx], labels, np.asarray(fwhm)[idx], "training set")


def train(library: SpectralLibrary, preprocessing: str = "brightness", use_augmentation: bool = True,
          epochs: int = 40, seed: int = 0, snr: float = 100.0, dominance: float = 0.5, n_per_class: int = 600,
          max_bands: int = 64, progress: ProgressCallback | None = None):
    """Train a :class:`~.cnn.SpectralCNN` on *library* (already on the sensor bands, see :func:`sensor_library`).

    The held-out set: with augmentation, spectra generated independently (another
    seed) from the same library spectra; without, a stratified 20 % of the spectra.
    Returns ``(model, held_out_scores)``.
    """
    from .cnn import SpectralCNN

    library.require_classes(2)
    y = library.y
    x = library.spectra
    if use_augmentation:
        X_tr, y_tr = augment(x, y, n_per_class, snr, dominance=dominance, seed=seed)
        X_va, y_va = augment(x, y, max(n_per_class // 5, 20), snr, dominance=dominance, seed=seed + 10_000)
    else:
        rng = np.random.default_rng(seed)
        val = np.zeros(len(y), bool)
        for c in np.unique(y):
            members = rng.permutation(np.flatnonzero(y == c))
            val[members[:len(members) // 5]] = True
        if val.sum() == 0 or (~val).sum() < 2 or len(np.unique(y[~val])) < len(library.classes):
            raise GeoMLError("Too few spectra per class to hold some out without augmentation; switch augmentation on.")
        X_tr, y_tr, X_va, y_va = x[~val], y[~val], x[val], y[val]
    model = SpectralCNN(preprocessing, max_bands, epochs, seed=seed)
    model.fit(X_tr, y_tr, library.wavelengths, library.fwhm, library.classes, X_va, y_va, progress=scaled(progress, 0, 0.95))
    pred = model.predict(X_va)
    held = scores(y_va + 1, pred + 1, library.classes)
    return model, held


def train_and_save(out_model, out_report=None, library_path=None, training_cube=None, label_geometries=(),
                   label_classes=(), target_cube=None, preprocessing: str = "brightness",
                   use_augmentation: bool = True, epochs: int = 40, seed: int = 0, snr: float = 100.0,
                   parameters: dict | None = None, warn=None, progress: ProgressCallback | None = None) -> dict:
    """The whole training step: read the sources, resample to the sensor, train, write model and report.

    *label_geometries* are WKT strings in the training cube's CRS with their
    *label_classes*. Returns a summary (classes, bands, held-out scores, model hash).
    """
    from .classify import open_cube
    from .labels import label_pixels
    from .library import labelled_pixels, read_library
    from .report import write_training_report

    sources, names = [], []
    if library_path:
        sources.append(read_library(library_path))
        names.append(str(library_path))
    if training_cube:
        if not len(label_geometries):
            raise GeoMLError("A training cube needs training labels (points or polygons) and their class field.")
        cube = open_cube(training_cube, warn)
        rows, cols, labels = label_pixels(cube.grid, label_geometries, label_classes)
        sources.append(labelled_pixels(cube, rows, cols, labels))
        names.append(f"{cube.name}: {len(labels)} labelled pixels")
        sensor = (cube.wavelengths[cube.good], cube.fwhm[cube.good])
        cube.close()
    elif library_path:
        sensor = (None, None)
    else:
        raise GeoMLError("Give a spectral library, or a training cube with labels, or both.")
    if target_cube:
        cube = open_cube(target_cube, warn)
        sensor = (cube.wavelengths[cube.good], cube.fwhm[cube.good])
        cube.close()
    lib = sensor_library(sources, *sensor)
    lib.require_classes(2)
    if not use_augmentation and warn and len(lib.labels) < 10 * len(lib.classes):
        warn(f"Only {len(lib.labels)} training spectra for {len(lib.classes)} classes and no augmentation: "
             "the model will be weak; switch augmentation on.")
    model, held = train(lib, preprocessing, use_augmentation, epochs, seed, snr, progress=progress)
    info = {
        "training data": "; ".join(names), "classes (1..k)": ", ".join(lib.classes),
        "spectra per class": ", ".join(f"{c}: {lib.labels.count(c)}" for c in lib.classes),
        "sensor bands": f"{lib.wavelengths.size} ({lib.wavelengths[0]:.0f}-{lib.wavelengths[-1]:.0f} nm)",
        "network input": f"{model.grid_.size} bands resampled at {model.grid_[1] - model.grid_[0]:.1f} nm",
        "preprocessing": preprocessing,
        "augmentation": f"mixing (own class >= 50 %), illumination x0.5-1.5, noise SNR {snr:g}" if use_augmentation else "none",
        "epochs": epochs, "seed": seed,
    }
    digest = model.save(out_model, {"held_out": held, "training_data": names, "parameters": parameters or {}})
    if out_report:
        write_training_report(out_report, model.history_, held, lib.classes, info)
    return {"classes": lib.classes, "held_out": held, "model_sha256": digest, "n_bands": int(lib.wavelengths.size)}
