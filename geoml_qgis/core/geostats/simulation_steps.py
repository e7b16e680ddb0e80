"""One stretch of a sequential-simulation path, vectorised.

Along a fixed random path, *which* cells condition a cell (its nearest data and its nearest
previously simulated cells) and therefore its simple-kriging weights and variance depend on the
path only, not on the simulated values. So the path is cut into stretches of consecutive steps and,
for each stretch, every step's neighbours and weights are computed at once (batched linear
solves), for all realisations together. What is left sequential is linear: with ``y`` the values
along the path, ``W`` the weights on earlier steps, ``b`` the data part of the kriging mean and
``s`` the kriging standard deviations,

    y_i = sum_j W_ij y_j + b_i + s_i e_i     (j earlier than i on the path)

so the stretch's values are one sparse unit lower-triangular solve ``(I - W) y = b + s e`` with one
right-hand side per realisation (SuperLU in natural order: no pivoting, no fill-in). This gives
exactly the values of the step-by-step algorithm, to rounding.
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

#: kriging systems built and solved at once (their matrices stay in the processor's cache)
SYSTEMS = 256
#: template offsets scanned at first for previously simulated cells (doubled while some are missing, up to
#: MAX_SCAN at a time, which bounds the scan's arrays)
FIRST_SCAN = 64
MAX_SCAN = 512


class PathPositions:
    """Path position of every cell of an ``(h, w)`` grid, on a grid padded by the template's reach
    (padding and cells never simulated hold ``never``), so that template offsets need no bounds
    checks: flat offsets from a padded flat index.

    Multigrid: cells of level ``L`` lie on every ``2**L``-th row and column, and when they are visited
    only cells of levels ``>= L`` (on the same lattice) have been simulated, so their search scans only
    the template offsets on that lattice (``offsets[L]``): the same neighbours, ``4**L`` times fewer
    offsets."""

    def __init__(self, shape: tuple[int, int], cells: np.ndarray, ti: np.ndarray, tj: np.ndarray, levels: int = 0):
        h, w = shape
        self.pi = int(np.abs(ti).max(initial=0))
        self.pj = int(np.abs(tj).max(initial=0))
        self.w, self.pw = w, w + 2 * self.pj
        self.never = len(cells)
        dtype = np.int32 if len(cells) < 2 ** 31 else np.int64
        self.pos = np.full((h + 2 * self.pi) * self.pw, self.never, dtype)
        self.pos[self.padded(cells)] = np.arange(len(cells))
        self.offsets = []
        for level in range(levels + 1):
            on = (ti % 2 ** level == 0) & (tj % 2 ** level == 0)
            self.offsets.append(ti[on].astype(np.int64) * self.pw + tj[on])

    def padded(self, cells: np.ndarray) -> np.ndarray:
        r, c = np.divmod(cells, self.w)
        return (r + self.pi) * self.pw + c + self.pj

    def unpadded(self, q: np.ndarray) -> np.ndarray:
        r, c = np.divmod(q, self.pw)
        return (r - self.pi) * self.w + c - self.pj


def previous_nodes(paths: PathPositions, cells: np.ndarray, step: np.ndarray, k: int,
                   level: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The *k* nearest cells simulated before path positions ``step (m,)`` of *cells* (all of multigrid
    *level*), nearest first in template order: their flat indices ``(m, k)`` (``-1``: none) and their
    path positions (``paths.never``: none)."""
    m = len(cells)
    out = np.full((m, k), -1, np.int64)
    at = np.full((m, k), paths.never, np.int64)
    if k == 0 or m == 0:
        return out, at
    base = paths.padded(cells)
    count = np.zeros(m, np.int64)
    active = np.arange(m)
    s, size, off = 0, FIRST_SCAN, paths.offsets[level]
    while len(active) and s < len(off):
        q = base[active, None] + off[None, s:s + size]
        hit = paths.pos[q] < step[active, None]
        rank = np.cumsum(hit, axis=1, dtype=np.int32)
        rank += count[active, None].astype(np.int32)
        ai, aj = np.nonzero(hit & (rank <= k))
        q = q[ai, aj]
        out[active[ai], rank[ai, aj] - 1] = paths.unpadded(q)
        at[active[ai], rank[ai, aj] - 1] = paths.pos[q]
        count[active] = np.minimum(rank[:, -1], k)
        active = active[count[active] < k]
        s += size
        size = min(2 * size, MAX_SCAN)
    return out, at


