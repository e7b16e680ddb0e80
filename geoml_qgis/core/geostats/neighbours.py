"""The k nearest samples of many targets at once, tile by tile.

Targets close together share most of their nearest samples. Targets are binned into square
tiles; for a tile with centre ``c`` and half-diagonal ``r``, every sample among the k nearest of
one of its targets lies within ``d_k(c) + 2 r`` of ``c`` (triangle inequality), so one k-d tree
query per tile gives each target a short candidate list, and a partial sort of the candidates'
distances picks its k nearest. This is several times faster than one k-d tree query per target
on raster grids. Targets whose k-th and (k+1)-th distances (or a distance and the search radius)
nearly tie are looked up in the k-d tree itself, so the sets are always those of
``cKDTree.query`` (what PyKrige uses).

:func:`grouped_sets` goes one step further for kriging: it returns each distinct set once (its
indices sorted), which targets it serves, and every target's distances to its set's samples,
measured once here and reused for the right-hand sides.
"""
from __future__ import annotations

import importlib

from dataclasses import dataclass

import numpy as np
from scipy.spatial import cKDTree

#: fewest targets for which tiles pay off
MIN_TARGETS = 2048
#: tile side as a share of the typical k-th neighbour distance
TILE_SHARE = 1 / 6
#: relative gap under which two squared distances count as tied
TIE = 1e-9
#: the same for squared distances compared in float32 (4 ulps: covers every float64 near-tie)
TIE32 = 2.5e-7
#: targets handled at once (bounds the candidate distance arrays)
CHUNK = 2048
#: seeds of the two order-free hashes that group targets by set
_HASH_SEED = 20240611


def kdtree_sets(tree: cKDTree, targets: np.ndarray, k: int, radius: float | None = None,
                workers: int = 1) -> np.ndarray:
    """Indices ``(m, k)`` of the k nearest samples (``tree.n`` where none is within *radius*)."""
    ub = np.inf if radius is None else float(radius)
    _, idx = tree.query(targets, k=k, distance_upper_bound=ub, workers=workers)
    return idx.reshape(len(targets), k)


@dataclass
class _Tiles:
    """Targets binned into tiles: ``order`` sorts targets by tile, ``tile (m,)`` is the tile of each
    sorted target, ``cand (T, kc)`` the candidate samples of each tile and ``complete (T,)`` whether
    they surely hold every target's k nearest (and, with a radius, all samples within it)."""

    order: np.ndarray
    tile: np.ndarray
    cand: np.ndarray
    complete: np.ndarray


def _tiles(tree: cKDTree, t: np.ndarray, k: int, radius: float | None, workers: int) -> _Tiles | None:
    """Tiles of targets ``t (m, d)``, or None where the k-d tree alone is the better choice."""
    m, n = len(t), tree.n
    if m < MIN_TARGETS or k < 1:
        return None
    probe = t[:: max(1, m // 64)]
    dk = tree.query(probe, k=k, workers=workers)[0].reshape(len(probe), k)[:, -1]
    side = float(np.median(dk)) * TILE_SHARE
    if radius is not None and radius < 2 * side / TILE_SHARE:
        return None  # a tight radius: the k-d tree prunes well
    lo = t.min(axis=0)
    cells = np.floor((t - lo) / side).astype(np.int64) if side > 0 else np.zeros_like(t, np.int64)
    dims = cells.max(axis=0) + 1
    if np.prod(dims.astype(float)) >= 2 ** 62:
        return None
    key = np.ravel_multi_index(tuple(cells.T), tuple(dims))
    order = np.argsort(key, kind="stable")
    skey = key[order]
    starts = np.flatnonzero(np.r_[True, skey[1:] != skey[:-1]])
    if m / len(starts) < 4:  # sparse targets: tiles would hold one or two each
        return None
    st = t[order]
    tmin = np.minimum.reduceat(st, starts, axis=0)
    tmax = np.maximum.reduceat(st, starts, axis=0)
    centres = (tmin + tmax) / 2
    half = np.sqrt(((tmax - tmin) ** 2).sum(axis=1)) / 2
    tile = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, m]))
    kc = min(n, int(np.ceil(k * (1 + np.sqrt(2) * TILE_SHARE) ** 2 * 1.15)) + 4)
    dc, ic = tree.query(centres, k=kc, workers=workers)
    dc, ic = dc.reshape(len(centres), kc), ic.reshape(len(centres), kc)
    need = dc[:, min(k, kc) - 1] + 2 * half
    if radius is not None:
        need = np.minimum(need, float(radius) + half)
    complete = np.ones(len(centres), bool) if kc >= n else dc[:, -1] > need
    return _Tiles(order, tile, ic, complete)


