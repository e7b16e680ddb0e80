"""Kriging systems of many targets solved set by set: one bordered matrix per neighbour set.

A set of k samples has the system ``[[P, F], [F^T, 0]]`` where ``P (k, k)`` holds a function of the
samples' distances (semivariances for ordinary kriging in PyKrige's form, covariances for kriging
with a trend) and ``F (k, p)`` the border (a column of ones; drift rows). Targets sharing the set
share the matrix: sets serving the same number s of targets are solved together, one batched LU
solve with s right-hand sides each (LAPACK's per-call cost is paid once per set, not per target).
The matrices are gathered from a table of the pairwise values of the samples in use, bordered
once, rather than computed set by set. Given pairs of sets of adjacent targets, sets one sample
swap away from another are solved by rank-2 updates of its solve (:mod:`.setupdate`).

Weights must sum to one (the border's first column is constant): a system whose solution breaks
that by more than 1e-6 is near-singular and is solved by least squares instead (pseudo-inverse).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from .setupdate import LHS_ELEMENTS, forest, solve_each, solve_forest

#: sets served by more targets than this are solved one at a time (their right-hand sides in chunks)
MAX_RHS = 64
#: float64 elements of the right-hand sides of one set solved at once
RHS_ELEMENTS = 2_000_000
#: most samples whose pairwise values are tabulated (a (u + p)^2 table)
TABLE_SAMPLES = 3000


def _spatial_order(xy: np.ndarray) -> np.ndarray:
    """Order of points ``xy (u, d)`` along a Z-order curve of their first two coordinates.

    Tabulated in this order, the samples of one neighbour set lie in nearby rows of the table, so
    gathering a set's matrix reads fewer cache lines than in the samples' (random) input order.
    """
    if len(xy) == 0:
        return np.zeros(0, np.intp)
    lo, span = xy[:, :2].min(axis=0), np.ptp(xy[:, :2], axis=0)
    q = ((xy[:, :2] - lo) / np.where(span > 0, span, 1.0) * 1023).astype(np.uint32)
    key = np.zeros(len(xy), np.uint32)
    for bit in range(10):
        key |= ((q[:, 0] >> bit) & 1) << (2 * bit)
        key |= ((q[:, 1] >> bit) & 1) << (2 * bit + 1)
    return np.argsort(key, kind="stable")


class Systems:
    """Bordered kriging matrices of neighbour sets.

    Parameters
    ----------
    xy : ndarray (n, d)
        Sample coordinates (anisotropy-corrected).
    pair : callable
        Values of distances ``h`` (any shape, float64; may be overwritten) between distinct samples.
    diagonal : float
        Value of a sample with itself.
    border : ndarray (n, p)
        Border rows of the samples (``ones((n, 1))`` for ordinary kriging).
    sets : ndarray (G, k)
        Sample indices of each set.
    """

    def __init__(self, xy: np.ndarray, pair: Callable[[np.ndarray], np.ndarray], diagonal: float,
                 border: np.ndarray, sets: np.ndarray):
        self.xy, self.pair, self.diagonal, self.border, self.sets = xy, pair, diagonal, border, sets
        self.k, self.p = sets.shape[1], border.shape[1]
        mark = np.zeros(len(xy), bool)
        mark[sets.ravel()] = True
        used = np.flatnonzero(mark)  # the samples in use, ascending (a scatter: cheaper than np.unique)
        self.table = None
        if len(used) <= TABLE_SAMPLES:
            u, p = len(used), self.p
            table = np.zeros((u + p, u + p))
            used = used[_spatial_order(xy[used])]
            table[:u, :u] = self._pairs(xy[used][None])[0]
            table[:u, u:] = border[used]
            table[u:, :u] = border[used].T
            position = np.zeros(len(xy), np.intp)
            position[used] = np.arange(u)
            self.table, self.position = table.ravel(), position
            self.loc = np.hstack([position[sets], np.broadcast_to(u + np.arange(p), (len(sets), p))])
            self.width = u + p

    def _pairs(self, pts: np.ndarray) -> np.ndarray:
        """Pairwise values ``(G, k, k)`` of point sets ``pts (G, k, d)``."""
        d2 = np.zeros(pts.shape[:2] + pts.shape[1:2])
        for j in range(pts.shape[2]):
            c = pts[:, :, j]
            d2 += np.square(c[:, :, None] - c[:, None, :])
        out = self.pair(np.sqrt(d2, out=d2))
        diag = np.arange(pts.shape[1])
        out[:, diag, diag] = self.diagonal
        return out

    def __call__(self, g: np.ndarray) -> np.ndarray:
        """Matrices ``(len(g), k + p, k + p)`` of sets ``g``."""
        k, p = self.k, self.p
        if self.table is not None:
            loc = self.loc[g]
            flat = loc[:, :, None] * self.width
            flat = flat + loc[:, None, :]
            return np.take(self.table, flat)
        sets = self.sets[g]
        a = np.zeros((len(g), k + p, k + p))
        a[:, :k, :k] = self._pairs(self.xy[sets])
        f = self.border[sets]
        a[:, :k, k:] = f
        a[:, k:, :k] = f.transpose(0, 2, 1)
        return a


def solve_systems(a: np.ndarray, b: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """Solutions ``(G, K, s)`` of ``a (G, K, K)`` with ``b (G, K, s)``; least squares where singular."""
    w, singular = solve_each(a, b)
    bad = int(singular.sum())
    for j in np.flatnonzero(singular).tolist():  # an exactly singular set: least squares for it alone
        w[j] = np.linalg.pinv(a[j], hermitian=True) @ b[j]
    off = np.flatnonzero((np.abs(w[:, :k].sum(axis=1) - 1.0) > 1e-6).any(axis=1))
    for j in off.tolist():
        w[j] = np.linalg.pinv(a[j], hermitian=True) @ b[j]
    return w, bad + len(off)


def solve_sets(systems: Systems, rhs: np.ndarray, order: np.ndarray, starts: np.ndarray, values: np.ndarray,
               pairs: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """Solve the targets of every set.

    Parameters
    ----------
    systems : Systems
    rhs : ndarray (m, k + p)
        Right-hand sides of the targets.
    order, starts : ndarray (m,), (G,)
        Set g serves targets ``order[starts[g]:starts[g + 1]]``.
    values : ndarray (n, q)
        Data columns weighted by the kriging weights (several columns share the weights).
    pairs : ndarray (E, 2), optional
        Pairs of sets likely to differ by one sample (of adjacent targets): such sets are solved
        by rank-2 updates of one another (:mod:`.setupdate`) when the samples are tabulated.

    Returns
    -------
    estimate : ndarray (m, q)
        ``sum_i w_i values_i`` per target and column.
    wb : ndarray (m,)
        ``w . rhs`` (weights and multipliers times the right-hand side) per target, for the variance.
    n_singular : int
    """
    m = len(rhs)
    est, wb = np.empty((m, values.shape[1])), np.empty(m)
    full = np.arange(len(starts))
    if pairs is not None and len(pairs) and systems.table is not None:
        full = solve_forest(systems, forest(systems.sets, pairs), rhs, order, starts, values, est, wb)
    return est, wb, _solve_full(systems, rhs, order, starts, values, full, est, wb)


def _solve_full(systems: Systems, rhs: np.ndarray, order: np.ndarray, starts: np.ndarray, values: np.ndarray,
                todo: np.ndarray, est: np.ndarray, wb: np.ndarray) -> int:
    """Solve sets *todo* one LU factorisation each, writing *est* and *wb*; returns the singular count."""
    m, kp = rhs.shape
    k = systems.k
    sizes = np.diff(np.r_[starts, m])
    singular = 0
    for s in np.unique(sizes[todo]).tolist():
        sets = todo[sizes[todo] == s]
        if s > MAX_RHS:
            step = max(1, RHS_ELEMENTS // kp)
            for g in sets.tolist():
                a = systems(np.array([g]))
                for c in range(starts[g], starts[g] + s, step):
                    rows = order[c:min(c + step, starts[g] + s)]
                    w, bad = solve_systems(a, rhs[rows].T[None], k)
                    est[rows] = w[0, :k].T @ values[systems.sets[g]]
                    wb[rows] = np.einsum("ks,sk->s", w[0], rhs[rows])
                    singular += bad
            continue
        per = max(1, LHS_ELEMENTS // (kp * (kp + 2 * s)))
        for c in range(0, len(sets), per):
            g = sets[c:c + per]
            pos = order[starts[g][:, None] + np.arange(s)]
            b = rhs[pos]  # (G, s, K)
            w, bad = solve_systems(systems(g), b.transpose(0, 2, 1), k)
            singular += bad
            est[pos] = np.einsum("gks,gkq->gsq", w[:, :k], values[systems.sets[g]])
            wb[pos] = np.einsum("gks,gsk->gs", w, b)
    return singular
