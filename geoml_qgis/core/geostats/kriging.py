"""Ordinary kriging in 2D and 3D with a moving (k nearest, optional radius) or global neighbourhood.

The kriging system of a target with neighbours ``1..k`` is PyKrige's semivariogram form::

    [ Gamma  1 ] [ w  ]   [ gamma ]        Gamma_ij = gamma(|x_i - x_j|), Gamma_ii = 0
    [ 1^T    0 ] [ mu ] = [   1   ]        gamma_i  = gamma(|x_i - x0|) (0 when x0 = x_i)

estimate ``w . z`` and kriging variance ``w . gamma + mu``.

Speed: targets whose k nearest samples are the *same set* share the left-hand side. The sets of
a raster block's cells are found tile by tile and grouped by set with the distances measured on
the way (:func:`.neighbours.grouped_sets`); the matrices are gathered from one bordered table of
the samples in use, and sets serving the same number s of cells are solved together, one batched
LU solve with s right-hand sides per set (:mod:`.setsolve`); sets one sample swap away from a
solved set are solved by a rank-2 update of its solve instead (:mod:`.setupdate`). On a 1,000 x
1,000 grid with 5,000 samples and k = 32 there are about five cells per distinct set.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

from ..errors import GeoMLError
from ..progress import ProgressCallback, report
from ..threads import single_thread
from .models import VariogramModel
from .neighbours import GroupedSets, grouped_sets, nearest_sets
from .setsolve import Systems, solve_sets, solve_systems

#: distance under which a target coincides with a sample (PyKrige's ``eps``): exact interpolation
EXACT_EPS = 1e-10
#: largest global neighbourhood (an (n+1) x (n+1) inverse is held in memory)
MAX_GLOBAL = 6000
#: float64 elements of right-hand sides held at once (a set shared by many targets)
_RHS_ELEMENTS = 2_000_000
#: right-hand-side rows computed at once by :meth:`OrdinaryKriging.krige_groups`
_RHS_ROWS = 4096
#: targets of one set solved with one LU factorisation; a set serving more is inverted once
_MAX_RHS = 64
#: float64 elements of one batch of systems (left- and right-hand sides) being solved
_LHS_ELEMENTS = 2_500_000
#: sample count up to which semivariances between the samples of a batch are tabulated once
_TABLE_SAMPLES = 3000


@dataclass
class KrigingResult:
    """Estimate and kriging variance at targets, each ``(m,)``; NaN where no sample was in reach."""

    estimate: np.ndarray
    variance: np.ndarray
    n_singular: int = 0


def check_samples(coords, values, dims: tuple[int, ...] = (2, 3)) -> tuple[np.ndarray, np.ndarray]:
    """``coords (n, d)`` and ``values (n,)`` as float64, refused unless ``d`` is in *dims*, one value
    per sample, all finite."""
    coords = np.asarray(coords, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if coords.ndim != 2 or coords.shape[1] not in dims or len(coords) != len(values):
        what = " or ".join(f"{d}D" for d in dims)
        raise GeoMLError(f"Samples need {what} coordinates and one value each.")
    if not (np.isfinite(coords).all() and np.isfinite(values).all()):
        raise GeoMLError("Sample coordinates and values must be finite (skip NULL values first).")
    return coords, values


class OrdinaryKriging:
    """Ordinary kriging estimator.

    Parameters
    ----------
    model : VariogramModel
    neighbours : int
        Number of nearest samples used for each target (default 32); 0 = all samples
        (global neighbourhood). More than the number of samples means all of them.
    search_radius : float, optional
        Only samples within this (anisotropy-corrected) distance are used; targets with none
        get NaN.

    Examples
    --------
    >>> ok = OrdinaryKriging(model, neighbours=32).fit(coords, values)   # doctest: +SKIP
    >>> res = ok.predict(targets)            # res.estimate, res.variance: (m,)
    """

    def __init__(self, model: VariogramModel, neighbours: int = 32, search_radius: float | None = None):
        if neighbours < 0:
            raise GeoMLError("The number of neighbours cannot be negative (0 means all samples).")
        if search_radius is not None and not search_radius > 0:
            raise GeoMLError("The search radius must be a positive distance (leave it empty for no limit).")
        self.model = model
        self.neighbours = int(neighbours)
        self.search_radius = search_radius

    # fitting ---------------------------------------------------------------------------
    def fit(self, coords: np.ndarray, values: np.ndarray) -> "OrdinaryKriging":
        """Store samples ``coords (n, 2|3)`` and ``values (n,)`` and index them."""
        coords, values = check_samples(coords, values)
        if len(values) < 1:
            raise GeoMLError("Kriging needs at least one sample.")
        if coords.shape[1] == 3 and (self.model.ratio != 1 or self.model.angle != 0):
            raise GeoMLError("Anisotropy is supported for 2D kriging only.")
        n = len(values)
        self.k_ = n if self.neighbours == 0 else min(self.neighbours, n)
        if self.k_ > MAX_GLOBAL:
            raise GeoMLError(
                f"A neighbourhood of {self.k_} samples is too large to solve; use at most "
                f"{MAX_GLOBAL} neighbours (32 is usual)."
            )
        self.global_ = self.k_ == n and self.search_radius is None
        self.centre_ = (coords.min(axis=0) + coords.max(axis=0)) / 2
        self.coords_ = coords
        xy = self.model.transform(coords, self.centre_[:2])
        # one extra "absent" sample (index n) pads neighbourhoods cut short by the search radius
        self._xy = np.vstack([xy, np.zeros((1, xy.shape[1]))])
        self._z = np.append(values, 0.0)
        self.tree_ = cKDTree(xy)
        rng = np.random.default_rng(20240611)
        self._h1 = rng.integers(0, np.iinfo(np.int64).max, n + 1, dtype=np.uint64)
        self._h2 = rng.integers(0, np.iinfo(np.int64).max, n + 1, dtype=np.uint64)
        self.n_singular_ = 0
        self._lock = threading.Lock()
        return self

    @property
    def n_samples(self) -> int:
        return len(self._z) - 1

    # prediction ----------------------------------------------------------------------
    def neighbourhoods(self, targets_t: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Nearest samples of (transformed) targets: distances and indices ``(m, k)``; index n = none."""
        k = self.k_ if k is None else k
        ub = np.inf if self.search_radius is None else float(self.search_radius)
        dist, idx = self.tree_.query(targets_t, k=k, distance_upper_bound=ub, workers=-1)
        if k == 1:
            dist, idx = dist[:, None], idx[:, None]
        return dist, idx

    def predict(self, targets: np.ndarray, progress: ProgressCallback | None = None,
                chunk: int = 65536, workers: int = -1) -> KrigingResult:
        """Krige at ``targets (m, d)``; returns estimate and variance ``(m,)``.

        *workers*: threads of the neighbour search (-1: every core; 1 where blocks are already
        kriged in parallel threads).
        """
        t = np.asarray(targets, dtype=np.float64)
        if t.ndim != 2 or t.shape[1] != self._xy.shape[1]:
            raise GeoMLError(f"Targets need {self._xy.shape[1]} coordinates, like the samples.")
        est = np.empty(len(t))
        var = np.empty(len(t))
        singular = 0
        report(progress, 0.0)
        for s in range(0, len(t), chunk):
            r = self._predict_transformed(self.model.transform(t[s:s + chunk], self.centre_[:2]), workers)
            est[s:s + chunk], var[s:s + chunk] = r.estimate, r.variance
            singular += r.n_singular
            report(progress, min(1.0, (s + chunk) / max(len(t), 1)))
        return KrigingResult(est, var, singular)

    def _predict_transformed(self, t: np.ndarray, workers: int = -1) -> KrigingResult:
        if self.global_:
            idx = np.broadcast_to(np.arange(self.n_samples), (len(t), self.n_samples))
            return self.solve(t, idx, shared=True)
        if self.search_radius is None:
            est, var, singular = self.krige_groups(self.grouped(t, workers))
            return KrigingResult(est[:, 0], var, singular)
        return self.solve(t, nearest_sets(self.tree_, t, self.k_, self.search_radius, workers=workers))

    @property
    def fast_path(self) -> bool:
        """Whether :meth:`grouped` and :meth:`krige_groups` serve predictions (a moving neighbourhood
        without a search radius)."""
        return not self.global_ and self.search_radius is None

    def grouped(self, t: np.ndarray, workers: int = -1) -> GroupedSets:
        """Transformed targets ``t (m, d)`` grouped by their set of k nearest samples."""
        return grouped_sets(self.tree_, t, self.k_, workers, (self._h1[:-1], self._h2[:-1]))

    def krige_groups(self, groups: GroupedSets, columns: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray, int]:
        """Kriging of grouped targets: estimates ``(m, q)`` of the data columns ``columns (n, q)`` (the
        fitted values when None), variance ``(m,)`` and singular count, in the targets' order.

        Several columns share the weights (indicators at cut-offs with one variogram).
        """
        n, k = self.n_samples, self.k_
        values = self._z[:-1, None] if columns is None else np.asarray(columns, np.float64).reshape(n, -1)
        m = len(groups.order)
        b = np.empty((m, k + 1))
        for s in range(0, m, _RHS_ROWS):  # row chunks: the model's passes stay in cache
            d, g = groups.distances[s:s + _RHS_ROWS], b[s:s + _RHS_ROWS, :k]
            self.model.gamma(d, out=g)
            g[d <= EXACT_EPS] = 0.0
        b[:, k] = 1.0
        systems = Systems(self._xy[:-1], lambda h: self.model.gamma(h, out=h), 0.0, np.ones((n, 1)), groups.sets)
        with single_thread(torch=False):
            est, var, singular = solve_sets(systems, b, groups.order, groups.starts, values, groups.pairs)
        with self._lock:
            self.n_singular_ += singular
        return est, var, singular

    def solve(self, t: np.ndarray, idx: np.ndarray, shared: bool = False) -> KrigingResult:
        """Krige transformed targets ``t (m, d)`` from given neighbour indices ``idx (m, k)``.

        Index ``n`` (the number of samples) marks an absent neighbour; ``shared`` says that
        every row of *idx* is the same set. Used by :meth:`predict` and by cross-validation
        (neighbourhoods without the left-out sample).
        """
        m, k = idx.shape
        est = np.full(m, np.nan)
        var = np.full(m, np.nan)
        has_any = (idx < self.n_samples).any(axis=1)
        if m == 0 or not has_any.any():
            return KrigingResult(est, var)
        if not has_any.all():  # targets with no sample in reach stay NaN
            sel = np.flatnonzero(has_any)
            r = self.solve(t[sel], idx[sel], shared)
            est[sel], var[sel] = r.estimate, r.variance
            return KrigingResult(est, var, r.n_singular)
        if shared:
            order, starts = np.arange(m), np.zeros(1, np.int64)
        else:
            _, order, starts = self._group(idx)
        with single_thread(torch=False):
            e, v, singular = self._solve_sets(t[order], idx[order[starts]], starts)
        est[order], var[order] = e, v
        with self._lock:
            self.n_singular_ += singular
        return KrigingResult(est, var, singular)

    # internals -------------------------------------------------------------------------
    def _group(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Group targets by neighbour set: ``groups (m,)``, cell ``order`` sorted by group, ``starts (G,)``."""
        h1 = self._h1[idx].sum(axis=1)
        _, first, groups = np.unique(h1, return_index=True, return_inverse=True)
        h2 = self._h2[idx].sum(axis=1)
        if np.any(h2 != h2[first][groups]):  # a hash collision (never seen): group exactly instead
            _, first, groups = np.unique(np.sort(idx, axis=1), axis=0, return_index=True, return_inverse=True)
        groups = groups.ravel()
        order = np.argsort(groups, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(groups[order]) != 0])
        return groups, order, starts

    def _solve_sets(self, t: np.ndarray, gidx: np.ndarray, starts: np.ndarray):
        """Estimate, variance ``(m,)`` and singular count for targets ``t (m, d)`` sorted by set.

        Set ``g`` (neighbours ``gidx[g]``) serves targets ``starts[g]`` up to the next start.
        Sets serving the same number s of targets are solved together, one LU solve with s
        right-hand sides each; a set serving many targets is inverted once.
        """
        m, k = len(t), gidx.shape[1]
        sizes = np.diff(np.r_[starts, m])
        est, var = np.empty(m), np.empty(m)
        table = self._local_table(gidx)
        singular = 0
        few = sizes <= _MAX_RHS
        for s in np.unique(sizes[few]).tolist():
            sets = np.flatnonzero(sizes == s)
            per = max(1, _LHS_ELEMENTS // ((k + 1) * (k + 1 + s * (t.shape[1] + 3))))
            for c in range(0, len(sets), per):
                g = sets[c:c + per]
                pos = starts[g][:, None] + np.arange(s)
                est[pos], var[pos], bad = self._solve_batch(t[pos], gidx[g], table)
                singular += bad
        for g in np.flatnonzero(~few).tolist():
            pos = np.arange(starts[g], starts[g] + sizes[g])
            est[pos], var[pos], bad = self._solve_shared(t[pos], gidx[g], table)
            singular += bad
        return est, var, singular

    def _rhs(self, t: np.ndarray, gidx: np.ndarray) -> np.ndarray:
        """Right-hand sides ``(G, k+1, s)`` of targets ``t (G, s, d)`` with neighbour sets ``gidx (G, k)``."""
        G, k = gidx.shape
        nb = self._xy[gidx]
        d2 = np.zeros((G, k, t.shape[1]))
        for j in range(t.shape[2]):
            diff = nb[:, :, None, j] - t[:, None, :, j]
            diff *= diff
            d2 += diff
        b = np.empty((G, k + 1, t.shape[1]))
        d = np.sqrt(d2, out=d2)
        exact = d <= EXACT_EPS
        self.model.gamma(d, out=b[:, :k])
        b[:, :k][exact] = 0.0
        b[:, :k][gidx >= self.n_samples] = 0.0
        b[:, k] = 1.0
        return b

    def _solve_batch(self, t: np.ndarray, gidx: np.ndarray, table) -> tuple[np.ndarray, np.ndarray, int]:
        """Targets ``t (G, s, d)``, set g serving ``t[g]``: estimate, variance ``(G, s)``, singular count."""
        k = gidx.shape[1]
        a = self._matrices(gidx, table)
        b = self._rhs(t, gidx)
        w, bad = solve_systems(a, b, k)
        est = np.einsum("gks,gk->gs", w[:, :k], self._z[gidx])
        var = np.einsum("gks,gks->gs", w, b)
        return est, var, bad

    def _solve_shared(self, t: np.ndarray, nb: np.ndarray, table) -> tuple[np.ndarray, np.ndarray, int]:
        """Many targets ``t (c, d)`` sharing one neighbour set ``nb (k,)``: estimate, variance ``(c,)``, singular."""
        k = len(nb)
        a = self._matrices(nb[None], table)[0]
        try:
            inv, bad = np.linalg.inv(a), 0
        except np.linalg.LinAlgError:
            inv, bad = np.linalg.pinv(a, hermitian=True), 1
        est, var = np.empty(len(t)), np.empty(len(t))
        step = max(1, _RHS_ELEMENTS // (k + 1))
        for s in range(0, len(t), step):
            b = self._rhs(t[None, s:s + step], nb[None])[0]
            w = inv @ b
            if not bad and np.any(np.abs(w[:k].sum(axis=0) - 1.0) > 1e-6):
                inv, bad = np.linalg.pinv(a, hermitian=True), 1
                w = inv @ b
            est[s:s + step] = self._z[nb] @ w[:k]
            var[s:s + step] = np.einsum("ks,ks->s", w, b)
        return est, var, bad

    def _local_table(self, gidx: np.ndarray):
        """Semivariances between all samples used by the sets ``gidx``, when they are few.

        Returns ``(positions (n+1,), table (u, u))`` with ``table[positions[i], positions[j]]``
        the semivariance between samples i and j (0 for i == j), or None for many samples.
        """
        used = np.unique(gidx)
        if len(used) > _TABLE_SAMPLES:
            return None
        p = self._xy[used]
        diff = p[:, None, :] - p[None, :, :]
        table = self.model.gamma(np.sqrt(np.einsum("ijd,ijd->ij", diff, diff)))
        np.fill_diagonal(table, 0.0)
        positions = np.zeros(len(self._xy), dtype=np.intp)
        positions[used] = np.arange(len(used))
        return positions, table

    def _matrices(self, gidx: np.ndarray, table=None) -> np.ndarray:
        """Kriging matrices ``(G, k+1, k+1)``; absent neighbours get an identity row (weight 0)."""
        G, k = gidx.shape
        a = np.empty((G, k + 1, k + 1))
        if table is not None:
            positions, t = table
            loc = positions[gidx]
            a[:, :k, :k] = t.ravel()[loc[:, :, None] * len(t) + loc[:, None, :]]
        else:
            p = self._xy[gidx]
            diff = p[:, :, None, :] - p[:, None, :, :]
            a[:, :k, :k] = self.model.gamma(np.sqrt(np.einsum("gijd,gijd->gij", diff, diff)))
            diag = np.arange(k)
            a[:, diag, diag] = 0.0
        a[:, k, :] = 1.0
        a[:, :, k] = 1.0
        a[:, k, k] = 0.0
        absent = gidx >= self.n_samples
        if absent.any():
            gg, ii = np.nonzero(absent)
            a[gg, ii, :] = 0.0
            a[gg, :, ii] = 0.0
            a[gg, ii, ii] = 1.0
        return a
