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


@pytest.mark.parametrize("colliding", [False, True])
def test_grouped_sets_equal_kdtree_with_their_distances(colliding):
    from geoml_qgis.core.geostats.neighbours import grouped_sets

    rng = np.random.default_rng(5)
    tree = cKDTree(rng.uniform(0, 1000, (700, 2)))
    gx, gy = np.meshgrid(np.arange(0, 1000, 7.0) + 0.5, np.arange(-100, 700, 7.0))
    t = np.column_stack([gx.ravel(), gy.ravel()])
    # colliding: a first hash equal for every set, so the second one must send grouping to the exact path
    hashes = (np.zeros(700, np.uint64), rng.integers(0, 2 ** 62, 700, dtype=np.uint64)) if colliding else None
    g = grouped_sets(tree, t, 16, hashes=hashes)
    sets = np.empty((len(t), 16), np.intp)
    sets[g.order] = np.repeat(g.sets, g.sizes, axis=0)
    assert _same_sets(sets, kdtree_sets(tree, t, 16))
    assert len(np.unique(g.sets, axis=0)) == len(g.sets)  # each distinct set once
    d = np.hypot(*(tree.data[sets] - t[:, None]).transpose(2, 0, 1))
    np.testing.assert_allclose(g.distances, d, rtol=1e-14, atol=1e-12)


def _trend_data():
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 800, (350, 2))
    cov = xy[:, 0] / 400 + np.sin(xy[:, 1] / 150)
    z = np.sin(xy[:, 0] / 120) + 0.7 * cov + rng.normal(0, 0.1, 350)
    gx, gy = np.meshgrid(np.arange(0, 800, 9.0) + 2, np.arange(0, 800, 9.0) + 3)
    t = np.column_stack([gx.ravel(), gy.ravel()])
    return xy, z, cov, t, t[:, 0] / 400 + np.sin(t[:, 1] / 150)


def test_external_drift_grouped_sets_equal_the_plain_path():
    """KED on a dense grid (grouped sets, bordered table, batched LU) equals the per-target inverses
    (a search radius beyond every distance takes the plain path with the same neighbours)."""
    from geoml_qgis.core.geostats.universal import UniversalKriging

    xy, z, cov, t, tcov = _trend_data()
    model = VariogramModel("spherical", 0.02, 0.5, 250.0)
    fast = UniversalKriging(model, "constant", 24).fit(xy, z, cov[:, None])
    plain = UniversalKriging(model, "constant", 24, search_radius=1e6).fit(xy, z, cov[:, None])
    assert fast.fast_path and not plain.fast_path
    a, b = fast.predict(t, tcov[:, None]), plain.predict(t, tcov[:, None])
    np.testing.assert_allclose(a.estimate, b.estimate, rtol=0, atol=1e-10)
    np.testing.assert_allclose(a.variance, b.variance, rtol=0, atol=1e-10)


@pytest.mark.parametrize("median", [True, False])
def test_indicator_shared_sets_equal_one_kriging_per_cutoff(median):
    """All cut-offs from one grouping of the targets (one solve for a median-indicator model) equal
    an ordinary kriging of each indicator on its own."""
    from geoml_qgis.core.geostats.indicator import IndicatorKriging

    xy, z, _, t, _ = _trend_data()
    cut = np.quantile(z, [0.2, 0.5, 0.8])
    models = VariogramModel("spherical", 0.02, 0.25, 250.0) if median else [
        VariogramModel("spherical", 0.02, 0.2, 200.0), VariogramModel("exponential", 0.01, 0.25, 300.0),
        VariogramModel("spherical", 0.02, 0.2, 200.0)]
    ik = IndicatorKriging(cut, models, neighbours=20).fit(xy, z)
    assert len(ik._shared_sets()) == (1 if median else 2)
    res, var = ik.predict(t), ik.predict_variances(t)
    for k, c in enumerate(cut):
        m = models if median else models[k]
        ref = OrdinaryKriging(m, 20).fit(xy, (z <= c).astype(float))
        one = ref.solve(ref.model.transform(t, ref.centre_[:2]), kdtree_sets(ref.tree_, ref.model.transform(
            t, ref.centre_[:2]), 20))
        np.testing.assert_allclose(res.raw[:, k], one.estimate, rtol=0, atol=1e-10)
        np.testing.assert_allclose(var[:, k], one.variance, rtol=0, atol=1e-10)


