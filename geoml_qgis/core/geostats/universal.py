"""Universal kriging (coordinate drift) and kriging with external drift (covariates), moving or global neighbourhood.

For a target ``x0`` with neighbours ``1..k``, covariances ``C (k, k)``, drift rows ``F (k, p)``
(:class:`~.drift.Drift`), ``c0 = C(x_i - x0)`` and ``f0`` the target's drift row, the weights
``lambda`` and Lagrange multipliers ``mu`` solve::

    [ C   F ] [ lambda ]   [ c0 ]
    [ F^T 0 ] [   mu   ] = [ f0 ]

with estimate ``lambda . z`` and kriging variance ``C(0) - lambda . c0 - mu . f0`` (covariances
from the variogram as ``sill - gamma(h)``; ``C(0)`` is the total sill, so the nugget counts at
the target, as in gstat's point kriging). gstat's ``krige(z ~ x + y, ...)`` (UK) and
``krige(z ~ covariate, ...)`` (KED) solve the same system.

Targets sharing a neighbour set share one matrix. Dense targets with a moving neighbourhood and no
search radius take the path of :mod:`.kriging`: sets grouped with their distances
(:func:`.neighbours.grouped_sets`), the drift rows bordered onto the covariances of each set, one
batched LU solve per set with every target it serves (:mod:`.setsolve`).
"""
from __future__ import annotations

import threading

import numpy as np
from scipy.spatial import cKDTree

from ..errors import GeoMLError
from ..progress import ProgressCallback, report
from ..threads import single_thread
from .drift import Drift
from .kriging import EXACT_EPS, MAX_GLOBAL, KrigingResult, check_samples
from .neighbours import GroupedSets, grouped_sets
from .setsolve import Systems, solve_sets

#: float64 elements of one batch of augmented matrices
_BATCH_ELEMENTS = 2_000_000


