"""Experimental variograms (2D/3D, optionally directional) and weighted least-squares model fitting."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares

from ..errors import GeoMLError
from .models import MODELS, VariogramModel

#: pairs evaluated at once while building an experimental variogram
_PAIR_CHUNK = 4_000_000


@dataclass
class ExperimentalVariogram:
    """Semivariances by lag class.

    Attributes
    ----------
    lags : ndarray (L,)
        Mean pair distance of each non-empty lag class.
    gamma : ndarray (L,)
        Half the mean squared difference of the pairs in the class.
    counts : ndarray (L,)
        Number of pairs per class.
    max_lag, width : float
        Largest distance used and lag class width.
    n_zero_pairs : int
        Pairs at zero distance (duplicate coordinates), left out of the classes.
    direction, tolerance : float or None
        Direction (degrees counter-clockwise from east) and angular tolerance, when directional.
    """

    lags: np.ndarray
    gamma: np.ndarray
    counts: np.ndarray
    max_lag: float
    width: float
    n_zero_pairs: int = 0
    direction: float | None = None
    tolerance: float | None = None
    variance: float = float("nan")


def experimental_variogram(
    coords: np.ndarray, values: np.ndarray, n_lags: int = 15, max_lag: float | None = None,
    direction: float | None = None, tolerance: float = 22.5,
) -> ExperimentalVariogram:
    """Classical (Matheron) experimental variogram of ``values (n,)`` at ``coords (n, 2|3)``.

    ``max_lag`` defaults to a third of the diagonal of the samples' bounding box (gstat's
    default cutoff), split into ``n_lags`` equal classes. With ``direction`` (2D only), only
    pairs whose separation vector lies within ``tolerance`` degrees of that direction count.
    Pairs at zero distance are counted separately (``n_zero_pairs``), never binned.
    """
    xy = np.asarray(coords, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    n = len(z)
    if n < 3:
        raise GeoMLError("A variogram needs at least 3 samples.")
    if np.all(z == z[0]):
        raise GeoMLError("All values are equal: the variogram is flat at zero and there is nothing to krige.")
    if n_lags < 2:
        raise GeoMLError("Use at least 2 lag classes.")
    if max_lag is None:
        max_lag = float(np.linalg.norm(xy.max(axis=0) - xy.min(axis=0))) / 3.0
    if not max_lag > 0:
        raise GeoMLError("The maximum lag distance must be positive (are all samples at one location?).")
    if direction is not None and xy.shape[1] != 2:
        raise GeoMLError("Directional variograms are computed for 2D samples only.")
    width = max_lag / n_lags
    sums = np.zeros(n_lags)
    dsum = np.zeros(n_lags)
    counts = np.zeros(n_lags, dtype=np.int64)
    zero_pairs = 0
    rows = max(1, _PAIR_CHUNK // n)
    for s in range(0, n - 1, rows):
        i = np.arange(s, min(n - 1, s + rows))
        diff = xy[None, :, :] - xy[i, None, :]  # (r, n, d)
        h = np.sqrt(np.einsum("rnd,rnd->rn", diff, diff))
        keep = np.arange(n)[None, :] > i[:, None]
        zero_pairs += int(np.count_nonzero(keep & (h == 0)))
        keep &= (h > 0) & (h <= max_lag)
        if direction is not None:
            ang = np.degrees(np.arctan2(diff[..., 1], diff[..., 0]))
            off = np.abs((ang - direction + 90.0) % 180.0 - 90.0)
            keep &= off <= tolerance
        hk = h[keep]
        sq = np.square(z[None, :] - z[i, None])[keep]
        cls = np.minimum((hk / width).astype(np.int64), n_lags - 1)
        sums += np.bincount(cls, weights=sq, minlength=n_lags)
        dsum += np.bincount(cls, weights=hk, minlength=n_lags)
        counts += np.bincount(cls, minlength=n_lags)
    ok = counts > 0
    if ok.sum() < 2:
        raise GeoMLError(
            "Too few sample pairs within the maximum lag distance to compute a variogram; "
            "increase the maximum lag or the number of samples."
        )
    return ExperimentalVariogram(
        dsum[ok] / counts[ok], 0.5 * sums[ok] / counts[ok], counts[ok], float(max_lag), float(width),
        zero_pairs, direction, tolerance if direction is not None else None, float(np.var(z)),
    )


def fit_variogram(
    ev: ExperimentalVariogram, kind: str = "auto", nugget: float | None = None, sill: float | None = None,
    range_: float | None = None, shape: float | None = None,
) -> tuple[VariogramModel, dict[str, float]]:
    """Fit a model to an experimental variogram by weighted least squares.

    Weights are ``N_j / h_j^2`` (pair count over squared lag: gstat's default), which favour
    the well-supported short lags that matter most for kriging. Parameters given (not None)
    are kept fixed; ``sill`` is the total sill. ``kind="auto"`` fits every model and keeps
    the one with the smallest weighted squared error.

    Returns
    -------
    model : VariogramModel
    errors : dict
        Weighted sum of squared errors of every model tried.
    """
    if not np.any(ev.gamma > 0):
        raise GeoMLError("All values are equal: the variogram is flat at zero and there is nothing to krige.")
    kinds = MODELS if kind == "auto" else (kind,)
    if kind != "auto" and kind not in MODELS:
        raise GeoMLError(f"Unknown variogram model '{kind}'; use auto or one of {', '.join(MODELS)}.")
    w = np.sqrt(ev.counts / np.maximum(ev.lags, 1e-12 * ev.max_lag) ** 2)
    w /= w.max()
    results, errors = {}, {}
    for k in kinds:
        model, err = _fit_one(ev, k, w, nugget, sill, range_, shape)
        results[k], errors[k] = model, err
    best = min(errors, key=errors.get)
    return results[best], errors


def _fit_one(ev, kind, w, nugget, sill, range_, shape):
    gmax = float(ev.gamma.max())
    names, x0, lo, hi = [], [], [], []

    def free(name, guess, low, high):
        names.append(name)
        x0.append(min(max(guess, low), high))
        lo.append(low)
        hi.append(high)

    if nugget is None:
        free("nugget", 0.1 * gmax if sill is None else 0.1 * sill, 0.0, gmax if sill is None else sill)
    if sill is None:
        free("psill", max(gmax - (nugget or 0.1 * gmax), 1e-6 * gmax), 0.0, 3.0 * gmax)
    if range_ is None:
        free("range", 0.5 * ev.max_lag, 1e-3 * ev.max_lag, 5.0 * ev.max_lag)
    if kind == "stable" and shape is None:
        free("shape", 1.0, 0.05, 2.0)

    def build(x):
        p = dict(zip(names, x))
        ng = nugget if nugget is not None else p["nugget"]
        total = sill if sill is not None else ng + p["psill"]
        return VariogramModel(kind, float(ng), float(max(total, ng + 1e-12 * gmax)),
                              float(range_ if range_ is not None else p["range"]),
                              float(shape if shape is not None else p.get("shape", 1.0)))

    def residuals(x):
        return w * (build(x).gamma(ev.lags) - ev.gamma)

    if names:
        sol = least_squares(residuals, np.array(x0), bounds=(np.array(lo), np.array(hi)), method="trf")
        x = sol.x
    else:
        x = np.array([])
    model = build(x)
    return model, float(np.sum(residuals(x) ** 2))
