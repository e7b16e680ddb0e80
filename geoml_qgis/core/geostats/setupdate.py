"""Neighbour sets that differ from a solved set by one sample: solved by a rank-2 update.

Adjacent targets often have sets that differ by one sample swapped. If set ``S'`` is set ``S``
with its sample at position ``i`` replaced, its bordered matrix (in ``S``'s order, the new sample
at position i) is ``A' = A + d e_i^T + e_i d^T`` with ``d = A'[:, i] - A[:, i]`` (``d_i = 0``: the
diagonal is constant). By the Sherman-Morrison-Woodbury formula, with ``U = [d, e_i]``,
``Z = A^-1 U`` and ``y = A^-1 b``::

    A'^-1 b = y - Z C^-1 [y_i, d . y],     C = I + [e_i, d]^T Z   (2 x 2)

so a *child* set needs no factorisation of its own: its right-hand sides, ``d`` and ``e_i`` are
extra right-hand sides of its *root*'s solve, and the correction costs O(K) per target. Roots
are a maximal independent set of the graph of one-swap pairs (every other set in the graph is next
to one); a child whose 2 x 2 system is near-singular, or whose weights do not sum to one, is
solved in full instead.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: children whose capacitance determinant is below this share of its terms are solved in full
CAPACITANCE_TOL = 1e-8


@dataclass
class Forest:
    """``roots (R,)``: sets solved in full; child ``c`` is set ``child[c]``, which is set
    ``parent[c]`` (``roots[rank[c]]``; children sorted by it) with the sample at position ``slot[c]``
    replaced by sample ``added[c]``."""

    roots: np.ndarray
    child: np.ndarray
    parent: np.ndarray
    rank: np.ndarray
    slot: np.ndarray
    added: np.ndarray


def one_swaps(sets: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, ...]:
    """The pairs ``(a, b)`` of *pairs (E, 2)* whose sorted sets differ by one sample.

    Returns ``a, b`` and, seen from a: the position of the sample b lacks and the sample b has
    instead; seen from b: the same two.
    """
    a, b = pairs[:, 0], pairs[:, 1]
    if len(sets) and sets.max() < 2 ** 31:  # half the memory traffic
        sets = sets.astype(np.int32)
    sa, sb = sets[a], sets[b]
    k = sets.shape[1]
    same = sa == sb
    # matches at the same position or one apart: each shared sample counts at most once (samples are
    # distinct), so k - 1 of them make the sets one swap apart, and a swap leaves no other match
    shared = (np.count_nonzero(same, axis=1) + np.count_nonzero(sa[:, 1:] == sb[:, :-1], axis=1)
              + np.count_nonzero(sa[:, :-1] == sb[:, 1:], axis=1))
    ok = shared == k - 1
    lo = np.argmin(same, axis=1)
    hi = k - 1 - np.argmin(same[:, ::-1], axis=1)
    rows = np.arange(len(a))
    left = (lo == hi) | (sa[rows, np.minimum(lo + 1, k - 1)] == sb[rows, lo])  # a drops a[lo], b adds b[hi]
    drop_a, drop_b = np.where(left, lo, hi), np.where(left, hi, lo)
    add_b, add_a = sb[rows, drop_b], sa[rows, drop_a]
    return a[ok], b[ok], drop_a[ok], add_b[ok], drop_b[ok], add_a[ok]


def _independent(n: int, src: np.ndarray, dst: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """A maximal independent set (mask ``(n,)``) of the graph with directed edges ``src -> dst``
    (both directions listed, sorted by src), preferring high *priority* (Luby's rounds)."""
    state = np.zeros(n, np.int8)  # 0 undecided, 1 in the set, -1 next to it
    has = np.zeros(n, bool)
    has[src] = True
    state[~has] = 1
    first = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]) if len(src) else np.zeros(0, np.intp)
    while (state == 0).any():
        p = np.where(state[dst] == 0, priority[dst], -np.inf)
        best = np.full(n, -np.inf)
        if len(first):
            best[src[first]] = np.maximum.reduceat(p, first)
        win = (state == 0) & (priority > best)
        state[win] = 1
        near = dst[win[src]]
        state[near[state[near] == 0]] = -1
    return state == 1


