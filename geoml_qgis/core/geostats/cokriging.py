"""Linear model of coregionalisation (LMC) and ordinary cokriging of two or more variables.

An LMC for variables ``1..V`` is ``gamma_ab(h) = sum_s B_s[a, b] g_s(h)`` over shared unit structures
``g_s`` (a nugget and model structures with fixed ranges), with every coefficient matrix ``B_s``
positive semi-definite: then every cokriging system is a valid covariance. :func:`fit_lmc` fits it as
gstat's ``fit.lmc``: the partial sills of each direct and cross variogram by weighted least squares
(weights ``N_j / h_j^2``, ranges fixed; direct sills kept non-negative), then each ``B_s`` projected
onto the positive semi-definite matrices (negative eigenvalues set to 0).

:class:`OrdinaryCokriging` estimates one variable from the data of all (gstat's ``predict`` on a
multivariable ``gstat`` object with ``z ~ 1`` for each): weights of the estimated variable sum to 1,
those of each other variable to 0; variance ``C_pp(0) - lambda . c0 - mu . f0``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..errors import GeoMLError
from ..threads import single_thread
from .models import MODELS, VariogramModel
from .universal import group_by_set
from .variogram import experimental_variogram

#: relative tolerance on negative eigenvalues of a coefficient matrix
_PSD_TOL = 1e-10


def _unit(kind: str, rng: float, h: np.ndarray) -> np.ndarray:
    if kind == "nugget":
        return (np.asarray(h) > 0).astype(np.float64)
    return VariogramModel(kind, 0.0, 1.0, rng).gamma(h)


@dataclass
class LMC:
    """Structures ``(kind, range)`` (``kind`` "nugget" or a model name, practical range) and coefficient
    matrices ``sills (S, V, V)``; ``names`` of the variables."""

    structures: tuple[tuple[str, float], ...]
    sills: np.ndarray
    names: tuple[str, ...]

    def __post_init__(self) -> None:
        self.sills = np.asarray(self.sills, dtype=np.float64)
        S, V = len(self.structures), len(self.names)
        if self.sills.shape != (S, V, V):
            raise GeoMLError(f"An LMC of {V} variables and {S} structures needs {S} matrices of {V} x {V}.")
        for kind, rng in self.structures:
            if kind != "nugget" and (kind not in MODELS or not rng > 0):
                raise GeoMLError(f"Unknown LMC structure '{kind}' or range {rng}.")
        for s, b in enumerate(self.sills):
            if not np.allclose(b, b.T):
                raise GeoMLError("Each coefficient matrix of a coregionalisation must be symmetric.")
            ev = np.linalg.eigvalsh(b)
            if ev.min() < -_PSD_TOL * max(1.0, abs(ev).max()):
                raise GeoMLError(
                    f"The coregionalisation is not positive definite (structure {s + 1}, eigenvalue {ev.min():.3g}): "
                    "cokriging with it could give negative variances. Fit it with fit_lmc, or lower the cross sills.")

    def to_dict(self) -> dict:
        return {"format": "geoml-lmc", "names": list(self.names),
                "structures": [{"kind": k, "range": r} for k, r in self.structures], "sills": self.sills.tolist()}

    def describe(self) -> str:
        parts = []
        for s, (k, r) in enumerate(self.structures):
            m = np.array2string(self.sills[s], precision=4, separator=", ").replace("\n", "")
            parts.append(f"{k}{'' if k == 'nugget' else f' (range {r:g})'} {m}")
        return f"LMC of {', '.join(self.names)}: " + " + ".join(parts)

    def gamma(self, h: np.ndarray, a: int, b: int) -> np.ndarray:
        """Direct (a == b) or cross semivariance at distances *h* (0 at h == 0)."""
        return sum(self.sills[s, a, b] * _unit(k, r, h) for s, (k, r) in enumerate(self.structures))

    def covariance(self, h: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``C_ab(h) = sum_s B_s[a, b] (1 - g_s(h))`` for arrays of distances and variable indices."""
        out = np.zeros(np.broadcast(h, a, b).shape)
        for s, (k, r) in enumerate(self.structures):
            out += self.sills[s][a, b] * (1.0 - _unit(k, r, h))
        return out


