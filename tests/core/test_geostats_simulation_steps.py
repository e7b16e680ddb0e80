"""The vectorised simulation path (core/geostats/simulation_steps.py) against the plain algorithm.

Known answer: sequential Gaussian simulation written cell by cell (visit the path, take the nearest
data and the nearest previously simulated cells, solve the simple-kriging system with
``np.linalg.solve``, draw) from the same path and the same normal draws. The vectorised version
(stretches of the path at once, one sparse triangular solve for the draws) must give the same
realisations to rounding. Synthetic data (stated): random points, some outside the grid, masked
cells, isotropic, anisotropic and nested models, neighbourhoods with missing neighbours.
"""
from __future__ import annotations

import numpy as np
import pytest

from geoml_qgis.core.geostats import VariogramModel
from geoml_qgis.core.geostats.nested import NestedModel, Structure
from geoml_qgis.core.geostats.simulation import SequentialGaussianSimulation
from geoml_qgis.core.geostats.simulation_steps import PathPositions, forward_solve, previous_nodes, sk_weights
from geoml_qgis.core.io.grid import Grid


def cell_by_cell(sgs, grid, valid, seed, b):
    """The first batch of *b* realisations (normal scores, ``(b, cells)``), one cell at a time."""
    prep = sgs._prepare(grid, valid)
    h, w = grid.height, grid.width
    rng = np.random.default_rng(seed)
    todo, lev = prep["todo"], prep["levels"][prep["todo"]]
    path = np.concatenate([rng.permutation(np.flatnonzero(lev == level)) for level in range(sgs.multigrid, -1, -1)])
    draws = rng.standard_normal((len(path), b))
    sim = np.full((b, h * w), np.nan)
    sim[:, prep["fixed_cells"]] = prep["fixed_y"]
    done = np.zeros(h * w, bool)
    ti, tj = prep["template"]
    n_data = len(prep["data_y"])
    for step, j in enumerate(path):
        cell = todo[j]
        r, c = divmod(cell, w)
        dn = prep["didx"][j]
        dn = dn[dn < n_data]
        rr, cc = r + ti, c + tj
        inside = (rr >= 0) & (rr < h) & (cc >= 0) & (cc < w)
        q = (rr * w + cc)[inside]
        found = q[done[q]][:sgs.node_neighbours]
        xy = np.vstack([prep["data_xy"][dn], prep["nodes"][found]])
        mean, var = np.zeros(b), sgs.model.sill
        if len(xy):
            d = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
            c0 = sgs.model.covariance(np.sqrt(((xy - prep["nodes"][cell]) ** 2).sum(-1)))
            lam = np.linalg.solve(sgs.model.covariance(d), c0)
            mean = sim[:, found] @ lam[len(dn):] + prep["data_y"][dn] @ lam[:len(dn)]
            var = sgs.model.sill - lam @ c0
        sim[:, cell] = mean + np.sqrt(max(var, 0.0)) * draws[step]
        done[cell] = True
    return sim


@pytest.mark.parametrize("model, nd, nn, multigrid", [
    (VariogramModel("spherical", 0.1, 1.0, 15.0), 12, 12, 3),
    (VariogramModel("exponential", 0.0, 1.0, 10.0, ratio=0.5, angle=30.0), 8, 20, 2),
    (VariogramModel("gaussian", 0.05, 1.0, 8.0), 0, 16, 0),
    (VariogramModel("spherical", 0.1, 1.0, 6.0), 16, 0, 1),
    (NestedModel(0.05, (Structure("exponential", 0.35, 5.0), Structure("spherical", 0.6, 20.0))), 10, 10, 2),
])
def test_vectorised_path_equals_cell_by_cell(model, nd, nn, multigrid):
    rng = np.random.default_rng(5)
    grid = Grid(40, 30, (0.0, 1.0, 0.0, 30.0, 0.0, -1.0), "")
    xy = np.column_stack([rng.uniform(-5, 45, 80), rng.uniform(-5, 35, 80)])  # some outside the grid
    z = np.exp(rng.normal(size=80))
    valid = rng.uniform(size=(30, 40)) > 0.1
    sgs = SequentialGaussianSimulation(model, nd, nn, multigrid=multigrid, path_batch=3, workers=2).fit(xy, z)
    ours = np.array(list(sgs.realisations(grid, 3, seed=2, valid=valid, scores=True))).reshape(3, -1)
    ref = cell_by_cell(sgs, grid, valid, 2, 3)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours[~np.isnan(ours)], ref[~np.isnan(ref)], atol=1e-10)
    # the same seed gives the same realisations whatever the number of threads
    again = SequentialGaussianSimulation(model, nd, nn, multigrid=multigrid, path_batch=3, workers=1).fit(xy, z)
    np.testing.assert_array_equal(ours, np.array(list(again.realisations(grid, 3, 2, valid, scores=True))).reshape(3, -1))


