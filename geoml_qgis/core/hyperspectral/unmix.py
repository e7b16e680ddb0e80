"""Linear spectral unmixing: abundances of library endmembers per pixel, non-negative and optionally summing to one.

A pixel ``x`` (``b`` bands) is modelled as ``a @ E`` for endmembers ``E`` ``(m, b)``;
the abundances ``a`` minimise ``|x - a E|^2`` subject to ``a >= 0`` (NNLS) and, for
fully constrained least squares (FCLS), ``sum(a) = 1``. Both are solved exactly, on
all pixels of a block at once, by active-set methods: the least-squares problem on a
pixel's passive set (the endmembers not held at zero) depends only on that set, so
pixels are sorted by it and each group is solved with one small matrix (cached across
blocks), never with a Python loop over pixels. Only ``E E^T`` and ``x E^T`` are needed,
so the cost per pixel is one product with the endmembers plus ``O(m^2)`` per step: pixels
are rows (a group's products are contiguous), and one matrix per passive set gives both
the abundances and the multipliers of the held endmembers.

Block principal pivoting (Judice & Pires 1994; Kim & Park 2011, for many right-hand
sides) exchanges every endmember that violates the optimality conditions at once: a
passive one with a negative abundance, or a held one whose multiplier is negative
(for FCLS, with the sum-to-one equality kept in the KKT system). It usually ends in
two or three steps. A pixel that has not ended after :data:`PIVOT_STEPS` steps is
finished by the primal Lawson-Hanson method, which cannot cycle.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError
from ..threads import single_thread

METHODS = ("fcls", "nnls")
#: block principal pivoting steps before a pixel is handed to the primal method
PIVOT_STEPS = 25
#: primal active-set iterations that drop every endmember with a negative least-squares abundance at once (the
#: textbook step drops one, taking one iteration per zero abundance); later iterations take textbook steps,
#: and the multiplier test makes the result exact either way
EAGER_STEPS = 2
#: pixels whose products are computed at once (their float64 spectra stay in the processor's cache)
CHUNK = 512


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
        gram = e @ e.T
        self.gram = gram + np.eye(len(e)) * 1e-12 * np.trace(gram) / len(e)
        if np.linalg.matrix_rank(gram, tol=1e-9 * np.abs(gram).max()) < len(e):
            raise GeoMLError("Some endmember spectra are linear combinations of others (e.g. duplicates): "
                             "their abundances cannot be told apart. Remove or merge them.")
        self._tol = 1e-10 * float(np.abs(gram).max())
        self._solvers: dict[int, np.ndarray] = {}
        self._bits = (1 << np.arange(len(e))).astype(np.uint16 if len(e) <= 16 else np.uint32)

    @property
    def n_endmembers(self) -> int:
        return self.endmembers.shape[0]

    def _solver(self, code: int) -> np.ndarray:
        """The matrix ``S`` ``(k, 2m)`` giving, as ``[c, 1] S``, the least-squares abundances on passive set
        *code* (first ``m`` columns) and the multipliers of the held endmembers there (last ``m`` columns).

        ``c`` is a pixel's products with the endmembers (a row). The abundances are zero outside the
        passive set, the multipliers zero on it. For FCLS (``k = m + 1``: the last row is the constant
        term) the abundances ``a`` and the sum-to-one multiplier ``mu`` solve the KKT system
        ``[[G_P, 1], [1^T, 0]] [a_P, mu] = [c_P, 1]`` and the multipliers are ``G a - c + mu``; for NNLS
        (``k = m``) ``G_P a_P = c_P`` and ``G a - c``.
        """
        if code not in self._solvers:
            self._add_solvers([code])
        return self._solvers[code]

    def _add_solvers(self, codes: list[int]) -> None:
        """:meth:`_solver` of several passive sets at once: one batched inverse per number of passive endmembers."""
        m, fcls = self.n_endmembers, self.method == "fcls"
        bits = (np.asarray(codes, np.int64)[:, None] >> np.arange(m)) & 1 == 1
        sizes = bits.sum(axis=1)
        for size in np.unique(sizes):
            sel = np.flatnonzero(sizes == size)
            idx = np.nonzero(bits[sel])[1].reshape(sel.size, size)  # (K, s) passive endmembers, increasing
            r = np.arange(sel.size)[:, None, None]
            g = self.gram[idx[:, :, None], idx[:, None, :]]  # (K, s, s)
            w = np.zeros((sel.size, m + fcls, 2 * m))
            if fcls:
                k = np.ones((sel.size, size + 1, size + 1))
                k[:, :-1, :-1], k[:, -1, -1] = g, 0.0
                inv = np.linalg.inv(k)
                w[r, idx[:, :, None], idx[:, None, :]] = inv[:, :-1, :-1].transpose(0, 2, 1)
                w[r[:, 0], m, idx] = inv[:, :-1, -1]
                mu = np.zeros((sel.size, m + 1))
                mu[r[:, 0], idx], mu[:, m] = inv[:, -1, :-1], inv[:, -1, -1]
                w[:, :, m:] = w[:, :, :m] @ self.gram + mu[:, :, None]
            else:
                w[r, idx[:, :, None], idx[:, None, :]] = np.linalg.inv(g).transpose(0, 2, 1)
                w[:, :, m:] = w[:, :, :m] @ self.gram
            w[:, np.arange(m), m + np.arange(m)] -= 1.0
            w[r[:, 0], :, m + idx] = 0.0
            for i, j in enumerate(sel):
                self._solvers[int(codes[j])] = w[i]

    def _codes(self, passive: np.ndarray) -> np.ndarray:
        """The passive set of every row of ``(t, m)`` as an unsigned integer (bit ``j``: endmember ``j``)."""
        return passive.view(np.uint8) @ self._bits

    def _solve_sorted(self, codes: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Least squares restricted to each row's passive set, rows sorted by *codes*, from products ``c``
        ``(t, k)`` (FCLS: a last column of ones): ``(t, 2m)``, the abundances (zero outside the passive set)
        then the multipliers (zero on it). One matrix product per run of equal codes, on contiguous rows."""
        m = self.n_endmembers
        out = np.zeros((len(c), 2 * m))
        cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        starts = [0, *cuts]
        runs = codes[starts].tolist()
        new = [code for code in runs if code and code not in self._solvers]
        if new:
            self._add_solvers(new)
        for s, e, code in zip(starts, [*cuts, len(codes)], runs):
            if code:
                np.matmul(c[s:e], self._solvers[code], out=out[s:e])
            else:  # nothing passive: every multiplier is the negated product
                out[s:e, m:] = -c[s:e, :m]
        return out

    def _products(self, c: np.ndarray) -> np.ndarray:
        """Pixels' products ``(n, k)`` float64 as the solvers take them: FCLS adds a column of ones."""
        if self.method != "fcls":
            return np.ascontiguousarray(c, np.float64)
        out = np.ones((len(c), self.n_endmembers + 1))
        out[:, :-1] = c
        return out

    def _abundances(self, c: np.ndarray, pivot_steps: int = PIVOT_STEPS) -> np.ndarray:
        """Abundances ``(n, m)`` from the products ``c = x E^T`` ``(n, m)``, pixels as rows."""
        c = self._products(c)
        out, left = self._pivoting(c, pivot_steps)
        if left.size:
            out[left] = self._primal(np.take(c, left, axis=0))
        return out

    def _pivoting(self, c: np.ndarray, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
        """Block principal pivoting: abundances ``(n, m)`` and the rows not finished after *max_iter* steps.

        Starts from the endmembers with a positive unconstrained least-squares abundance; the working
        pixels are sorted by passive set at every step and leave once optimal.
        """
        n, m = len(c), self.n_endmembers
        tol = self._tol
        passive = (c @ self._solver((1 << m) - 1)[:, :m]) > 0
        if self.method == "fcls":  # a sum-to-one solution needs a passive endmember
            passive[~passive.any(axis=1)] = True
        out = np.zeros((n, m))
        rows = np.arange(n)
        pick = rows  # rows of c still working
        chances = np.full(n, 3, np.int8)  # full exchanges left without fewer violations (then one at a time)
        fewest = np.full(n, m + 1, np.int16)  # fewest violations seen
        ones = np.ones(2 * m, np.uint8)
        for _ in range(max_iter):
            if rows.size == 0:
                break
            codes = self._codes(passive)
            order = np.argsort(codes, kind="stable")
            rows, codes, chances, fewest = rows[order], codes[order], chances[order], fewest[order]
            c, passive = np.take(c, pick[order], axis=0), np.take(passive, order, axis=0)
            zy = self._solve_sorted(codes, c)
            negative = zy < -tol  # an abundance or a multiplier (never both for one endmember)
            count = negative.view(np.uint8) @ ones
            done = count == 0
            out[rows[done]] = np.maximum(zy[done, :m], 0.0)
            pick = np.flatnonzero(~done)
            rows, passive, negative = rows[pick], passive[pick], negative[pick]
            violated = negative[:, :m] | negative[:, m:]
            count, chances, fewest = count[pick], chances[pick], fewest[pick]
            fewer = count < fewest
            fewest = np.where(fewer, count, fewest)
            chances = np.where(fewer, 3, chances - (chances > 0))
            single = ~fewer & (chances == 0)  # backup rule: exchange only the last violating endmember
            if single.any():
                k = np.flatnonzero(single)
                last = m - 1 - np.argmax(violated[k, ::-1], axis=1)
                violated[k] = False
                violated[k, last] = True
            passive ^= violated
        return out, rows

    def _primal(self, c: np.ndarray, max_iter: int | None = None) -> np.ndarray:
        """Abundances ``(t, m)`` by the primal (Lawson-Hanson) active-set method, from a feasible start.

        The pixels still iterating are kept together and sorted by passive set at every step, so each
        group is solved on contiguous rows; finished pixels leave the working set.
        """
        t, m = len(c), self.n_endmembers
        # warm start: the least-squares solution on every endmember (sum to one for FCLS), clipped to the
        # constraints; any feasible start is valid and this one is usually one or two steps from the optimum
        a = np.maximum(c @ self._solver((1 << m) - 1)[:, :m], 0.0)
        if self.method == "fcls":
            total = a.sum(axis=1, keepdims=True)
            a = np.where(total > 0, a / np.where(total > 0, total, 1.0), 1.0 / m)
        out = a.copy()
        passive = a > 0
        rows = np.arange(t)
        tol = self._tol
        for it in range(max_iter or 3 * m + 20):
            if rows.size == 0:
                break
            codes = self._codes(passive)
            order = np.argsort(codes, kind="stable")
            rows, codes = rows[order], codes[order]
            c, a, passive = c[order], a[order], passive[order]
            zy = self._solve_sorted(codes, c)
            z, y = zy[:, :m], zy[:, m:]
            blocking = passive & (z <= tol)
            feasible = ~blocking.any(axis=1)
            # infeasible: move towards z until the first passive abundance reaches zero, drop it
            inf = np.flatnonzero(~feasible)
            if inf.size:
                pi, ai, zi, bi = passive[inf], a[inf], z[inf], blocking[inf]
                ratio = np.where(bi, ai / np.where(bi, ai - zi, 1.0), np.inf)
                alpha = np.clip(ratio.min(axis=1, keepdims=True), 0.0, 1.0)
                ai += alpha * (zi - ai)
                pi &= ai > tol
                if it < EAGER_STEPS:  # drop every endmember the step would make negative, not only the first
                    pi &= ~bi
                ai *= pi
                if self.method == "fcls":
                    ai /= ai.sum(axis=1, keepdims=True)
                a[inf], passive[inf] = ai, pi
            # feasible: take z; optimal unless a bound's multiplier is negative, then free that endmember
            fe = np.flatnonzero(feasible)
            a[fe] = z[fe]
            g = np.where(passive[fe], np.inf, y[fe])
            j = np.argmin(g, axis=1)
            go_on = g[np.arange(fe.size), j] < -tol
            passive[fe[go_on], j[go_on]] = True
            done = np.zeros(rows.size, bool)
            done[fe[~go_on]] = True
            out[rows[done]] = a[done]
            keep = np.flatnonzero(~done)
            rows, c, a, passive = rows[keep], c[keep], a[keep], passive[keep]
        out[rows] = a
        return out

    def unmix(self, pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Abundances float32 ``(n, m)`` and RMS residual float32 ``(n,)`` of spectra ``(n, b)``."""
        with single_thread(torch=False):  # many tiny products: BLAS threads only wait for each other
            a, rmse = self.unmix_bands(np.asarray(pixels).T)
        return np.ascontiguousarray(a.T), rmse

    def unmix_bands(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Abundances float32 ``(m, n)`` and RMS residual float32 ``(n,)`` of spectra given band by band,
        ``(b, n)`` (as a cube strip is read). Safe in worker threads; BLAS threads are left as they are (the
        caller limits them, e.g. :func:`~geoml_qgis.core.threads.single_thread` around the workers)."""
        b, n = values.shape
        m = self.n_endmembers
        c, xx = np.empty((n, m)), np.empty(n)
        e_t = np.ascontiguousarray(self.endmembers.T)
        for s in range(0, n, CHUNK):  # float64 copies of a few thousand spectra at a time
            x = np.asarray(values[:, s:s + CHUNK], np.float64)
            np.matmul(x.T, e_t, out=c[s:s + CHUNK])
            np.einsum("ij,ij->j", x, x, out=xx[s:s + CHUNK])
        a = self._abundances(c)
        rss = xx - 2 * np.einsum("ij,ij->i", a, c) + np.einsum("ij,ij->i", a @ self.gram, a)
        rmse = np.sqrt(np.maximum(rss, 0.0) / b)
        return np.ascontiguousarray(a.T, np.float32), rmse.astype(np.float32)


def endmembers_by_class(library) -> tuple[list[str], np.ndarray]:
    """One endmember per class name of a :class:`~.library.SpectralLibrary`: the mean of its spectra ``(m, b)``
    (NaN where one of them was not measured)."""
    y = library.y
    spectra = np.stack([library.spectra[y == k].mean(axis=0) for k in range(len(library.classes))])
    return list(library.classes), spectra