def test_indicator_and_drift_rasters_identical_with_two_workers(tmp_path):
    from osgeo import gdal

    from geoml_qgis.core.geostats.indicator import IndicatorKriging
    from geoml_qgis.core.geostats.indicator_rasters import indicator_to_rasters
    from geoml_qgis.core.geostats.trend_rasters import trend_krige_to_rasters
    from geoml_qgis.core.geostats.universal import UniversalKriging
    from geoml_qgis.core.io import Grid

    xy, z, _, _, _ = _trend_data()
    grid = Grid.from_bounds(0, 0, 800, 600, 2.0)  # 400 x 300 cells: four 256 x 256 blocks
    ik = IndicatorKriging(np.quantile(z, [0.3, 0.7]), VariogramModel("spherical", 0.02, 0.25, 250.0), 16).fit(xy, z)
    uk = UniversalKriging(VariogramModel("spherical", 0.02, 0.5, 250.0), "linear", 16).fit(xy, z)
    out = {}
    for w in (1, 2):
        indicator_to_rasters(ik, grid, tmp_path / f"p{w}.tif", tmp_path / f"e{w}.tif", workers=w)
        trend_krige_to_rasters(uk, grid, [], tmp_path / f"u{w}.tif", tmp_path / f"v{w}.tif", workers=w)
        out[w] = [gdal.Open(str(tmp_path / f"{b}{w}.tif")).ReadAsArray() for b in "peuv"]
    assert all(np.array_equal(a, b) for a, b in zip(out[1], out[2]))


def test_kriging_block_shrinks_over_dense_samples():
    from geoml_qgis.core.geostats.rasters import kriging_block
    from geoml_qgis.core.io import Grid

    xy = np.random.default_rng(0).uniform(0, 1000, (5000, 2))
    assert kriging_block(Grid.from_bounds(0, 0, 1000, 1000, 1.0), xy) == 256  # ~330 samples a block
    assert kriging_block(Grid.from_bounds(0, 0, 1000, 1000, 2.5), xy) == 128  # 2,048 at 256 cells, 512 at 128
    assert kriging_block(Grid.from_bounds(0, 0, 1000, 1000, 50.0), xy) == 64  # never below 64
    assert kriging_block(Grid.from_bounds(0, 0, 1000, 1000, 50.0), None) == 256


@pytest.mark.parametrize("simd", [False, True])
def test_grouped_sets_on_a_lattice_with_ties(monkeypatch, simd):
    """As above for the grouped sets (compared in float32), with the row sort and the partition."""
    from geoml_qgis.core.geostats import neighbours

    monkeypatch.setattr(neighbours, "_SIMD_SORT", simd)
    gx, gy = np.meshgrid(np.arange(0, 200, 10.0), np.arange(0, 200, 10.0))
    tree = cKDTree(np.column_stack([gx.ravel(), gy.ravel()]) + 1e6)  # large coordinates, as projected ones
    tx, ty = np.meshgrid(np.arange(0, 200, 2.5), np.arange(0, 200, 2.5))
    t = np.column_stack([tx.ravel(), ty.ravel()]) + 1e6
    for k in (4, 12):
        g = neighbours.grouped_sets(tree, t, k)
        sets = np.empty((len(t), k), np.intp)
        sets[g.order] = np.repeat(g.sets, g.sizes, axis=0)
        assert _same_sets(sets, kdtree_sets(tree, t, k))