def forest(sets: np.ndarray, pairs: np.ndarray, seed: int = 0) -> Forest:
    """Roots and children (see :class:`Forest`) of the sets ``sets (G, k)`` (ascending indices) from
    candidate pairs ``pairs (E, 2)`` of sets, e.g. of adjacent targets."""
    G = len(sets)
    a, b, drop_a, add_b, drop_b, add_a = one_swaps(sets, pairs)
    src, dst = np.r_[a, b], np.r_[b, a]
    drop, add = np.r_[drop_a, drop_b], np.r_[add_b, add_a]  # seen from src: dst drops src[drop], adds add
    order = np.argsort(src, kind="stable")
    src, dst, drop, add = src[order], dst[order], drop[order], add[order]
    degree = np.bincount(src, minlength=G)
    priority = degree + np.random.default_rng(seed).random(G)
    root = _independent(G, src, dst, priority)
    link = np.flatnonzero(root[src] & ~root[dst])
    _, first = np.unique(dst[link], return_index=True)
    link = link[first]
    rank = np.cumsum(root) - 1
    link = link[np.argsort(rank[src[link]], kind="stable")]
    return Forest(np.flatnonzero(root), dst[link], src[link], rank[src[link]], drop[link], add[link])


#: roots solved together (bounds the extended right-hand sides held at once)
ROOT_CHUNK = 1024

#: float64 elements of one batch of systems (left- and right-hand sides) being solved (also :mod:`.setsolve`'s)
LHS_ELEMENTS = 300_000


@dataclass
class _Layout:
    """Extended right-hand sides ``rhs (M, K)`` of a chunk of roots, root by root: the root's targets,
    then per child its ``d``, its ``e_i`` and its targets (in the root's order). ``first (R,)``, ``count
    (R,)``: each root's rows; per row, ``col`` its column within its root and ``cd``, ``ce`` the columns
    of its child's ``d`` and ``e_i`` (its own column for a root's target); ``target (M,)`` the target
    of a row (-1 for ``d`` and ``e_i``); per child ``row (C,)``: the row of its ``d``."""

    rhs: np.ndarray
    first: np.ndarray
    count: np.ndarray
    col: np.ndarray
    cd: np.ndarray
    ce: np.ndarray
    target: np.ndarray
    row: np.ndarray


