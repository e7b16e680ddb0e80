"""Log-ratio transforms of compositions (Aitchison geometry) and their inverses.

For a composition ``x`` of D positive parts (one row):

* ``alr(x)_i = ln(x_i / x_D)`` for i < D (the last part, or a chosen one, is the denominator);
* ``clr(x)_i = ln(x_i) - mean_j ln(x_j)``; rows sum to zero;
* ``ilr(x) = clr(x) @ V`` with V (D, D-1) an orthonormal basis of the clr plane. The default
  basis is the sequential binary partition ``{x_1..x_i} | x_{i+1}``: balance i (i = 1..D-1) is
  ``sqrt(i / (i + 1)) * ln(g(x_1..x_i) / x_{i+1})``, g the geometric mean (a Helmert basis);
* the inverses return the composition closed to a constant sum (1 by default); the parts'
  absolute levels are not recoverable from log-ratios, only their ratios.

Zeros have no logarithm: :func:`multiplicative_replacement` puts ``delta`` (65 % of the
part's detection limit by default, or a given value) in each zero and shrinks the non-zero
parts of that row so its total is unchanged; ratios among non-zero parts are kept.
"""
from __future__ import annotations

import numpy as np

from ..errors import GeoMLError

LOG_RATIOS = ("alr", "clr", "ilr")


def _positive(x: np.ndarray, what: str) -> np.ndarray:
    x = np.asarray(x, float)
    if x.ndim != 2 or x.shape[1] < 2:
        raise GeoMLError(f"The {what} needs a table of at least two parts (columns).")
    if not np.isfinite(x).all():
        raise GeoMLError(f"The {what} needs every value: some are missing or not finite.")
    if (x <= 0).any():
        raise GeoMLError(f"The {what} needs positive values: replace zeros first (multiplicative replacement).")
    return x


def closure(x: np.ndarray, total: float = 1.0) -> np.ndarray:
    """Rows of (n, D) positive parts rescaled to sum to *total*."""
    x = np.asarray(x, float)
    return total * x / x.sum(axis=1, keepdims=True)


def multiplicative_replacement(x: np.ndarray, delta: float | np.ndarray | None = None,
                               detection_limit: np.ndarray | None = None, total: float | None = None) -> np.ndarray:
    """Zeros of (n, D) non-negative parts replaced by *delta* (per part, or one value), the other
    parts of the row multiplied by ``1 - sum(delta of its zeros) / total`` (``total``: the row's
    sum when not given). Without *delta*, 0.65 x *detection_limit* (per part), or 0.65 x the
    part's smallest positive value when no limit is given. Returns (n, D)."""
    x = np.asarray(x, float)
    if (x < 0).any() or not np.isfinite(x).all():
        raise GeoMLError("Multiplicative replacement needs non-negative, finite values.")
    zero = x == 0
    if delta is None:
        if detection_limit is None:
            pos = np.where(x > 0, x, np.inf).min(axis=0)
            if np.isinf(pos).any():
                raise GeoMLError("A part is zero in every sample: it cannot be used.")
            delta = 0.65 * pos
        else:
            delta = 0.65 * np.asarray(detection_limit, float)
    d = np.broadcast_to(np.asarray(delta, float), (x.shape[1],))
    rows = x.sum(axis=1) if total is None else np.full(len(x), float(total))
    added = (zero * d).sum(axis=1)
    if (added >= rows).any():
        raise GeoMLError("The replacement values would exceed a sample's total: use smaller ones.")
    out = x * (1 - added / rows)[:, None]
    out[zero] = np.broadcast_to(d, x.shape)[zero]
    return out


def alr(x: np.ndarray, denominator: int = -1) -> np.ndarray:
    """Additive log-ratio, (n, D) -> (n, D-1): ln of each part over part *denominator*."""
    x = _positive(x, "additive log-ratio (alr)")
    j = denominator % x.shape[1]
    logs = np.log(x)
    return np.delete(logs - logs[:, [j]], j, axis=1)


def alr_inverse(y: np.ndarray, denominator: int = -1, total: float = 1.0) -> np.ndarray:
    """Composition (n, D) closed to *total* from alr coordinates (n, D-1)."""
    y = np.asarray(y, float)
    d = y.shape[1] + 1
    j = denominator % d
    return closure(np.exp(np.insert(y, j, 0.0, axis=1)), total)


def clr(x: np.ndarray) -> np.ndarray:
    """Centred log-ratio (n, D) -> (n, D); each row sums to 0."""
    logs = np.log(_positive(x, "centred log-ratio (clr)"))
    return logs - logs.mean(axis=1, keepdims=True)


def clr_inverse(y: np.ndarray, total: float = 1.0) -> np.ndarray:
    """Composition (n, D) closed to *total* from clr coordinates."""
    return closure(np.exp(np.asarray(y, float)), total)


def balance_basis(d: int) -> np.ndarray:
    """The default ilr basis V of shape (D, D-1): orthonormal columns, each orthogonal to ones;
    column i contrasts parts 1..i (weight 1/i each) with part i+1 (see the module docstring)."""
    if d < 2:
        raise GeoMLError("Log-ratio coordinates need at least two parts.")
    v = np.zeros((d, d - 1))
    for i in range(1, d):
        v[:i, i - 1] = 1.0 / i
        v[i, i - 1] = -1.0
        v[:, i - 1] *= np.sqrt(i / (i + 1.0))
    return v


