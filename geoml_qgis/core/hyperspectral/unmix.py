"""Linear spectral unmixing: abundances of library endmembers per pixel, non-negative and optionally summing to one.

A pixel ``x`` (``b`` bands) is modelled as ``a @ E`` for endmembers ``E`` ``(m, b)``;
the abundances ``a`` minimise ``|x - a E|^2`` subject to ``a >= 0`` (NNLS) and, for
fully constrained least squares (FCLS), ``sum(a) = 1``. Both are solved exactly, on
all pixels of a block at once, by active-set methods: the least-squares problem on a
pixel's passive set (the endmembers not held at zero) depends only on that set, so
pixels are sorted by it and each group is solved with one small matrix (cached across
blocks), never with a Python loop over pixels. Only ``E E^T`` and ``x E^T`` are needed,
so the cost per pixel is one product with the endmembers plus ``O(m^2)`` per step.

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
        self._solvers: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def n_endmembers(self) -> int:
        return self.endmembers.shape[0]

    def _solver(self, code: int) -> tuple[np.ndarray, np.ndarray]:
        """The affine map ``c -> W c + w0`` giving the least-squares abundances on passive set *code*.

        ``W`` ``(m, m)`` and ``w0`` ``(m, 1)`` are zero outside the passive endmembers; for FCLS they solve
        the KKT system ``[[G_P, 1], [1^T, 0]] [a_P, mu] = [c_P, 1]``, for NNLS ``G_P a_P = c_P``.
        """
        if code not in self._solvers:
            m = self.n_endmembers
            idx = np.flatnonzero([(code >> j) & 1 for j in range(m)])
            g = self.gram[np.ix_(idx, idx)]
            w, w0 = np.zeros((m, m)), np.zeros((m, 1))
            if self.method == "fcls":
                k = np.zeros((idx.size + 1, idx.size + 1))
                k[:-1, :-1], k[:-1, -1], k[-1, :-1] = g, 1.0, 1.0
                inv = np.linalg.inv(k)
                w[np.ix_(idx, idx)] = inv[:-1, :-1]
                w0[idx, 0] = inv[:-1, -1]
            else:
                w[np.ix_(idx, idx)] = np.linalg.inv(g)
            self._solvers[code] = (w, w0)
        return self._solvers[code]

    @staticmethod
    def _codes(passive: np.ndarray) -> np.ndarray:
        """The passive set of every column of ``(m, t)`` as an unsigned integer (bit ``j``: endmember ``j``)."""
        packed = np.packbits(passive, axis=0, bitorder="little")
        width = 2 if len(packed) <= 2 else 4  # 16-bit codes sort by radix
        full = np.zeros((passive.shape[1], width), np.uint8)
        full[:, :len(packed)] = packed.T
        return full.view(f"<u{width}")[:, 0]

    def _solve_sorted(self, codes: np.ndarray, c: np.ndarray) -> np.ndarray:
        """Least squares restricted to each column's passive set, columns sorted by *codes*: ``(m, t)``, zero
        outside the passive set. One matrix product per run of equal codes."""
        z = np.zeros_like(c)
        fcls = self.method == "fcls"
        cuts = np.flatnonzero(codes[1:] != codes[:-1]) + 1
        for s, e in zip([0, *cuts], [*cuts, len(codes)]):
            code = int(codes[s])
            if code:
                w, w0 = self._solver(code)
                np.matmul(w, c[:, s:e], out=z[:, s:e])
                if fcls:  # NNLS has no constant term
                    z[:, s:e] += w0
        return z

    def _abundances(self, c: np.ndarray, pivot_steps: int = PIVOT_STEPS) -> np.ndarray:
        """Abundances ``(m, n)`` from the products ``c = E x`` ``(m, n)``, pixels as columns."""
        out, left = self._pivoting(c, pivot_steps)
        if left.size:
            out[:, left] = self._primal(np.ascontiguousarray(c[:, left]))
        return out

    def _pivoting(self, c: np.ndarray, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
        """Block principal pivoting: abundances ``(m, n)`` and the columns not finished after *max_iter* steps.

        Starts from the endmembers with a positive unconstrained least-squares abundance; the working
        pixels are sorted by passive set at every step and leave once optimal.
        """
        m, n = c.shape
        tol = self._tol
        w, w0 = self._solver((1 << m) - 1)
        passive = (w @ c + w0) > 0
        if self.method == "fcls":  # a sum-to-one solution needs a passive endmember
            passive[:, ~passive.any(axis=0)] = True
        out = np.zeros((m, n))
        cols = np.arange(n)
        chances = np.full(n, 3, np.int8)  # full exchanges left without fewer violations (then one at a time)
        fewest = np.full(n, m + 1, np.int16)  # fewest violations seen
        for _ in range(max_iter):
            if cols.size == 0:
                break
            codes = self._codes(passive)
            order = np.argsort(codes, kind="stable")
            cols, codes, chances, fewest = cols[order], codes[order], chances[order], fewest[order]
            c, passive = c[:, order], passive[:, order]
            z = self._solve_sorted(codes, c)
            y = self.gram @ z - c  # multipliers of the held endmembers (zero on the passive ones)
            if self.method == "fcls":
                y -= (y * passive).sum(axis=0) / np.maximum(passive.sum(axis=0), 1)
            np.copyto(y, 0.0, where=passive)
            violated = (z < -tol) | (y < -tol)
            count = violated.sum(axis=0)
            done = count == 0
            out[:, cols[done]] = np.maximum(z[:, done], 0.0)
            keep = np.flatnonzero(~done)
            cols, c, passive, violated = cols[keep], c[:, keep], passive[:, keep], violated[:, keep]
            count, chances, fewest = count[keep], chances[keep], fewest[keep]
            fewer = count < fewest
            fewest = np.where(fewer, count, fewest)
            chances = np.where(fewer, 3, chances - (chances > 0))
            single = ~fewer & (chances == 0)  # backup rule: exchange only the last violating endmember
            if single.any():
                k = np.flatnonzero(single)
                last = m - 1 - np.argmax(violated[::-1, k], axis=0)
                violated[:, k] = False
                violated[last, k] = True
            passive ^= violated
        return out, cols

    def _primal(self, c: np.ndarray, max_iter: int | None = None) -> np.ndarray:
        """Abundances ``(m, n)`` by the primal (Lawson-Hanson) active-set method, from a feasible start.

        The pixels still iterating are kept together and sorted by passive set at every step, so each
        group is solved on contiguous columns; finished pixels leave the working set. Reductions over the
        endmembers run along the first axis, i.e. as vector operations over pixels.
        """
        m, n = c.shape
        # warm start: the least-squares solution on every endmember (sum to one for FCLS), clipped to the
        # constraints; any feasible start is valid and this one is usually one or two steps from the optimum
        w, w0 = self._solver((1 << m) - 1)
        a = np.maximum(w @ c + w0, 0.0)
        if self.method == "fcls":
            total = a.sum(axis=0)
            a = np.where(total > 0, a / np.where(total > 0, total, 1.0), 1.0 / m)
        out = a.copy()
        passive = a > 0
        cols = np.arange(n)
        tol = self._tol
        for it in range(max_iter or 3 * m + 20):
            if cols.size == 0:
                break
            codes = self._codes(passive)
            order = np.argsort(codes, kind="stable")
            cols, codes = cols[order], codes[order]
            c, a, passive = c[:, order], a[:, order], passive[:, order]
            z = self._solve_sorted(codes, c)
            blocking = passive & (z <= tol)
            feasible = ~np.logical_or.reduce(blocking, axis=0)
            # infeasible: move towards z until the first passive abundance reaches zero, drop it
            inf = np.flatnonzero(~feasible)
            if inf.size:
                pi, ai, zi, bi = passive[:, inf], a[:, inf], z[:, inf], blocking[:, inf]
                ratio = np.where(bi, ai / np.where(bi, ai - zi, 1.0), np.inf)
                alpha = np.clip(np.minimum.reduce(ratio, axis=0), 0.0, 1.0)
                ai += alpha * (zi - ai)
                pi &= ai > tol
                if it < EAGER_STEPS:  # drop every endmember the step would make negative, not only the first
                    pi &= ~bi
                ai *= pi
                if self.method == "fcls":
                    ai /= ai.sum(axis=0)
                a[:, inf], passive[:, inf] = ai, pi
            # feasible: take z; optimal unless a bound's multiplier is negative, then free that endmember
            fe = np.flatnonzero(feasible)
            zf, pf = z[:, fe], passive[:, fe]
            a[:, fe] = zf
            g = self.gram @ zf - c[:, fe]
            if self.method == "fcls":
                g -= (g * pf).sum(axis=0) / np.maximum(pf.sum(axis=0), 1)
            np.copyto(g, np.inf, where=pf)
            j, gmin = _argmin_rows(g)
            go_on = gmin < -tol
            passive[j[go_on], fe[go_on]] = True
            done = np.zeros(cols.size, bool)
            done[fe[~go_on]] = True
            out[:, cols[done]] = a[:, done]
            keep = np.flatnonzero(~done)
            cols, c, a, passive = cols[keep], c[:, keep], a[:, keep], passive[:, keep]
        out[:, cols] = a
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
        c, xx = np.empty((self.n_endmembers, n)), np.empty(n)
        for s in range(0, n, CHUNK):  # float64 copies of a few thousand spectra at a time
            x = np.asarray(values[:, s:s + CHUNK], np.float64)
            c[:, s:s + CHUNK] = self.endmembers @ x
            np.einsum("ij,ij->j", x, x, out=xx[s:s + CHUNK])
        a = self._abundances(c)
        rss = xx - 2 * np.einsum("ij,ij->j", a, c) + np.einsum("ij,ij->j", self.gram @ a, a)
        rmse = np.sqrt(np.maximum(rss, 0.0) / b)
        return a.astype(np.float32), rmse.astype(np.float32)


def _argmin_rows(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``argmin(axis=0)`` of ``(m, t)`` and the minima, swept row by row (vector operations over columns)."""
    best = g[0].copy()
    arg = np.zeros(g.shape[1], np.intp)
    for k in range(1, len(g)):
        np.putmask(arg, g[k] < best, k)
        np.minimum(best, g[k], out=best)
    return arg, best


def endmembers_by_class(library) -> tuple[list[str], np.ndarray]:
    """One endmember per class name of a :class:`~.library.SpectralLibrary`: the mean of its spectra ``(m, b)``
    (NaN where one of them was not measured)."""
    y = library.y
    spectra = np.stack([library.spectra[y == k].mean(axis=0) for k in range(len(library.classes))])
    return list(library.classes), spectra
