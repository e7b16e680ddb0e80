"""The k nearest samples of many targets at once, tile by tile.

Targets close together share most of their nearest samples. Targets are binned into square
tiles; for a tile with centre ``c`` and half-diagonal ``r``, every sample among the k nearest of
one of its targets lies within ``d_k(c) + 2 r`` of ``c`` (triangle inequality), so one k-d tree
query per tile gives each target a short candidate list, and a partial sort of the candidates'
distances picks its k nearest. This is several times faster than one k-d tree query per target
on raster grids. Targets whose k-th and (k+1)-th distances (or a distance and the search radius)
nearly tie are looked up in the k-d tree itself, so the sets are always those of
``cKDTree.query`` (what PyKrige uses).
"""
from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

#: fewest targets for which tiles pay off
MIN_TARGETS = 2048
#: tile side as a share of the typical k-th neighbour distance
TILE_SHARE = 1 / 6
#: relative gap under which two squared distances count as tied
TIE = 1e-9
#: targets handled at once (bounds the candidate distance arrays)
CHUNK = 16384


def kdtree_sets(tree: cKDTree, targets: np.ndarray, k: int, radius: float | None = None,
                workers: int = 1) -> np.ndarray:
    """Indices ``(m, k)`` of the k nearest samples (``tree.n`` where none is within *radius*)."""
    ub = np.inf if radius is None else float(radius)
    _, idx = tree.query(targets, k=k, distance_upper_bound=ub, workers=workers)
    return idx.reshape(len(targets), k)


def nearest_sets(tree: cKDTree, targets: np.ndarray, k: int, radius: float | None = None,
                 workers: int = 1) -> np.ndarray:
    """Indices ``(m, k)`` of the k nearest samples of each target, in no particular order.

    The same sets as :func:`kdtree_sets` (index ``tree.n`` marks "no sample within *radius*");
    dense targets (raster cells) are served by tiles, see the module docstring.
    """
    t = np.asarray(targets, np.float64)
    m, n = len(t), tree.n
    if m < MIN_TARGETS or k < 1:
        return kdtree_sets(tree, t, k, radius, workers)
    probe = t[:: max(1, m // 64)]
    dk = tree.query(probe, k=k, workers=workers)[0].reshape(len(probe), k)[:, -1]
    side = float(np.median(dk)) * TILE_SHARE
    if radius is not None and radius < 2 * side / TILE_SHARE:
        return kdtree_sets(tree, t, k, radius, workers)  # a tight radius: the k-d tree prunes well
    lo = t.min(axis=0)
    cells = np.floor((t - lo) / side).astype(np.int64) if side > 0 else np.zeros_like(t, np.int64)
    dims = cells.max(axis=0) + 1
    key = np.ravel_multi_index(tuple(cells.T), tuple(dims)) if np.prod(dims.astype(float)) < 2 ** 62 else None
    if key is None:
        return kdtree_sets(tree, t, k, radius, workers)
    order = np.argsort(key, kind="stable")
    skey = key[order]
    starts = np.flatnonzero(np.r_[True, skey[1:] != skey[:-1]])
    if m / len(starts) < 4:  # sparse targets: tiles would hold one or two each
        return kdtree_sets(tree, t, k, radius, workers)
    st = t[order]
    tmin = np.minimum.reduceat(st, starts, axis=0)
    tmax = np.maximum.reduceat(st, starts, axis=0)
    centres = (tmin + tmax) / 2
    half = np.sqrt(((tmax - tmin) ** 2).sum(axis=1)) / 2
    tile = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, m]))  # tile of each sorted target

    out = np.empty((m, k), np.intp)
    kc = min(n, int(np.ceil(k * (1 + np.sqrt(2) * TILE_SHARE) ** 2 * 1.15)) + 4)
    dc, ic = tree.query(centres, k=kc, workers=workers)
    dc, ic = dc.reshape(len(centres), kc), ic.reshape(len(centres), kc)
    need = dc[:, min(k, kc) - 1] + 2 * half
    if radius is not None:
        need = np.minimum(need, float(radius) + half)
    complete = np.ones(len(centres), bool) if kc >= n else dc[:, -1] > need
    ok = complete[tile]
    redo = [order[~ok]]
    cols = [np.ascontiguousarray(tree.data[:, j]) for j in range(t.shape[1])]
    r2 = None if radius is None else float(radius) ** 2
    sel_rows = np.flatnonzero(ok)
    for s in range(0, len(sel_rows), CHUNK):
        rows = sel_rows[s:s + CHUNK]
        cand = ic[tile[rows]]  # (c, kc) candidate sample indices
        d2 = np.zeros(cand.shape)
        for j, col in enumerate(cols):
            diff = col[cand]
            diff -= st[rows, j][:, None]
            diff *= diff
            d2 += diff
        part = np.argpartition(d2, (k - 1, k) if kc > k else k - 1, axis=1)
        flat = part + (np.arange(len(rows)) * kc)[:, None]
        idx = cand.ravel()[flat[:, :k]]
        dk2 = d2.ravel()[flat[:, k - 1]]
        unsure = np.zeros(len(rows), bool)
        if kc > k:
            dnext = d2.ravel()[flat[:, k]]
            unsure |= dnext - dk2 <= TIE * dk2
        if r2 is not None:
            dsel = d2.ravel()[flat[:, :k]]
            unsure |= (np.abs(dsel - r2) <= TIE * r2).any(axis=1)
            if kc > k:
                unsure |= np.abs(dnext - r2) <= TIE * r2
            idx[dsel > r2] = n
        out[order[rows]] = idx
        redo.append(order[rows[unsure]])
    redo = np.concatenate(redo)
    if len(redo):
        out[redo] = kdtree_sets(tree, t[redo], k, radius, workers)
    return out