def group_by_set(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group rows of neighbour indices ``idx (m, k)`` by set: ``(sets (G, k), groups (m,), order (m,))``.

    ``order`` sorts the rows by group; ``sets[g]`` are the indices of group g in the order of its first row.
    """
    key = np.sort(idx, axis=1)
    _, first, groups = np.unique(key, axis=0, return_index=True, return_inverse=True)
    groups = groups.ravel()
    return idx[first], groups, np.argsort(groups, kind="stable")


class UniversalKriging:
    """Kriging with a trend: universal kriging and kriging with external drift.

    Parameters
    ----------
    model : VariogramModel or NestedModel
        Variogram of the residuals from the trend.
    drift : {"constant", "linear", "quadratic"} or None
        Coordinate drift. ``"constant"`` with covariates is pure kriging with external drift
        (gstat's ``z ~ covariate``); ``"constant"`` without covariates is ordinary kriging;
        None is simple kriging with known mean 0 (residuals of a fitted trend).
    neighbours : int
        Nearest samples per target (default 32); 0 = all samples (global neighbourhood).
    search_radius : float, optional
        Only samples within this (anisotropy-corrected) distance are used.

    Examples
    --------
    >>> ked = UniversalKriging(model, "constant", 32).fit(xy, z, covariates=dist[:, None])  # doctest: +SKIP
    >>> res = ked.predict(cells, covariates=dist_at_cells[:, None])   # estimate, variance: (m,)
    """

    #: point targets (the right-hand side of :meth:`_rhs`): the grouped-set path applies
    point_support = True

    def __init__(self, model, drift: str = "linear", neighbours: int = 32, search_radius: float | None = None,
                 covariate_names: tuple[str, ...] = ()):
        if neighbours < 0:
            raise GeoMLError("The number of neighbours cannot be negative (0 means all samples).")
        if search_radius is not None and not search_radius > 0:
            raise GeoMLError("The search radius must be a positive distance (leave it empty for no limit).")
        self.model = model
        self.drift = drift
        self.neighbours = int(neighbours)
        self.search_radius = search_radius
        self.covariate_names = tuple(covariate_names)

    def fit(self, coords: np.ndarray, values: np.ndarray, covariates: np.ndarray | None = None) -> "UniversalKriging":
        """Store samples ``coords (n, 2|3)``, ``values (n,)`` and ``covariates (n, q)`` (external drift)."""
        coords, values = check_samples(coords, values)
        if self.drift is None:
            self.drift_, self.f_ = None, np.empty((len(coords), 0))
        else:
            n_cov = 0 if covariates is None else np.asarray(covariates).reshape(len(coords), -1).shape[1]
            self.drift_ = Drift(self.drift, n_cov, self.covariate_names)
            self.f_ = self.drift_.fit(coords, covariates)
        n, p = self.f_.shape
        self.k_ = n if self.neighbours == 0 else min(self.neighbours, n)
        if self.k_ > MAX_GLOBAL:
            raise GeoMLError(f"A neighbourhood of {self.k_} samples is too large to solve; use at most {MAX_GLOBAL}.")
        if self.k_ <= p:
            raise GeoMLError(
                f"{p} drift terms need more than {p} neighbours; use more neighbours or a simpler drift.")
        self.global_ = self.k_ == n and self.search_radius is None
        self.coords_ = coords
        self.centre_ = (coords.min(axis=0) + coords.max(axis=0)) / 2
        self._xy = self.model.transform(coords, self.centre_[:2])
        self._z = values
        self.tree_ = cKDTree(self._xy)
        rng = np.random.default_rng(20240611)
        self._hashes = tuple(rng.integers(0, np.iinfo(np.int64).max, n, dtype=np.uint64) for _ in range(2))
        self.n_singular_ = 0
        self._lock = threading.Lock()
        return self

    @property
    def n_samples(self) -> int:
        return len(self._z)

    def predict(self, targets: np.ndarray, covariates: np.ndarray | None = None,
                progress: ProgressCallback | None = None, chunk: int = 65536, workers: int = -1) -> KrigingResult:
        """Krige at ``targets (m, d)`` with the targets' ``covariates (m, q)``; NaN where a covariate is missing.

        *workers*: threads of the neighbour search (-1: every core).
        """
        t = np.asarray(targets, dtype=np.float64)
        if t.ndim != 2 or t.shape[1] != self._xy.shape[1]:
            raise GeoMLError(f"Targets need {self._xy.shape[1]} coordinates, like the samples.")
        q = 0 if self.drift_ is None else self.drift_.n_covariates
        if q and covariates is None:
            raise GeoMLError(f"The model was fitted with {q} covariate(s): give their values at the targets.")
        cov = None if q == 0 else np.asarray(covariates, dtype=np.float64).reshape(len(t), q)
        est, var = np.full(len(t), np.nan), np.full(len(t), np.nan)
        ok = np.isfinite(t).all(axis=1) if cov is None else np.isfinite(t).all(axis=1) & np.isfinite(cov).all(axis=1)
        sel = np.flatnonzero(ok)
        singular = 0
        report(progress, 0.0)
        for s in range(0, len(sel), chunk):
            rows = sel[s:s + chunk]
            f0 = self.design(t[rows], None if cov is None else cov[rows])
            tt = self.model.transform(t[rows], self.centre_[:2])
            if self.fast_path:
                e, v, bad = self.krige_groups(grouped_sets(self.tree_, tt, self.k_, workers, self._hashes), f0)
            elif self.global_:
                idx = np.broadcast_to(np.arange(self.n_samples), (len(rows), self.n_samples))
                e, v, bad, _ = self.solve_weights(tt, f0, idx, shared=True)
            else:
                ub = np.inf if self.search_radius is None else float(self.search_radius)
                _, idx = self.tree_.query(tt, k=self.k_, distance_upper_bound=ub, workers=workers)
                e, v, bad, _ = self.solve_weights(tt, f0, idx.reshape(len(rows), -1))
            est[rows], var[rows] = e, v
            singular += bad
            report(progress, min(1.0, (s + chunk) / max(len(sel), 1)))
        return KrigingResult(est, var, singular)

    @property
    def fast_path(self) -> bool:
        """Whether :meth:`predict` takes the grouped-set path: point targets, a drift (its constant
        makes the weights sum to one), a moving neighbourhood and no search radius."""
        return self.point_support and self.drift_ is not None and not self.global_ and self.search_radius is None

    def krige_groups(self, groups: GroupedSets, f0: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Estimate, variance ``(m,)`` and singular count of grouped targets with drift rows ``f0 (m, p)``."""
        k, sill = self.k_, self.model.sill
        m, p = len(groups.order), self.f_.shape[1]
        b = np.empty((m, k + p))
        cov = self.model.gamma(groups.distances, out=b[:, :k])
        np.subtract(sill, cov, out=cov)
        cov[groups.distances <= EXACT_EPS] = sill
        b[:, k:] = f0

        def pair(h):
            g = self.model.gamma(h, out=h)
            return np.subtract(sill, g, out=g)

        with single_thread(torch=False):
            e, wb, singular = solve_sets(Systems(self._xy, pair, sill, self.f_, groups.sets), b, groups.order,
                                         groups.starts, self._z[:, None], groups.pairs)
        est, var = e[:, 0], self.target_variance() - wb
        with self._lock:
            self.n_singular_ += singular
        return est, var, singular

    def design(self, coords: np.ndarray, covariates: np.ndarray | None = None) -> np.ndarray:
        """Drift rows ``(m, p)`` of locations (``(m, 0)`` for simple kriging)."""
        if self.drift_ is None:
            return np.empty((len(coords), 0))
        return self.drift_.design(coords, covariates)

    def solve(self, t: np.ndarray, f0: np.ndarray, idx: np.ndarray, shared: bool = False) -> KrigingResult:
        """Krige transformed targets ``t (m, d)`` with drift rows ``f0 (m, p)`` from neighbours ``idx (m, k)``.

        Index ``n`` marks an absent neighbour (search radius); targets with fewer real neighbours than
        drift terms + 1 get NaN. Used by :meth:`predict` and cross-validation.
        """
        est, var, bad, _ = self.solve_weights(t, f0, idx, shared)
        return KrigingResult(est, var, bad)

    def solve_weights(self, t: np.ndarray, f0: np.ndarray, idx: np.ndarray, shared: bool = False,
                      project: np.ndarray | None = None):
        """As :meth:`solve`, returning ``(estimate, variance, n_singular, projected)``.

        With ``project (n, q)`` (a column per sample), ``projected (m, q)`` is ``sum_i lambda_i project_i``
        for each target (regression kriging uses it for the trend's share of the variance); else None.
        """
        m, k = idx.shape
        p = self.f_.shape[1]
        est, var = np.full(m, np.nan), np.full(m, np.nan)
        proj = None if project is None else np.full((m, project.shape[1]), np.nan)
        enough = (idx < self.n_samples).sum(axis=1) > p
        if m == 0 or not enough.any():
            return est, var, 0, proj
        if shared:
            sets, groups, order = idx[:1], np.zeros(m, np.int64), np.arange(m)
        else:
            sets, groups, order = group_by_set(idx)
        singular = 0
        per = max(1, _BATCH_ELEMENTS // (k + p) ** 2)
        c_zero = self.target_variance()
        with single_thread(torch=False):
            bounds = np.searchsorted(groups[order], np.arange(0, len(sets) + per, per))
            for b0, b1 in zip(bounds[:-1], bounds[1:]):
                if b0 == b1:
                    continue
                cells = order[b0:b1]
                g0 = groups[cells[0]]
                inv, bad = self._inverses(sets[g0:groups[cells[-1]] + 1])
                singular += bad
                nb = sets[groups[cells]]
                b = self._rhs(t[cells], f0[cells], nb)
                w = np.empty_like(b)
                gl = groups[cells] - g0
                starts = np.flatnonzero(np.r_[True, np.diff(gl) != 0])
                for s, e, g in zip(starts.tolist(), np.r_[starts[1:], len(cells)].tolist(), gl[starts].tolist()):
                    np.matmul(b[s:e], inv[g], out=w[s:e])  # the augmented matrix is symmetric
                z = np.append(self._z, 0.0)[nb]
                est[cells] = np.einsum("ck,ck->c", w[:, :k], z)
                var[cells] = c_zero - np.einsum("ci,ci->c", w, b)
                if project is not None:
                    proj[cells] = np.einsum("ck,ckq->cq", w[:, :k], np.vstack([project, np.zeros((1, project.shape[1]))])[nb])
        est[~enough] = np.nan
        var[~enough] = np.nan
        if proj is not None:
            proj[~enough] = np.nan
        with self._lock:
            self.n_singular_ += singular
        return est, var, singular, proj

    def target_variance(self) -> float:
        """Prior variance of a target, ``C(0)`` (a block's mean covariance in :class:`~.block.BlockKriging`)."""
        return self.model.sill

    # internals -------------------------------------------------------------------------
    def _inverses(self, sets: np.ndarray) -> tuple[np.ndarray, int]:
        """Inverses ``(G, k+p, k+p)`` of the augmented matrices of neighbour sets ``(G, k)``."""
        G, k = sets.shape
        p = self.f_.shape[1]
        n = self.n_samples
        a = np.zeros((G, k + p, k + p))
        xy = self._xy[np.minimum(sets, n - 1)]
        d2 = np.zeros((G, k, k))
        for dim in range(xy.shape[2]):
            c = xy[:, :, dim]
            d2 += np.square(c[:, :, None] - c[:, None, :])
        a[:, :k, :k] = self.model.sill - self.model.gamma(np.sqrt(d2, out=d2), out=d2)
        diag = np.arange(k)
        a[:, diag, diag] = self.model.sill
        f = np.vstack([self.f_, np.zeros((1, p))])[sets]
        a[:, :k, k:] = f
        a[:, k:, :k] = f.transpose(0, 2, 1)
        absent = sets >= n
        if absent.any():
            gg, ii = np.nonzero(absent)
            a[gg, ii, :] = 0.0
            a[gg, :, ii] = 0.0
            a[gg, ii, ii] = 1.0
        bad = 0
        try:
            inv = np.linalg.inv(a)
            check = np.matmul(inv, a)
            check -= np.eye(k + p)
            ok = np.abs(check).max(axis=(1, 2)) < 1e-6
        except np.linalg.LinAlgError:
            inv, ok = np.empty_like(a), np.zeros(G, bool)
        for g in np.flatnonzero(~ok):
            inv[g] = np.linalg.pinv(a[g])
            bad += 1
        return inv, bad

    def _rhs(self, t: np.ndarray, f0: np.ndarray, nb: np.ndarray) -> np.ndarray:
        k = nb.shape[1]
        n = self.n_samples
        diff = self._xy[np.minimum(nb, n - 1)] - t[:, None, :]
        d = np.sqrt(np.einsum("ckd,ckd->ck", diff, diff))
        b = np.empty((len(t), k + f0.shape[1]))
        b[:, :k] = np.where(d <= EXACT_EPS, self.model.sill, self.model.sill - self.model.gamma(d))
        b[:, :k][nb >= n] = 0.0
        b[:, k:] = f0
        return b
