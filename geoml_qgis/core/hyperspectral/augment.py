"""Training sets from few library spectra: mixing, illumination and noise.

Every generated spectrum belongs to one class: a library spectrum of that class
mixed linearly with spectra of one or two other classes, the class keeping at
least the *dominance* share; then scaled by an illumination factor and given
white Gaussian noise at the chosen signal-to-noise ratio (noise standard
deviation = mean reflectance of the spectrum / SNR).
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError


def augment(
    spectra: np.ndarray,
    y: np.ndarray,
    n_per_class: int = 500,
    snr: float | None = 100.0,
    illumination: tuple[float, float] = (0.5, 1.5),
    dominance: float = 0.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate a class-balanced training set.

    Parameters
    ----------
    spectra : ``(n, b)``
        Library spectra on the model's bands (no NaN).
    y : ``(n,)`` int
        Class index of each spectrum (0..k-1).
    n_per_class : int
        Spectra generated per class.
    snr : float or None
        Signal-to-noise ratio of the added noise; None adds none.
    illumination : (low, high)
        Range of the uniform brightness factor.
    dominance : float in (0.5, 1]
        Smallest share of the spectrum's own class in a mixture; 1 disables mixing.

    Returns
    -------
    X : ``(k * n_per_class, b)`` float32, labels ``(k * n_per_class,)`` int64
    """
    spectra = np.asarray(spectra, float)
    y = np.asarray(y, np.int64)
    if np.isnan(spectra).any():
        raise GeoMLError("Library spectra hold gaps (NaN) on the model's bands.")
    if not 0 < dominance <= 1:
        raise GeoMLError("The dominance threshold must be in (0, 1].")
    rng = np.random.default_rng(seed)
    classes = np.unique(y)
    members = {c: np.flatnonzero(y == c) for c in classes}
    X, labels = [], []
    for c in classes:
        own = spectra[rng.choice(members[c], n_per_class)]
        others_idx = np.flatnonzero(y != c)
        if others_idx.size and dominance < 1:
            share = rng.uniform(0.0, 1.0 - dominance, n_per_class)[:, None]
            split = rng.uniform(0.0, 1.0, n_per_class)[:, None] * (rng.uniform(size=(n_per_class, 1)) < 0.5)
            a = spectra[rng.choice(others_idx, n_per_class)]
            b = spectra[rng.choice(others_idx, n_per_class)]
            mix = (1 - share) * own + share * ((1 - split) * a + split * b)
        else:
            mix = own
        mix = mix * rng.uniform(*illumination, (n_per_class, 1))
        if snr:
            mix = mix + rng.normal(size=mix.shape) * (mix.mean(axis=1, keepdims=True) / snr)
        X.append(mix)
        labels.append(np.full(n_per_class, c))
    return np.concatenate(X).astype(np.float32), np.concatenate(labels)
