"""Linear spectral unmixing: abundances of library endmembers per pixel, non-negative and optionally summing to one.

A pixel ``x`` (``b`` bands) is modelled as ``a @ E`` for endmembers ``E`` ``(m, b)``;
the abundances ``a`` minimise ``|x - a E|^2`` subject to ``a >= 0`` (NNLS) and, for
fully constrained least squares (FCLS), ``sum(a) = 1``. Both are solved exactly by
a primal active-set method (Lawson-Hanson, with the sum-to-one equality kept in the
KKT system for FCLS) run on all pixels of a block at once: the least-squares problem
on a pixel's passive set depends only on which endmembers are passive, so pixels are
grouped by that set and each group is solved with one small matrix (cached across
blocks), never with a Python loop over pixels. Only ``E E^T`` and ``x E^T`` are
needed, so the cost per pixel is one product with the endmembers plus ``O(m^2)``.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from ..threads import single_thread

METHODS = ("fcls", "nnls")
#: active-set iterations that drop every endmember with a negative least-squares abundance at once (the
#: textbook step drops one, taking one iteration per zero abundance); later iterations take textbook steps,
#: and the multiplier test makes the result exact either way
EAGER_STEPS = 2


class LinearUnmixer:
    """Constrained least-squares unmixing.

    Parameters
    ----------
    endmembers : ``(m, b)`` spectra on the pixels' bands (no NaN)
    method : ``"fcls"`` (non-negative, sum to one) or ``"nnls"`` (non-negative)
    """

    def __init__(self, endmembers: np.ndarray, method: str = "fcls"):
        if method not in METHODS:
            raise GeoMLError(f"Unknown unmixing method '{method}'; use one of {', '.join(METHODS)}.")
        e = np.atleast_2d(np.asarray(endmembers, np.float64))
        if not np.isfinite(e).all():
            raise GeoMLError("Endmember spectra hold gaps (NaN) on the bands used.")
        if e.shape[0] > 30:
            raise GeoMLError(f"{e.shape[0]} endmembers: unmixing supports at most 30 (group spectra by name).")
        self.method = method
        self.endmembers = e
        self._e_t = np.ascontiguousarray(e.T)  # (b, m)
        gram = e @ e.T
        self.gram = gram + np.eye(len(e)) * 1e-12 * np.trace(gram) / len(e)
        if np.linalg.matrix_rank(gram, tol=1e-9 * np.abs(gram).max()) < len(e):
            raise GeoMLError("Some endmember spectra are linear combinations of others (e.g. duplicates): "
                             "their abundances cannot be told apart. Remove or merge them.")
        self._tol = 1e-10 * float(np.abs(gram).max())
        self._solvers: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def n_endmembers(self) -> int:
        return self.endmembers.shape[0]

    def _solver(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        """The affine map ``c -> c @ W + w0`` giving the least-squares abundances on passive set *code*.

        ``W`` ``(m, m)`` and ``w0`` ``(m,)`` are zero outside the passive endmembers; for FCLS they solve
        the KKT system ``[[G_P, 1], [1^T, 0]] [a_P, mu] = [c_P, 1]``, for NNLS ``G_P a_P = c_P``.
        """
        if code not in self._solvers:
            m = self.n_endmembers
            idx = np.flatnonzero([(code >> j) & 1 for j in range(m)])
            g = self.gram[np.ix_(idx, idx)]
            w, w0 = np.zeros((m, m)), np.zeros(m)
            if self.method == "fcls":
                k = np.zeros((idx.size + 1, idx.size + 1))
                k[:-1, :-1], k[:-1, -1], k[-1, :-1] = g, 1.0, 1.0
                inv = np.linalg.inv(k)
                w[np.ix_(idx, idx)] = inv[:-1, :-1].T
                w0[idx] = inv[:-1, -1]
            else:
                w[np.ix_(idx, idx)] = np.linalg.inv(g).T
            self._solvers[code] = (w, w0)
        return self._solvers[code]

    def _solve_passive(self, passive: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Least squares restricted to each row's passive set: ``(t, m)`` with zeros outside it."""
        m = self.n_endmembers
        codes = passive.astype(np.int64) @ (np.int64(1) << np.arange(m, dtype=np.int64))
        z = np.zeros_like(c)
        order = np.argsort(codes, kind="stable")
        uniq, start = np.unique(codes[order], return_index=True)
        bounds = np.append(start, order.size)
        for u, s, e in zip(uniq, bounds[:-1], bounds[1:]):
            if u == 0:
                continue
            rows = order[s:e]
            w, w0 = self._solver(int(u))
            z[rows] = c[rows] @ w + w0
        return z

    def abundances_from_products(self, c: np.ndarray, max_iter: int | None = None) -> np.ndarray:
        """Abundances ``(n, m)`` from the products ``c = x E^T`` ``(n, m)``."""
        c = np.asarray(c, np.float64)
        n, m = c.shape
        # warm start: the least-squares solution on every endmember (sum to one for FCLS), clipped to the
        # constraints; any feasible start is valid and this one is usually one or two steps from the optimum
        a = np.maximum(self._solve_passive(np.ones((n, m), bool), c), 0.0)
        if self.method == "fcls":
            total = a.sum(axis=1, keepdims=True)
            a = np.where(total > 0, a / np.where(total > 0, total, 1.0), 1.0 / m)
        passive = a > 0
        todo = np.arange(n)
        tol = self._tol
        for it in range(max_iter or 3 * m + 20):
            if todo.size == 0:
                break
            p, at = passive[todo], a[todo]
            z = self._solve_passive(p, c[todo])
            feasible = ((z > tol) | ~p).all(axis=1)
            # infeasible: move towards z until the first passive abundance reaches zero, drop it
            inf = ~feasible
            if inf.any():
                pi, ai, zi = p[inf], at[inf], z[inf]
                blocking = pi & (zi <= tol)
                ratio = np.where(blocking, ai / np.where(blocking, ai - zi, 1.0), np.inf)
                alpha = np.clip(ratio.min(axis=1), 0.0, 1.0)[:, None]
                ai = ai + alpha * (zi - ai)
                pi = pi & (ai > tol)
                if it < EAGER_STEPS:  # drop every endmember the step would make negative, not only the first
                    pi &= ~blocking
                ai[~pi] = 0.0
                if self.method == "fcls":
                    ai /= ai.sum(axis=1, keepdims=True)
                a[todo[inf]], passive[todo[inf]] = ai, pi
            # feasible: take z; optimal unless a bound's multiplier is negative, then free that endmember
            rows = todo[feasible]
            zf, pf = z[feasible], p[feasible]
            a[rows] = zf
            g = zf @ self.gram - c[rows]
            if self.method == "fcls":
                g = g - (g * pf).sum(axis=1, keepdims=True) / np.maximum(pf.sum(axis=1, keepdims=True), 1)
            g[pf] = np.inf
            j = g.argmin(axis=1)
            go_on = g[np.arange(rows.size), j] < -tol
            passive[rows[go_on], j[go_on]] = True
            todo = np.concatenate([todo[inf], rows[go_on]])
        return a

    def unmix(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Abundances float32 ``(n, m)`` and RMS residual float32 ``(n,)`` of spectra ``(n, b)``."""
        x = np.asarray(pixels, np.float64)
        if x.shape[0] == 0:
            return np.zeros((0, self.n_endmembers), np.float32), np.zeros(0, np.float32)
        c = x @ self._e_t
        with single_thread(torch=False):  # many tiny products: BLAS threads only wait for each other
            a = self.abundances_from_products(c)
        xx = np.einsum("ij,ij->i", x, x)
        rss = xx - 2 * np.einsum("ij,ij->i", a, c) + np.einsum("ij,ij->i", a @ self.gram, a)
        rmse = np.sqrt(np.maximum(rss, 0.0) / x.shape[1])
        return a.astype(np.float32), rmse.astype(np.float32)


def endmembers_by_class(library) -> tuple[list[str], np.ndarray]:
    """One endmember per class name of a :class:`~.library.SpectralLibrary`: the mean of its spectra ``(m, b)``
    (NaN where one of them was not measured)."""
    y = library.y
    spectra = np.stack([library.spectra[y == k].mean(axis=0) for k in range(len(library.classes))])
    return list(library.classes), spectra
