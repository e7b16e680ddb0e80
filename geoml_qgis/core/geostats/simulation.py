"""Sequential Gaussian simulation (SGS) on a raster grid.

1. The data are normal-score transformed (:class:`~.normalscore.NormalScore`); the variogram model is
   that of the normal scores (total sill about 1).
2. Data inside the grid are moved to the centre of their cell (one per cell: the one nearest the
   centre; the others are dropped and counted), so every realisation honours them exactly at their
   cells; data outside the grid still condition, at their own locations.
3. The realisations visit the cells on a random path (one per batch, below), coarse grids first
   (multigrid: cells on every ``2**L``-th row and column for ``L = multigrid .. 1``, then the rest),
   which lets long ranges be reproduced with a small neighbourhood. At each cell, simple kriging (mean 0) from the ``neighbours``
   nearest data and the ``node_neighbours`` nearest previously simulated cells within ``search_radius``
   gives a mean and a variance; the cell's value is drawn from that normal distribution.
4. Values are back-transformed to data units.

Realisations are simulated in batches sharing one random path (``path_batch``, default 10). Along a
path, each cell's conditioning cells and kriging weights do not depend on the simulated values, so
they are computed for stretches of the path at once, for the whole batch, by several threads; the
draws of a stretch are then one sparse triangular solve with one right-hand side per realisation
(:mod:`.simulation_steps`): the same values as visiting the cells one by one, to rounding. Memory:
one batch of realisation grids plus per-cell tables (neighbours, path positions) of the grid,
whatever the number of realisations; :func:`~.simulation_rasters.simulate_to_rasters` writes them
band by band.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
from scipy.spatial import cKDTree

from ..errors import GeoMLError
from ..io.grid import Grid
from ..progress import ProgressCallback, report
from ..threads import ordered_map, resolve_workers, single_thread
from .kriging import check_samples
from .normalscore import NormalScore
from .simulation_steps import PathPositions, forward_solve, previous_nodes, sk_weights

#: path steps whose neighbours and weights are computed at once (between progress reports)
_STRETCH = 2048
#: cells whose nearest data are looked up at once
_QUERY = 65536


class SequentialGaussianSimulation:
    """Sequential Gaussian simulation conditioned on point data.

    Parameters
    ----------
    model : VariogramModel or NestedModel
        Variogram of the normal scores (sill about 1).
    neighbours : int
        Nearest data used at each cell (default 16).
    node_neighbours : int
        Nearest previously simulated cells used at each cell (default 16).
    search_radius : float, optional
        Largest (anisotropy-corrected) distance to conditioning values; default the model's range.
    multigrid : int
        Number of coarse-grid levels visited first (0: a plain random path).
    path_batch : int
        Realisations simulated together along one random path (default 10): the kriging weights of
        each cell serve all of them (about that many times faster); each batch draws a new path, and
        memory holds one batch of realisation grids.
    zmin, zmax : float, optional
        Tail bounds of the back-transform (default: the data's minimum and maximum).
    workers : int, optional
        Threads computing neighbours and kriging weights (default: every core); results do not
        depend on it.
    """

    def __init__(self, model, neighbours: int = 16, node_neighbours: int = 16, search_radius: float | None = None,
                 multigrid: int = 3, zmin: float | None = None, zmax: float | None = None, path_batch: int = 10,
                 workers: int | None = None):
        if neighbours < 0 or node_neighbours < 0 or neighbours + node_neighbours < 1:
            raise GeoMLError("Use at least one neighbour (data or previously simulated cells).")
        if search_radius is not None and not search_radius > 0:
            raise GeoMLError("The search radius must be a positive distance (leave it empty for the range).")
        if multigrid < 0:
            raise GeoMLError("The number of multigrid levels cannot be negative.")
        self.model = model
        self.neighbours = int(neighbours)
        self.node_neighbours = int(node_neighbours)
        self.search_radius = search_radius
        self.multigrid = int(multigrid)
        self.path_batch = max(1, int(path_batch))
        self.zmin, self.zmax = zmin, zmax
        self.workers = resolve_workers(workers)

    def fit(self, coords: np.ndarray, values: np.ndarray) -> "SequentialGaussianSimulation":
        """Normal-score transform ``values (n,)`` at 2D ``coords (n, 2)``."""
        coords, values = check_samples(coords, values, dims=(2,))
        self.score_ = NormalScore.fit(values, self.zmin, self.zmax)
        self.coords_, self.values_ = coords, values
        self.scores_ = self.score_.transform(values)
        return self

    # set-up per grid -------------------------------------------------------------------
    def _prepare(self, grid: Grid, valid: np.ndarray | None) -> dict:
        h, w = grid.height, grid.width
        x, y = grid.cell_centres()
        centre = np.array([x.mean(), y.mean()])
        nodes = self.model.transform(np.column_stack([x.ravel(), y.ravel()]), centre)
        ok = np.ones(h * w, bool) if valid is None else np.asarray(valid, bool).ravel()
        row, col, inside = grid.rowcol(self.coords_[:, 0], self.coords_[:, 1])
        cell = np.where(inside, row * w + col, -1)
        inside &= ok[np.maximum(cell, 0)]
        # one datum per cell: the one nearest its cell centre
        gx, gy = x.ravel(), y.ravel()
        d2 = np.where(inside, (self.coords_[:, 0] - gx[np.maximum(cell, 0)]) ** 2
                      + (self.coords_[:, 1] - gy[np.maximum(cell, 0)]) ** 2, np.inf)
        order = np.lexsort((d2, cell))
        first = np.r_[True, cell[order][1:] != cell[order][:-1]]
        keep_inside = np.zeros(len(cell), bool)
        keep_inside[order[first & inside[order]]] = True
        dropped = int(inside.sum() - keep_inside.sum())
        fixed_cells = cell[keep_inside]
        outside = ~inside
        data_xy = np.vstack([nodes[fixed_cells], self.model.transform(self.coords_[outside], centre)])
        data_y = np.concatenate([self.scores_[keep_inside], self.scores_[outside]])
        fixed = np.zeros(h * w, bool)
        fixed[fixed_cells] = True
        todo = np.flatnonzero(ok & ~fixed)
        radius = float(self.search_radius or self.model.range)
        k = min(self.neighbours, len(data_y))
        didx = np.zeros((len(todo), k), np.int32 if len(data_y) < 2 ** 31 - 1 else np.int64)
        if k:
            tree = cKDTree(data_xy)
            for s in range(0, len(todo), _QUERY):  # by parts: the query's own arrays are 16 bytes per neighbour
                didx[s:s + _QUERY] = tree.query(nodes[todo[s:s + _QUERY]], k=k, distance_upper_bound=radius,
                                                workers=-1)[1].reshape(-1, k)
        return {"nodes": nodes, "ok": ok, "fixed_cells": fixed_cells, "fixed_y": self.scores_[keep_inside],
                "data_xy": data_xy, "data_y": data_y, "todo": todo, "didx": didx, "dropped": dropped,
                "template": self._template(grid, radius), "levels": self._levels(grid)}

    def _template(self, grid: Grid, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """Row and column offsets of cells within *radius* (model frame), nearest first, without (0, 0)."""
        dx, dy = grid.res
        ni = min(int(np.ceil(radius / dy)), grid.height)
        nj = min(int(np.ceil(radius / dx)), grid.width)
        di, dj = np.meshgrid(np.arange(-ni, ni + 1), np.arange(-nj, nj + 1), indexing="ij")
        di, dj = di.ravel(), dj.ravel()
        off = self.model.transform(np.column_stack([dj * dx, -di * dy]), np.zeros(2))
        dist = np.hypot(off[:, 0], off[:, 1])
        keep = (dist <= radius) & (dist > 0)
        order = np.argsort(dist[keep], kind="stable")
        return di[keep][order], dj[keep][order]

    def _levels(self, grid: Grid) -> np.ndarray:
        r, c = np.divmod(np.arange(grid.height * grid.width), grid.width)
        lev = np.zeros(grid.height * grid.width, np.int8)
        for level in range(1, self.multigrid + 1):
            s = 2 ** level
            lev[(r % s == 0) & (c % s == 0)] = level
        return lev

    # simulation ------------------------------------------------------------------------
    def realisations(self, grid: Grid, n: int, seed: int | None = 0, valid: np.ndarray | None = None,
                     scores: bool = False, progress: ProgressCallback | None = None) -> Iterator[np.ndarray]:
        """Yield *n* realisations ``(height, width)`` on *grid* (data units, or normal scores with
        ``scores=True``); cells where *valid* ``(height, width)`` is False are NaN."""
        if n < 1:
            raise GeoMLError("Ask for at least one realisation.")
        prep = self._prepare(grid, valid)
        self.n_dropped_ = prep["dropped"]
        rng = np.random.default_rng(seed)
        report(progress, 0.0)
        for r0 in range(0, n, self.path_batch):
            b = min(self.path_batch, n - r0)
            ys = self._batch(grid, prep, rng, b, lambda f, r0=r0, b=b: report(progress, (r0 + b * f) / n))
            for i in range(b):
                y = ys[:, i].copy()
                out = y if scores else self.score_.back(y)
                out[~prep["ok"]] = np.nan
                report(progress, (r0 + i + 1) / n)
                yield out.reshape(grid.height, grid.width)

    def _batch(self, grid: Grid, prep: dict, rng: np.random.Generator, b: int, tick=None) -> np.ndarray:
        """*b* realisations ``(cells, b)`` in normal scores along one random path (each cell's
        neighbours and kriging weights serve all of them, see :mod:`.simulation_steps`);
        *tick(fraction)* reports progress (and cancels)."""
        h, w = grid.height, grid.width
        sim = np.full((h * w + 1, b), np.nan)
        sim[-1] = 0.0  # index -1: "no neighbour"
        sim[prep["fixed_cells"]] = prep["fixed_y"][:, None]
        todo, lev = prep["todo"], prep["levels"][prep["todo"]]
        path = np.concatenate([rng.permutation(np.flatnonzero(lev == level)) for level in range(self.multigrid, -1, -1)])
        cells = todo[path]
        paths = PathPositions((h, w), cells, *prep["template"], self.multigrid)
        path_level = lev[path]
        nodes, didx = prep["nodes"], prep["didx"]
        n_data = len(prep["data_y"])
        data_xy = np.vstack([prep["data_xy"], np.zeros((1, 2))])  # row n_data: "no datum"
        data_y = np.r_[prep["data_y"], 0.0]
        stretches = [(s, min(s + _STRETCH, len(path))) for s in range(0, len(path), _STRETCH)]

        def weights(span):
            s0, s1 = span
            cell = cells[s0:s1]
            nn = np.full((s1 - s0, self.node_neighbours), -1, np.int64)
            npos = np.full_like(nn, paths.never)
            for level in np.unique(path_level[s0:s1]):  # the path visits one level after the other
                rows = np.flatnonzero(path_level[s0:s1] == level)
                nn[rows], npos[rows] = previous_nodes(paths, cell[rows], s0 + rows, self.node_neighbours, int(level))
            dn = didx[path[s0:s1]]
            xy = np.concatenate([data_xy[dn], nodes[nn]], axis=1)
            present = np.concatenate([dn < n_data, nn >= 0], axis=1)
            lam, sd = sk_weights(self.model, xy, present, nodes[cell])
            nd = dn.shape[1]
            return nn, npos, lam[:, nd:], (lam[:, :nd] * data_y[dn]).sum(axis=1), sd

        with single_thread(torch=False):
            for (s0, s1), (nn, npos, lam, mean, sd) in ordered_map(weights, stretches, self.workers):
                if tick is not None:
                    tick(s0 / len(path))
                rhs = mean[:, None] + sd[:, None] * rng.standard_normal((s1 - s0, b))
                before = npos < s0
                rhs += np.einsum("mk,mkb->mb", np.where(before, lam, 0.0), sim[np.where(before, nn, -1)])
                sim[cells[s0:s1]] = forward_solve(lam, np.where(before | (nn < 0), -1, npos - s0), rhs)
        return sim[:-1]