def ilr(x: np.ndarray, basis: np.ndarray | None = None) -> np.ndarray:
    """Isometric log-ratio (n, D) -> (n, D-1) in *basis* (default :func:`balance_basis`)."""
    c = clr(x)
    v = balance_basis(c.shape[1]) if basis is None else np.asarray(basis, float)
    if v.shape != (c.shape[1], c.shape[1] - 1):
        raise GeoMLError(f"The ilr basis must have shape ({c.shape[1]}, {c.shape[1] - 1}); got {v.shape}.")
    return c @ v


def ilr_inverse(y: np.ndarray, basis: np.ndarray | None = None, total: float = 1.0) -> np.ndarray:
    """Composition (n, D) closed to *total* from ilr coordinates (n, D-1)."""
    y = np.asarray(y, float)
    v = balance_basis(y.shape[1] + 1) if basis is None else np.asarray(basis, float)
    return clr_inverse(y @ v.T, total)


def log_ratio(x: np.ndarray, kind: str) -> np.ndarray:
    """``alr``, ``clr`` or ``ilr`` of (n, D) positive parts."""
    funcs = {"alr": alr, "clr": clr, "ilr": ilr}
    if kind not in funcs:
        raise GeoMLError(f"Unknown log-ratio '{kind}'; choose one of {', '.join(LOG_RATIOS)}.")
    return funcs[kind](x)


def log_ratio_inverse(y: np.ndarray, kind: str, total: float = 1.0) -> np.ndarray:
    """The inverse of :func:`log_ratio` (default basis and denominator), closed to *total*."""
    funcs = {"alr": alr_inverse, "clr": clr_inverse, "ilr": ilr_inverse}
    if kind not in funcs:
        raise GeoMLError(f"Unknown log-ratio '{kind}'; choose one of {', '.join(LOG_RATIOS)}.")
    return funcs[kind](y, total=total)


def transform_table(values, kind: str, inverse: bool = False, denominator: int = -1, total: float = 1.0,
                    zero_fraction: float = 0.65):
    """Log-ratio coordinates of a table of parts, or parts from coordinates (``inverse``).

    *values*: DataFrame (n, D) of parts (forward) or coordinates (inverse). Forward, zeros are
    first replaced multiplicatively by *zero_fraction* x the part's smallest positive value.
    Returns ``(DataFrame of new columns, notes)``; columns ``alr_<part>`` (over the denominator
    part), ``clr_<part>``, ``ilr_<i>`` (balance i: parts 1..i against part i+1, in column order),
    or, inverse, ``<name>`` for clr coordinates named ``clr_<name>`` and ``part_<j>`` otherwise,
    closed to *total*.
    """
    import pandas as pd

    names = [str(c) for c in values.columns]
    x = values.to_numpy(float)
    notes = []
    if kind not in LOG_RATIOS:
        raise GeoMLError(f"Unknown log-ratio '{kind}'; choose one of {', '.join(LOG_RATIOS)}.")
    if inverse:
        if not np.isfinite(x).all():
            raise GeoMLError("Some coordinates are missing or not finite.")
        if kind == "alr":
            parts = alr_inverse(x, denominator if denominator >= 0 else -1, total)
        else:
            parts = log_ratio_inverse(x, kind, total)
        if kind == "clr":
            out = [n[4:] if n.startswith("clr_") else n for n in names]
        else:
            out = [f"part_{j + 1}" for j in range(parts.shape[1])]
        return pd.DataFrame(parts, columns=out, index=values.index), notes
    if np.isnan(x).any():
        i = int(np.flatnonzero(np.isnan(x).any(axis=1))[0])
        raise GeoMLError(f"Row {i + 1} has a blank part; fill or remove it before a log-ratio transform.")
    if (x < 0).any():
        i, j = (int(v[0]) for v in np.nonzero(x < 0))
        raise GeoMLError(f"'{names[j]}' is negative ({x[i, j]:g}) in row {i + 1}: parts must be concentrations "
                         "(negative detection-limit codes must be cleaned first).")
    zeros = int((x == 0).sum())
    if zeros:
        pos = np.where(x > 0, x, np.inf).min(axis=0)
        if np.isinf(pos).any():
            raise GeoMLError(f"'{names[int(np.flatnonzero(np.isinf(pos))[0])]}' is zero in every row.")
        x = multiplicative_replacement(x, delta=zero_fraction * pos)
        notes.append(f"{zeros} zero(s) replaced multiplicatively by {zero_fraction:g} x the part's smallest positive value.")
    if kind == "alr":
        j = denominator % len(names)
        cols = [f"alr_{n}" for k, n in enumerate(names) if k != j]
        notes.append(f"alr denominator: {names[j]}.")
        return pd.DataFrame(alr(x, j), columns=cols, index=values.index), notes
    if kind == "clr":
        return pd.DataFrame(clr(x), columns=[f"clr_{n}" for n in names], index=values.index), notes
    notes.append("ilr balances: " + "; ".join(f"ilr_{i} = {'+'.join(names[:i])} vs {names[i]}" for i in range(1, len(names))))
    return pd.DataFrame(ilr(x), columns=[f"ilr_{i}" for i in range(1, len(names))], index=values.index), notes