def _columns(tree: cKDTree) -> list[np.ndarray]:
    return [np.ascontiguousarray(tree.data[:, j]) for j in range(tree.data.shape[1])]


def _squared_distances(cols: list[np.ndarray], cand: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Squared distances ``(c, kc)`` from targets ``t (c, d)`` to their candidates: ``col[cand]`` for
    each axis's array in *cols*, either the samples' coordinates with ``cand (c, kc)`` sample indices,
    or the tiles' candidates' coordinates ``(T, kc)`` with ``cand (c,)`` tile indices (whole rows read)."""
    d2 = None
    for j, col in enumerate(cols):
        diff = col[cand]
        diff -= t[:, j][:, None]
        diff *= diff
        d2 = diff if d2 is None else np.add(d2, diff, out=d2)
    return d2


def _simd_sort() -> bool:
    """Whether numpy sorts float32 rows with AVX-512 (then faster than a partition)."""
    for module in ("numpy._core._multiarray_umath", "numpy.core._multiarray_umath"):  # numpy 2, numpy 1
        try:
            return bool(importlib.import_module(module).__cpu_features__.get("AVX512_SKX"))
        except (ImportError, AttributeError):  # a private name: any failure means the partition
            continue
    return False


_SIMD_SORT = _simd_sort()


def _select(dc2: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Mask ``(c, kc)`` of the k smallest squared distances of each row of *dc2* and which rows are
    unsure (a near-tie at the k-th; for the k-d tree to answer).

    Compared in float32, whose row sort (AVX-512) is several times faster than a float64 partition:
    rounding is monotonic, so where the rounded k-th and (k+1)-th values differ the rounded k-th
    separates the same k candidates as the exact one; closer ones count as ties (:data:`TIE32`).
    """
    f = dc2.astype(np.float32)
    ranked = np.sort(f, axis=1) if _SIMD_SORT else np.partition(f, (k - 1, k) if f.shape[1] > k else k - 1, axis=1)
    dk = ranked[:, k - 1]
    mask = f <= dk[:, None]
    unsure = (np.count_nonzero(mask, axis=1) != k) | ~((dk > 1e-30) & (dk < 1e30))  # float32's safe range
    if f.shape[1] > k:
        unsure |= ranked[:, k] - dk <= TIE32 * dk
    return mask, unsure


def nearest_sets(tree: cKDTree, targets: np.ndarray, k: int, radius: float | None = None,
                 workers: int = 1) -> np.ndarray:
    """Indices ``(m, k)`` of the k nearest samples of each target, in no particular order.

    The same sets as :func:`kdtree_sets` (index ``tree.n`` marks "no sample within *radius*");
    dense targets (raster cells) are served by tiles, see the module docstring.
    """
    t = np.asarray(targets, np.float64)
    m, n = len(t), tree.n
    tiles = _tiles(tree, t, k, radius, workers)
    if tiles is None:
        return kdtree_sets(tree, t, k, radius, workers)
    order, tile, ic = tiles.order, tiles.tile, tiles.cand
    kc = ic.shape[1]
    st = t[order]
    out = np.empty((m, k), np.intp)
    ok = tiles.complete[tile]
    redo = [order[~ok]]
    r2 = None if radius is None else float(radius) ** 2
    cols = _columns(tree)
    sel_rows = np.flatnonzero(ok)
    for s in range(0, len(sel_rows), CHUNK):
        rows = sel_rows[s:s + CHUNK]
        cand = ic[tile[rows]]  # (c, kc) candidate sample indices
        d2 = _squared_distances(cols, cand, st[rows])
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


@dataclass
class GroupedSets:
    """Targets grouped by their set of k nearest samples (no search radius).

    ``order (m,)`` sorts the targets by set; set ``g`` has sample indices ``sets[g]`` (ascending) and
    serves the targets ``order[starts[g]:starts[g + 1]]``; ``distances (m, k)`` are those of the
    targets (in input order) to their set's samples, in the order of ``sets``; ``pairs (E, 2)``: the
    distinct pairs of sets of adjacent targets (see :func:`_adjacent`).
    """

    order: np.ndarray
    starts: np.ndarray
    sets: np.ndarray
    distances: np.ndarray
    pairs: np.ndarray

    @property
    def sizes(self) -> np.ndarray:
        return np.diff(np.r_[self.starts, len(self.order)])


def _hashes(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(_HASH_SEED)
    top = np.iinfo(np.int64).max
    return rng.integers(0, top, n, dtype=np.uint64), rng.integers(0, top, n, dtype=np.uint64)


def _adjacent(t: np.ndarray, order: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Distinct pairs ``(E, 2)`` of the sets of targets ``t (m, d)`` next to each other in input order
    or one grid row apart (a row: the leading targets evenly spaced, as a raster block's cells, also
    rotated by an anisotropy)."""
    m, G = len(order), len(starts)
    group = np.empty(m, np.intp)
    group[order] = np.repeat(np.arange(G), np.diff(np.r_[starts, m]))
    step = np.diff(t, axis=0)
    jump = np.flatnonzero(np.abs(step - step[0]).max(axis=1) > 1e-6 * np.abs(step[0]).max()) if m > 1 else []
    row = int(jump[0]) + 1 if len(jump) else 0
    a, b = group[:-1], group[1:]
    if row > 1:
        a, b = np.r_[a, group[:-row]], np.r_[b, group[row:]]
    keep = a != b
    kind = np.uint32 if G * G < 2 ** 32 else np.int64  # a 32-bit sort is faster
    a, b = a[keep].astype(kind), b[keep].astype(kind)
    key = np.unique(np.minimum(a, b) * kind(G) + np.maximum(a, b))
    return np.column_stack([key // G, key % G])


def grouped_sets(tree: cKDTree, targets: np.ndarray, k: int, workers: int = 1,
                 hashes: tuple[np.ndarray, np.ndarray] | None = None) -> GroupedSets:
    """The k nearest samples of ``targets (m, d)`` grouped by set, see :class:`GroupedSets`.

    The sets are those of :func:`kdtree_sets` (near-ties are looked up in the k-d tree). Targets are
    grouped by an order-free hash of their indices, checked by a second one (*hashes*: two arrays of
    ``tree.n`` random 64-bit words; made here when not given).
    """
    t = np.asarray(targets, np.float64)
    m = len(t)
    idx = np.empty((m, k), np.intp)
    d2 = np.empty((m, k))
    tiles = _tiles(tree, t, k, None, workers)
    cols = _columns(tree)
    redo = [np.arange(m)] if tiles is None else [tiles.order[~tiles.complete[tiles.tile]]]
    h1, h2 = _hashes(tree.n) if hashes is None else hashes
    key, check = np.empty(m, np.uint64), np.empty(m, np.uint64)  # the two hashes of each target's set
    if tiles is not None:
        cand_all = np.sort(tiles.cand, axis=1)  # ascending sample indices: a set reads the same in every tile
        coords = [col[cand_all] for col in cols]
        kc = cand_all.shape[1]
        st = t[tiles.order]
        sel_rows = np.flatnonzero(tiles.complete[tiles.tile])
        first_k = np.arange(kc) < k
        for s in range(0, len(sel_rows), CHUNK):
            rows = sel_rows[s:s + CHUNK]
            cand = cand_all[tiles.tile[rows]]
            dc2 = _squared_distances(coords, tiles.tile[rows], st[rows])
            mask, unsure = _select(dc2, k)
            mask[unsure] = first_k  # placeholders: the k-d tree answers these below
            target = tiles.order[rows]
            flat = np.flatnonzero(mask)  # row by row, k per row, in ascending sample order
            near = cand.take(flat).reshape(len(rows), k)
            idx[target], key[target], check[target] = near, h1[near].sum(axis=1), h2[near].sum(axis=1)
            d2[target] = dc2.take(flat).reshape(len(rows), k)
            redo.append(target[unsure])
    redo = np.concatenate(redo)
    if len(redo):
        near = np.sort(kdtree_sets(tree, t[redo], k, None, workers), axis=1)
        idx[redo], key[redo], check[redo] = near, h1[near].sum(axis=1), h2[near].sum(axis=1)
        d2[redo] = _squared_distances(cols, near, t[redo])
    order = np.argsort(key, kind="stable")  # sets in the order of their hash, targets in input order
    skey = key[order]
    starts = np.flatnonzero(np.r_[m > 0, skey[1:] != skey[:-1]])
    first = order[starts]
    if np.any(check[order] != np.repeat(check[first], np.diff(np.r_[starts, m]))):  # a collision (never seen)
        _, first, groups = np.unique(idx, axis=0, return_index=True, return_inverse=True)
        groups = groups.ravel()
        order = np.argsort(groups, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(groups[order]) != 0])
    return GroupedSets(order, starts, idx[first], np.sqrt(d2, out=d2), _adjacent(t, order, starts))