def test_previous_nodes_are_the_nearest_earlier_cells():
    rng = np.random.default_rng(1)
    h, w, k = 17, 23, 6
    cells = rng.permutation(h * w)[:300]  # the other cells are never simulated
    yy, xx = np.mgrid[-8:9, -8:9]
    d = np.hypot(yy, xx).ravel()
    keep = (d > 0) & (d <= 8)
    order = np.argsort(d[keep], kind="stable")
    ti, tj = yy.ravel()[keep][order], xx.ravel()[keep][order]
    paths = PathPositions((h, w), cells, ti, tj)
    got, at = previous_nodes(paths, cells[100:200], np.arange(100, 200), k)
    step = {int(c): i for i, c in enumerate(cells)}
    for row, cell in enumerate(cells[100:200]):
        r, c = divmod(int(cell), w)
        want = [(r + a) * w + c + b for a, b in zip(ti, tj)
                if 0 <= r + a < h and 0 <= c + b < w and step.get((r + a) * w + c + b, 10 ** 9) < 100 + row][:k]
        assert got[row][got[row] >= 0].tolist() == want
        assert at[row][got[row] >= 0].tolist() == [step[q] for q in want]


def test_sk_weights_and_forward_solve_equal_plain_solves():
    rng = np.random.default_rng(2)
    model = VariogramModel("spherical", 0.2, 1.0, 5.0)
    xy = rng.uniform(0, 6, (300, 10, 2))
    present = rng.uniform(size=(300, 10)) > 0.3
    target = rng.uniform(0, 6, (300, 2))
    lam, sd = sk_weights(model, xy, present, target)
    for i in range(300):
        p = xy[i, present[i]]
        c0 = model.covariance(np.sqrt(((p - target[i]) ** 2).sum(-1)))
        ref = np.linalg.solve(model.covariance(np.sqrt(((p[:, None] - p[None]) ** 2).sum(-1))), c0)
        np.testing.assert_allclose(lam[i, present[i]], ref, atol=1e-10)
        assert not lam[i, ~present[i]].any()
        assert sd[i] == pytest.approx(np.sqrt(model.sill - ref @ c0), abs=1e-10)
    # coincident points: the least-squares weights, not an error
    dup = np.repeat(xy[:1, :1], 3, axis=1)
    lam, sd = sk_weights(model, dup, np.ones((1, 3), bool), target[:1])
    assert np.isfinite(lam).all() and np.isfinite(sd).all()
    # y_i = sum_j W_ij y_j + rhs_i along the path
    m = 200
    local = np.where(rng.uniform(size=(m, 5)) < 0.7, rng.integers(0, m, (m, 5)), -1)
    local = np.where(local < np.arange(m)[:, None], local, -1)
    weights = rng.normal(0, 0.3, (m, 5))
    rhs = rng.normal(size=(m, 4))
    y = forward_solve(weights, local, rhs)
    ref = np.zeros_like(rhs)
    for i in range(m):
        ok = local[i] >= 0
        ref[i] = rhs[i] + weights[i, ok] @ ref[local[i, ok]]
    np.testing.assert_allclose(y, ref, atol=1e-12)