def cross_variogram(coords: np.ndarray, za: np.ndarray, zb: np.ndarray, lags: int = 15, max_lag: float | None = None):
    """Classical cross-variogram of collocated ``za``, ``zb``: ``mean((za_i - za_j)(zb_i - zb_j)) / 2`` per lag.

    Computed as ``(gamma_{a+b} - gamma_a - gamma_b) / 2`` on the same lag classes.
    """
    ga = experimental_variogram(coords, za, lags, max_lag)
    gb = experimental_variogram(coords, zb, lags, max_lag)
    gs = experimental_variogram(coords, za + zb, lags, max_lag)
    ga.gamma = 0.5 * (gs.gamma - ga.gamma - gb.gamma)
    return ga


def fit_lmc(coords: np.ndarray, values: np.ndarray, structures, names=None, lags: int = 15,
            max_lag: float | None = None, correct_diagonal: float = 1.0) -> LMC:
    """Fit an LMC to variables ``values (n, V)`` observed at the same ``coords (n, 2)`` (gstat's fit.lmc).

    *structures*: ``[("nugget", 0), ("spherical", 300.0), ("spherical", 1200.0), ...]`` (a nugget and
    nested structures), ranges kept fixed. *correct_diagonal*: factor on the direct sills after the
    projection (gstat's ``correct.diagonal``; slightly above 1 makes every matrix strictly positive definite).
    """
    z = np.asarray(values, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] < 2:
        raise GeoMLError("Cokriging needs at least two variables.")
    if not np.isfinite(z).all():
        raise GeoMLError("The LMC is fitted on samples where every variable has a value (skip NULLs first).")
    V = z.shape[1]
    structures = tuple((str(k), float(r)) for k, r in structures)
    S = len(structures)
    sills = np.zeros((S, V, V))
    for a in range(V):
        for b in range(a, V):
            ev = (experimental_variogram(coords, z[:, a], lags, max_lag) if a == b
                  else cross_variogram(coords, z[:, a], z[:, b], lags, max_lag))
            design = np.column_stack([_unit(k, r, ev.lags) for k, r in structures])
            sills[:, a, b] = sills[:, b, a] = _fit_sills(design, ev, direct=a == b)
    for s in range(S):
        vals, vecs = np.linalg.eigh(sills[s])
        sills[s] = (vecs * np.maximum(vals, 0.0)) @ vecs.T
        sills[s][np.diag_indices(V)] *= correct_diagonal
    return LMC(structures, sills, tuple(names or [f"v{i + 1}" for i in range(V)]))


def _fit_sills(design: np.ndarray, ev, direct: bool) -> np.ndarray:
    """Partial sills of one variogram by weighted least squares (weights ``N_j / h_j^2``). For a direct
    variogram a negative sill is fixed at 0 and the others refitted, until none is negative (as gstat's
    fit.variogram); cross sills may be negative."""
    w = np.sqrt(ev.counts / ev.lags ** 2)
    free = np.ones(design.shape[1], bool)
    while True:
        coef = np.zeros(design.shape[1])
        if free.any():
            coef[free] = np.linalg.lstsq(design[:, free] * w[:, None], ev.gamma * w, rcond=None)[0]
        if not direct or not (coef[free] < 0).any():
            return coef
        free &= coef > 0