def _ranges(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Owner ``(sum(count),)`` and ``first[owner] + j`` of every item ``j < count[owner]``."""
    owner = np.repeat(np.arange(len(count)), count)
    j = np.arange(len(owner)) - np.repeat(np.cumsum(count) - count, count)
    return owner, first[owner] + j


def _padded(count: np.ndarray) -> np.ndarray:
    """Column counts of roots padded with zero columns (at most 1/8 more) to fewer distinct counts:
    fewer and larger batches."""
    step = 2 ** np.maximum(0, np.floor(np.log2(np.maximum(count, 1))).astype(np.intp) - 3)
    return -(-count // step) * step


def _swap_order(sets: np.ndarray, slot: np.ndarray, added: np.ndarray) -> np.ndarray:
    """``(C, k)``: position in each child's (ascending) set of the sample at each position of its
    parent's set ``sets (C, k)`` once position ``slot`` holds sample ``added``."""
    k = sets.shape[1]
    m = np.arange(k)
    rows = np.arange(len(sets))
    perm = m - (m > slot[:, None]) + (sets > added[:, None])
    perm[rows, slot] = (sets < added[:, None]).sum(axis=1) - (sets[rows, slot] < added)
    return perm


def _layout(systems, f: Forest, roots: np.ndarray, kids: np.ndarray, rhs: np.ndarray, order: np.ndarray,
            starts: np.ndarray, sizes: np.ndarray) -> _Layout:
    """The extended right-hand sides of roots ``f.roots[roots]`` and children ``kids`` (indices into
    the forest's children, sorted by parent; their parents among these roots)."""
    kp = rhs.shape[1]
    g = f.roots[roots]
    local = np.searchsorted(roots, f.rank[kids])
    own, extra = sizes[g], 2 + sizes[f.child[kids]]
    count = _padded(own + np.bincount(local, weights=extra, minlength=len(g)).astype(np.intp))
    first = np.cumsum(count) - count
    before = np.cumsum(extra) - extra
    base = first[local] + own[local] + before - before[np.searchsorted(local, local)]
    total = int(count.sum())
    out = np.zeros((total, kp))
    target = np.full(total, -1, np.intp)
    owner, dst = _ranges(first, own)
    src = order[starts[g][owner] + dst - first[owner]]
    out[dst], target[dst] = rhs[src], src
    cd, ce = np.arange(total), np.arange(total)
    _children(systems, f, kids, rhs, order, starts, base, out, target, cd, ce)
    col = np.arange(total) - np.repeat(first, count)
    rows = np.repeat(first, count)
    return _Layout(out, first, count, col, cd - rows, ce - rows, target, base)


def _children(systems, f: Forest, kids: np.ndarray, rhs: np.ndarray, order: np.ndarray, starts: np.ndarray,
              base: np.ndarray, out: np.ndarray, target: np.ndarray, cd: np.ndarray, ce: np.ndarray) -> None:
    """Fill the children's rows of the extended right-hand sides *out* (see :func:`_layout`)."""
    kp, k = rhs.shape[1], systems.k
    child, parent, slot, added = f.child[kids], f.parent[kids], f.slot[kids], f.added[kids]
    loc = systems.loc[parent]
    rows = np.arange(len(kids))
    new = systems.position[added]
    at = loc * systems.width
    d = systems.table.take(at + new[:, None]) - systems.table.take(at + loc[rows, slot][:, None])
    d[rows, slot] = 0.0
    out[base] = d
    out[base + 1, slot] = 1.0
    size = np.diff(np.r_[starts, len(rhs)])[child]
    owner, dst = _ranges(base + 2, size)
    src = order[starts[child][owner] + dst - base[owner] - 2]
    border = np.broadcast_to(np.arange(k, kp), (len(kids), kp - k))
    perm = np.hstack([_swap_order(systems.sets[parent], slot, added), border])
    out[dst] = rhs.take((src * kp)[:, None] + perm[owner])
    target[dst] = src
    cd[dst], ce[dst] = base[owner], base[owner] + 1
    cd[base + 1], ce[base] = base, base + 1


def solve_each(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solutions of ``a (G, K, K)`` with ``b (G, K, s)`` and which systems are exactly singular
    (zeros there): one batched solve, system by system only when one of them is singular."""
    try:
        return np.linalg.solve(a, b), np.zeros(len(a), bool)
    except np.linalg.LinAlgError:
        w, bad = np.zeros(b.shape), np.zeros(len(a), bool)
        for j in range(len(a)):
            try:
                w[j] = np.linalg.solve(a[j], b[j])
            except np.linalg.LinAlgError:
                bad[j] = True
        return w, bad


def _lu(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`solve_each`, through the inverse where there are more right-hand sides than rows:
    LAPACK's triangular solves cost about a third of a factorisation per 16 columns at K = 33, a
    matrix product far less."""
    if b.shape[2] > a.shape[1]:
        inv, bad = solve_each(a, np.broadcast_to(np.eye(a.shape[1]), a.shape))
        return np.matmul(inv, b), bad
    return solve_each(a, b)


def _products(systems, g: np.ndarray, lay: _Layout, values: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Solve every root ``g`` of *lay* with its rows: per row, the solution times *values* (the
    root's samples' rows), and ``M[col, col], M[col, cd], M[col, ce], M[cd, col], M[ce, col]`` with
    ``M[i, j]`` = right-hand side i times solution j; and which roots were singular."""
    kp, k = lay.rhs.shape[1], systems.k
    est, stats = np.empty((len(lay.rhs), values.shape[1])), np.empty((len(lay.rhs), 5))
    singular = np.zeros(len(g), bool)
    for n in np.unique(lay.count).tolist():
        same = np.flatnonzero(lay.count == n)
        per = max(1, LHS_ELEMENTS // (kp * (kp + 2 * n)))
        for c in range(0, len(same), per):
            r = same[c:c + per]
            pos = lay.first[r][:, None] + np.arange(n)
            b = lay.rhs[pos]
            a = systems(g[r])
            w, bad = _lu(a, b.transpose(0, 2, 1))
            singular[r] = bad
            est[pos] = np.matmul(w[:, :k].transpose(0, 2, 1), values[systems.sets[g[r]]])
            stats[pos] = _five(b, w, lay.col[pos], lay.cd[pos], lay.ce[pos])
    return est, stats, singular


#: rows of a root up to which all their products are formed at once (one matrix product); beyond, row by row
SQUARE_ROWS = 128


def _five(b: np.ndarray, w: np.ndarray, col: np.ndarray, cd: np.ndarray, ce: np.ndarray) -> np.ndarray:
    """``(G, n, 5)``: ``M[col, col], M[col, cd], M[col, ce], M[cd, col], M[ce, col]`` of each row, with
    ``M[i, j]`` = right-hand side ``b (G, n, K)`` row i times solution ``w (G, K, n)`` column j. Up to
    :data:`SQUARE_ROWS` rows one product of all pairs is fastest; a set serving thousands of cells
    would make that square huge (gigabytes), so there the five are formed row by row."""
    G, n = col.shape
    if n <= SQUARE_ROWS:
        m = np.matmul(b, w).ravel()
        o = (np.arange(G) * n * n)[:, None]
        return m.take(np.stack([o + col * n + col, o + col * n + cd, o + col * n + ce,
                                o + cd * n + col, o + ce * n + col], axis=-1))
    wt = w.transpose(0, 2, 1)  # row j: solution j

    def dot(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.einsum("gjk,gjk->gj", u, v)

    def rows(x: np.ndarray, at: np.ndarray) -> np.ndarray:
        return np.take_along_axis(x, at[..., None], 1)

    return np.stack([dot(b, rows(wt, col)), dot(b, rows(wt, cd)), dot(b, rows(wt, ce)),
                     dot(rows(b, cd), wt), dot(rows(b, ce), wt)], axis=-1)


def solve_forest(systems, f: Forest, rhs: np.ndarray, order: np.ndarray, starts: np.ndarray, values: np.ndarray,
                 est: np.ndarray, wb: np.ndarray) -> np.ndarray:
    """Solve the roots and children of *f*, writing ``est (m, q)`` and ``wb (m,)`` as
    :func:`.setsolve.solve_sets` does; returns the sets left to solve in full (singular roots
    with their children, children whose update is ill-conditioned)."""
    sizes = np.diff(np.r_[starts, len(rhs)])
    values = np.hstack([values, np.ones((len(values), 1))])  # the last column sums the weights
    redo = []
    for r0 in range(0, len(f.roots), ROOT_CHUNK):
        roots = np.arange(r0, min(r0 + ROOT_CHUNK, len(f.roots)))
        kids = np.arange(*np.searchsorted(f.rank, [roots[0], roots[-1] + 1]))
        lay = _layout(systems, f, roots, kids, rhs, order, starts, sizes)
        e, stats, singular = _products(systems, f.roots[roots], lay, values)
        redo.append(_finish(systems, f, roots, kids, lay, e, stats, singular, values, est, wb))
    return np.concatenate(redo) if redo else np.zeros(0, np.intp)


def _finish(systems, f: Forest, roots: np.ndarray, kids: np.ndarray, lay: _Layout, e: np.ndarray,
            stats: np.ndarray, singular: np.ndarray, values: np.ndarray, est: np.ndarray, wb: np.ndarray
            ) -> np.ndarray:
    """Write the estimates of a chunk's targets (see :func:`solve_forest`); returns its sets to redo."""
    q = est.shape[1]
    own = (lay.target >= 0) & (lay.cd == lay.col)
    t = lay.target[own]
    est[t], wb[t] = e[own, :q], stats[own, 0]
    owner = np.repeat(np.arange(len(roots)), lay.count)
    singular[owner[own][~(np.abs(e[own, q] - 1.0) <= 1e-6)]] = True  # NaN too
    d, z = lay.row, lay.row + 1
    c00, c01, c10, c11 = 1.0 + stats[d, 4], stats[z, 4], stats[d, 3], 1.0 + stats[z, 3]
    det = c00 * c11 - c01 * c10
    bad = ~(np.abs(det) > CAPACITANCE_TOL * (np.abs(c00 * c11) + np.abs(c01 * c10)))
    det[bad] = 1.0  # solved in full instead
    bad |= singular[np.searchsorted(roots, f.rank[kids])]
    rows = np.flatnonzero((lay.target >= 0) & ~own)
    c = np.searchsorted(d, lay.first[owner[rows]] + lay.cd[rows])
    v0, v1 = stats[rows, 4], stats[rows, 3]
    u0 = (c11[c] * v0 - c01[c] * v1) / det[c]
    u1 = (c00[c] * v1 - c10[c] * v0) / det[c]
    xi = v0 - u0 * (c00[c] - 1.0) - u1 * c01[c]
    full = e[rows] - u0[:, None] * e[d[c]] - u1[:, None] * e[z[c]]
    parent, slot, added = f.parent[kids], f.slot[kids], f.added[kids]
    swap = values[added] - values[systems.sets[parent, slot]]
    t = lay.target[rows]
    est[t] = full[:, :q] + xi[:, None] * swap[c, :q]
    wb[t] = stats[rows, 0] - u0 * stats[rows, 1] - u1 * stats[rows, 2]
    bad[c[~(np.abs(full[:, q] - 1.0) <= 1e-6)]] = True
    return np.r_[f.roots[roots[singular]], f.child[kids[bad]]]