def sk_weights(model, xy: np.ndarray, present: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Simple-kriging weights ``(m, K)`` and standard deviations ``(m,)`` of many small systems.

    ``xy (m, K, 2)``: conditioning locations (model frame), ``present (m, K)``: which of them exist
    (absent ones get weight 0), ``target (m, 2)``. The Cholesky factor ``L`` of the covariance of
    the K points *and the target* holds ``z = L_K^-1 c0`` in its last row and the kriging standard
    deviation ``sqrt(sill - c0' C^-1 c0)`` in its last diagonal cell; the weights are then one back
    substitution ``L_K' lam = z`` (vectorised over the stack: numpy has no batched triangular
    solve). Systems are handled :data:`SYSTEMS` at a time (their matrices stay in the processor's cache).
    """
    m, kk = present.shape
    lam, sd = np.zeros((m, kk)), np.full(m, np.sqrt(float(model.sill)))
    if kk == 0 or m == 0:
        return lam, sd
    pts = np.concatenate([xy, target[:, None, :]], axis=1)
    full = np.concatenate([present, np.ones((m, 1), bool)], axis=1)
    for s in range(0, m, SYSTEMS):
        low = _factor(model, pts[s:s + SYSTEMS], full[s:s + SYSTEMS])
        z = low[:, kk, :kk].copy()
        out = lam[s:s + SYSTEMS]
        for i in range(kk - 1, -1, -1):  # back substitution, by rows of L (contiguous)
            out[:, i] = z[:, i] / low[:, i, i]
            z[:, :i] -= low[:, i, :i] * out[:, i, None]
        sd[s:s + SYSTEMS] = low[:, kk, kk]
    return lam, sd


def _factor(model, pts: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Cholesky factors ``(m, K+1, K+1)`` of the covariance of ``pts (m, K+1, 2)``; absent points
    are decoupled (unit diagonal). Where a matrix is singular (coincident points), the equivalent
    factor is built from a least-squares solution."""
    m, kk = present.shape
    x, y = np.ascontiguousarray(pts[..., 0]), np.ascontiguousarray(pts[..., 1])
    cov = _covariance(model, x[:, :, None] - x[:, None, :], y[:, :, None] - y[:, None, :])
    absent = ~present
    if absent.any():
        cov[absent] = 0.0
        cov.transpose(0, 2, 1)[absent] = 0.0
        cov.reshape(m, kk * kk)[:, ::kk + 1][absent] = 1.0
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return np.array([_factor_one(c) for c in cov])


def _factor_one(cov: np.ndarray) -> np.ndarray:
    """A lower-triangular ``L`` whose last row gives the same weights and variance as solving the
    (possibly singular) system ``C lam = c0`` by least squares: ``L_K = I``, last row ``lam``."""
    try:
        return np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        pass
    k = len(cov) - 1
    c, c0 = cov[:k, :k], cov[:k, k]
    try:
        lam = np.linalg.solve(c, c0)
    except np.linalg.LinAlgError:
        lam = np.linalg.lstsq(c, c0, rcond=None)[0]
    low = np.eye(k + 1)
    low[k, :k] = lam
    low[k, k] = np.sqrt(max(cov[k, k] - lam @ c0, 0.0))
    return low


def _covariance(model, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """``model.covariance`` of the distances ``hypot(dx, dy)``, computed in place in *dx* (*dy* is spoilt)."""
    dx *= dx
    dy *= dy
    dx += dy
    zero = dx == 0
    np.sqrt(dx, out=dx)
    cov = model.gamma(dx, out=dx)
    np.subtract(float(model.sill), cov, out=cov)
    cov[zero] = float(model.sill)
    return cov


def forward_solve(weights: np.ndarray, local: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve ``y_i = sum_j weights[i, j] y[local[i, j]] + rhs_i`` for the steps of one stretch.

    ``local (m, k)``: stretch-local index of each neighbour (``< i``), ``-1`` where the neighbour is
    not in the stretch (its contribution is already in *rhs*); ``rhs (m, b)``.
    """
    m = len(rhs)
    inner = local >= 0
    if not inner.any():
        return rhs
    diag = np.arange(m)
    rows = np.r_[diag, np.repeat(diag, inner.sum(axis=1))]
    a = sp.csc_matrix((np.r_[np.ones(m), -weights[inner]], (rows, np.r_[diag, local[inner]])), shape=(m, m))
    return splu(a, permc_spec="NATURAL", diag_pivot_thresh=0.0).solve(np.ascontiguousarray(rhs))