class OrdinaryCokriging:
    """Ordinary cokriging of variable ``target`` from all variables of an :class:`LMC`.

    Parameters
    ----------
    lmc : LMC
    target : int
        Index of the variable estimated.
    neighbours : int
        Nearest samples *of each variable* per target (0: all samples).
    """

    def __init__(self, lmc: LMC, target: int = 0, neighbours: int = 0):
        self.lmc, self.target, self.neighbours = lmc, int(target), int(neighbours)

    def fit(self, coords: np.ndarray, values: np.ndarray) -> "OrdinaryCokriging":
        """``coords (n, 2)`` and ``values (n, V)``; NaN where a variable was not measured (heterotopic data)."""
        coords = np.asarray(coords, dtype=np.float64)
        z = np.asarray(values, dtype=np.float64)
        V = len(self.lmc.names)
        if z.shape != (len(coords), V):
            raise GeoMLError(f"Give one column per variable of the coregionalisation ({V}).")
        rows, var = np.nonzero(np.isfinite(z))
        self.xy_, self.var_, self.z_ = coords[rows], var, z[rows, var]
        self.trees_ = []
        for v in range(V):
            sel = np.flatnonzero(var == v)
            if len(sel) < 1:
                raise GeoMLError(f"Variable {self.lmc.names[v]} has no value.")
            self.trees_.append((cKDTree(self.xy_[sel]), sel))
        if (var == self.target).sum() < 1:
            raise GeoMLError("The estimated variable has no data.")
        return self

    def _neighbours(self, t: np.ndarray) -> np.ndarray:
        if self.neighbours == 0:
            return np.broadcast_to(np.arange(len(self.z_)), (len(t), len(self.z_)))
        parts = []
        for tree, sel in self.trees_:
            k = min(self.neighbours, len(sel))
            _, i = tree.query(t, k=k, workers=-1)
            parts.append(sel[i.reshape(len(t), k)])
        return np.hstack(parts)

    def predict(self, targets: np.ndarray, covariates=None):
        """Estimate and variance ``(m,)`` of the target variable at ``targets (m, 2)`` (*covariates* is
        unused: the same call as the trend estimators, for the raster writer)."""
        from .kriging import KrigingResult

        t = np.asarray(targets, dtype=np.float64)
        idx = self._neighbours(t)
        sets, groups, _ = group_by_set(idx) if self.neighbours else (idx[:1], np.zeros(len(t), int), None)
        est, var = np.empty(len(t)), np.empty(len(t))
        with single_thread(torch=False):  # many small systems: BLAS threads only get in the way
            self._solve_sets(t, sets, groups, est, var)
        return KrigingResult(est, var)

    def _solve_sets(self, t, sets, groups, est, var) -> None:
        V, p = len(self.lmc.names), self.target
        for g, nb in enumerate(sets):
            cells = np.flatnonzero(groups == g)
            xy, vv = self.xy_[nb], self.var_[nb]
            k = len(nb)
            a = np.zeros((k + V, k + V))
            h = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
            a[:k, :k] = self.lmc.covariance(h, vv[:, None], vv[None, :])
            f = (vv[:, None] == np.arange(V)[None, :]).astype(float)
            a[:k, k:], a[k:, :k] = f, f.T
            d0 = np.sqrt(((xy[None] - t[cells][:, None]) ** 2).sum(-1))  # (c, k)
            b = np.zeros((len(cells), k + V))
            b[:, :k] = self.lmc.covariance(d0, vv[None, :], np.full_like(vv, p)[None, :])
            b[:, k + p] = 1.0
            w = np.linalg.solve(a, b.T).T
            est[cells] = w[:, :k] @ self.z_[nb]
            var[cells] = self.lmc.sills[:, p, p].sum() - np.einsum("ci,ci->c", w, b)


class CollocatedCokriging:
    """Collocated simple cokriging: the primary variable (index 0 of the :class:`LMC`) from its ``neighbours``
    nearest samples and the secondary variable (index 1) at the target only, e.g. a geophysical raster.

    Means are those of the data (simple cokriging: with a single secondary value an ordinary
    constraint would give it weight 0). Estimate ``m1 + sum_i l_i (z_i - m1) + l_s (s0 - m2)``, variance
    ``C_11(0) - l . c0``; the cross covariance between the target and its own secondary value is the
    LMC's full cross sill.
    """

    def __init__(self, lmc: LMC, neighbours: int = 16):
        if len(lmc.names) != 2:
            raise GeoMLError("Collocated cokriging uses a primary and one secondary variable.")
        self.lmc, self.neighbours = lmc, int(neighbours)

    def fit(self, coords: np.ndarray, primary: np.ndarray, secondary_mean: float) -> "CollocatedCokriging":
        """Primary samples ``coords (n, 2)``, ``primary (n,)``; *secondary_mean*: mean of the secondary variable."""
        self.xy_ = np.asarray(coords, dtype=np.float64)
        self.z_ = np.asarray(primary, dtype=np.float64)
        if not (np.isfinite(self.z_).all() and np.isfinite(self.xy_).all()):
            raise GeoMLError("Primary samples need finite coordinates and values.")
        self.mean_ = (float(self.z_.mean()), float(secondary_mean))
        self.tree_ = cKDTree(self.xy_)
        return self

    def predict(self, targets: np.ndarray, covariates: np.ndarray):
        """Estimate and variance ``(m,)`` at ``targets (m, 2)`` with the secondary values ``covariates (m, 1)``."""
        from .kriging import KrigingResult

        t = np.asarray(targets, dtype=np.float64)
        s0 = np.asarray(covariates, dtype=np.float64).reshape(len(t))
        n = len(self.z_)
        k = n if self.neighbours == 0 else min(self.neighbours, n)
        idx = np.broadcast_to(np.arange(n), (len(t), n)) if k == n else self.tree_.query(t, k=k, workers=-1)[1].reshape(len(t), k)
        est, var = np.full(len(t), np.nan), np.full(len(t), np.nan)
        ok = np.isfinite(s0)
        sets, groups, _ = group_by_set(idx[ok]) if k < n else (idx[:1], np.zeros(int(ok.sum()), int), None)
        rows = np.flatnonzero(ok)
        with single_thread(torch=False):  # many small systems: BLAS threads only get in the way
            self._solve_sets(t, s0, sets, groups, rows, est, var)
        return KrigingResult(est, var)

    def _solve_sets(self, t, s0, sets, groups, rows, est, var) -> None:
        zero, one = np.zeros(1, int), np.ones(1, int)
        c_ss = self.lmc.covariance(np.zeros(1), one, one)[0]
        c_ps0 = self.lmc.covariance(np.zeros(1), zero, one)[0]
        for g, nb in enumerate(sets):
            cells = rows[groups == g]
            xy = self.xy_[nb]
            h = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
            d0 = np.sqrt(((xy[None] - t[cells][:, None]) ** 2).sum(-1))  # (c, k)
            c_pp = self.lmc.covariance(h, zero, zero)
            c_p0 = self.lmc.covariance(d0, zero, zero)  # primary data to primary target
            c_ps = self.lmc.covariance(d0, zero, one)  # primary data to the collocated secondary
            kk = len(nb)
            a = np.empty((len(cells), kk + 1, kk + 1))  # one system per cell: the last row/column differ
            a[:, :-1, :-1] = c_pp
            a[:, :-1, -1] = a[:, -1, :-1] = c_ps
            a[:, -1, -1] = c_ss
            b = np.concatenate([c_p0, np.full((len(cells), 1), c_ps0)], axis=1)
            lam = np.linalg.solve(a, b[:, :, None])[:, :, 0]
            est[cells] = (self.mean_[0] + lam[:, :-1] @ (self.z_[nb] - self.mean_[0])
                          + lam[:, -1] * (s0[cells] - self.mean_[1]))
            var[cells] = self.lmc.sills[:, 0, 0].sum() - np.einsum("ci,ci->c", lam, b)


