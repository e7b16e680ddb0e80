"""The fast paths of kriging give the same answers as the plain ones: tiled neighbour search vs the
k-d tree, batched LU solves vs PyKrige on a dense grid, several threads vs one."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial import cKDTree

from geoml_qgis.core.geostats import OrdinaryKriging, VariogramModel
from geoml_qgis.core.geostats.neighbours import kdtree_sets, nearest_sets


def _same_sets(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(np.sort(a, axis=1), np.sort(b, axis=1)))


@pytest.mark.parametrize("radius", [None, 120.0])
@pytest.mark.parametrize("k", [1, 8, 32])
def test_tiled_sets_equal_kdtree(k, radius):
    rng = np.random.default_rng(k)
    tree = cKDTree(rng.uniform(0, 1000, (700, 2)))
    gx, gy = np.meshgrid(np.arange(0, 1000, 9.0) + 0.5, np.arange(-100, 700, 9.0))
    t = np.column_stack([gx.ravel(), gy.ravel()])
    assert _same_sets(nearest_sets(tree, t, k, radius), kdtree_sets(tree, t, k, radius))


def test_tiled_sets_on_a_lattice_with_ties():
    """Samples on a regular lattice and targets at lattice symmetry points: many distances tie."""
    gx, gy = np.meshgrid(np.arange(0, 200, 10.0), np.arange(0, 200, 10.0))
    tree = cKDTree(np.column_stack([gx.ravel(), gy.ravel()]))
    tx, ty = np.meshgrid(np.arange(0, 200, 2.5), np.arange(0, 200, 2.5))
    t = np.column_stack([tx.ravel(), ty.ravel()])
    for k in (4, 12):
        got, ref = nearest_sets(tree, t, k), kdtree_sets(tree, t, k)
        d_got = np.sort(np.hypot(*(tree.data[got] - t[:, None]).transpose(2, 0, 1)), axis=1)
        d_ref = np.sort(np.hypot(*(tree.data[ref] - t[:, None]).transpose(2, 0, 1)), axis=1)
        np.testing.assert_allclose(d_got, d_ref, atol=1e-9)  # as near as the tree's, whatever the tie-break
        assert _same_sets(got, ref)  # near-ties are handed to the tree itself


@pytest.mark.parametrize("kind,k,radius", [("spherical", 32, None), ("exponential", 12, None), ("gaussian", 16, 150.0)])
def test_dense_grid_equals_pykrige(kind, k, radius):
    """A grid dense enough for the tiled neighbour search and many cells per set."""
    PyKrigeOK = pytest.importorskip("pykrige.ok").OrdinaryKriging
    rng = np.random.default_rng(7)
    x, y = rng.uniform(0, 1000, 400), rng.uniform(0, 800, 400)
    z = np.sin(x / 150) + np.cos(y / 110) + rng.normal(0, 0.2, 400)
    gx, gy = np.arange(0, 1000, 18.0) + 6, np.arange(0, 800, 18.0) + 6
    params = {"sill": 1.2, "range": 300.0, "nugget": 0.1}
    model = VariogramModel(kind, params["nugget"], params["sill"], params["range"])
    ok = OrdinaryKriging(model, k, radius).fit(np.column_stack([x, y]), z)
    X, Y = np.meshgrid(gx, gy)
    res = ok.predict(np.column_stack([X.ravel(), Y.ravel()]))
    pk = PyKrigeOK(x, y, z, variogram_model=kind, variogram_parameters=params)
    kw = {"n_closest_points": k} if radius is None else {}
    if radius is None:
        ref_e, ref_v = pk.execute("grid", gx, gy, backend="C", **kw)
        ref_e, ref_v = np.asarray(ref_e).ravel(), np.asarray(ref_v).ravel()
    else:  # PyKrige has no search radius with a moving window: textbook solve per cell
        ref_e, ref_v = _reference_with_radius(ok, np.column_stack([X.ravel(), Y.ravel()])[::37], k, radius)
        res.estimate, res.variance = res.estimate[::37], res.variance[::37]
    tol = 1e-8 * z.std()
    ok_cells = np.isfinite(ref_e)
    assert np.array_equal(ok_cells, np.isfinite(res.estimate))
    assert np.abs(res.estimate - ref_e)[ok_cells].max() <= tol
    assert np.abs(res.variance - ref_v)[ok_cells].max() <= tol


def _reference_with_radius(ok, t, k, radius):
    xy, z, model = ok.coords_, ok._z[:-1], ok.model
    est, var = np.full(len(t), np.nan), np.full(len(t), np.nan)
    for i, p in enumerate(t):
        d = np.hypot(*(xy - p).T)
        use = np.argsort(d)[:k]
        use = use[d[use] <= radius]
        if not len(use):
            continue
        c = xy[use]
        a = np.ones((len(use) + 1, len(use) + 1))
        a[:-1, :-1] = model.gamma(np.hypot(*(c[:, None] - c[None]).transpose(2, 0, 1)))
        np.fill_diagonal(a, 0.0)
        b = np.append(model.gamma(d[use]), 1.0)
        w = np.linalg.solve(a, b)
        est[i], var[i] = w[:-1] @ z[use], w @ b
    return est, var


def test_rasters_identical_with_two_workers(tmp_path):
    from osgeo import gdal

    from geoml_qgis.core.geostats.rasters import krige_to_rasters
    from geoml_qgis.core.io import Grid

    rng = np.random.default_rng(3)
    xy = rng.uniform(0, 600, (300, 2))
    z = np.sin(xy[:, 0] / 80) + rng.normal(0, 0.1, 300)
    ok = OrdinaryKriging(VariogramModel("spherical", 0.05, 1.0, 150.0), 16).fit(xy, z)
    grid = Grid.from_bounds(0, 0, 600, 450, 1.5)  # 400 x 300 cells: four 256 x 256 blocks
    out = {}
    for w in (1, 2):
        krige_to_rasters(ok, grid, tmp_path / f"e{w}.tif", tmp_path / f"v{w}.tif", workers=w)
        out[w] = [gdal.Open(str(tmp_path / f"{b}{w}.tif")).ReadAsArray() for b in "ev"]
    assert all(np.array_equal(a, b) for a, b in zip(out[1], out[2]))