def leave_one_out_cokriging(lmc: LMC, coords: np.ndarray, values: np.ndarray, neighbours: int = 0,
                            target: int = 0):
    """Leave-one-out cross-validation of ordinary cokriging (gstat's ``gstat.cv``, ``remove.all = FALSE``):
    each sample's value of the *target* variable is left out in turn, the other variables' values there
    are kept. Returns a :class:`~.crossval.CrossValidation` (errors = estimate - observed)."""
    from .crossval import CrossValidation, _summarise, _table

    coords = np.asarray(coords, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    rows = np.flatnonzero(np.isfinite(z[:, target]))
    if len(rows) < 3:
        raise GeoMLError("Cross-validation needs at least 3 values of the estimated variable.")
    est, var = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    for j, i in enumerate(rows):
        zi = z.copy()
        zi[i, target] = np.nan
        r = OrdinaryCokriging(lmc, target, neighbours).fit(coords, zi).predict(coords[i:i + 1])
        est[j], var[j] = r.estimate[0], r.variance[0]
    cv = CrossValidation(_table(coords[rows], z[rows, target], est, var), "leave-one-out")
    cv.summary = _summarise(cv.table)
    return cv


def blocked_kfold_cokriging(lmc: LMC, coords: np.ndarray, values: np.ndarray, neighbours: int = 0, target: int = 0,
                            n_folds: int = 5, block_size: float | None = None, seed: int = 0,
                            remove_all: bool = False, progress=None):
    """Spatially blocked k-fold cross-validation of ordinary cokriging (gstat's ``gstat.cv`` with ``nfold``
    = each sample's fold): the *target* values of a fold are left out together and estimated from the
    other folds; the other variables' values at the fold's samples are kept (``remove_all=True`` leaves
    them out too). Folds as :func:`.crossval.spatial_folds` (``block_size`` default: the longest range of
    the coregionalisation); the model stays fixed. Returns a :class:`~.crossval.CrossValidation`."""
    from .crossval import run_blocked_folds

    coords = np.asarray(coords, dtype=np.float64)
    z = np.asarray(values, dtype=np.float64)
    rows = np.flatnonzero(np.isfinite(z[:, target]))

    def fit_predict(train: np.ndarray, test: np.ndarray, progress):
        zi = z.copy()
        zi[rows[test], slice(None) if remove_all else target] = np.nan
        return OrdinaryCokriging(lmc, target, neighbours).fit(coords, zi).predict(coords[rows[test]])

    block = block_size or max((r for k, r in lmc.structures if k != "nugget"), default=0.0)
    return run_blocked_folds(coords[rows], z[rows, target], fit_predict, block, n_folds, seed, 3, progress)
