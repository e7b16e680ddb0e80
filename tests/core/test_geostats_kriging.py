"""Ordinary kriging against PyKrige (same model, parameters and neighbour count) and known answers."""
from __future__ import annotations

import numpy as np
import pytest

from geoml_qgis.core.geostats import OrdinaryKriging, VariogramModel



def _data(n=250, seed=1):
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 600, n)
    z = np.sin(x / 120) + np.cos(y / 170) + rng.normal(0, 0.2, n)
    return x, y, z


@pytest.mark.parametrize("kind", ["spherical", "exponential", "gaussian"])
@pytest.mark.parametrize("k", [8, 32, None])
@pytest.mark.parametrize("ratio,angle", [(1.0, 0.0), (0.4, 35.0)])
def test_equals_pykrige(kind, k, ratio, angle):
    PyKrigeOK = pytest.importorskip("pykrige.ok").OrdinaryKriging

    x, y, z = _data()
    gx, gy = np.linspace(-50, 1050, 41), np.linspace(-20, 620, 23)
    pk = PyKrigeOK(x, y, z, variogram_model=kind, variogram_parameters={"sill": 1.1, "range": 260.0, "nugget": 0.08},
                   anisotropy_scaling=1 / ratio, anisotropy_angle=angle)
    if k is None:
        ref_e, ref_v = pk.execute("grid", gx, gy, backend="vectorized")
    else:
        ref_e, ref_v = pk.execute("grid", gx, gy, backend="C", n_closest_points=k)
    model = VariogramModel(kind, nugget=0.08, sill=1.1, range=260.0, ratio=ratio, angle=angle)
    ok = OrdinaryKriging(model, neighbours=k or 0).fit(np.column_stack([x, y]), z)
    X, Y = np.meshgrid(gx, gy)
    res = ok.predict(np.column_stack([X.ravel(), Y.ravel()]))
    tol = 1e-8 * z.std()
    assert np.abs(res.estimate - np.asarray(ref_e).ravel()).max() <= tol
    assert np.abs(res.variance - np.asarray(ref_v).ravel()).max() <= tol


def test_equals_pykrige_3d():
    OrdinaryKriging3D = pytest.importorskip("pykrige.ok3d").OrdinaryKriging3D

    rng = np.random.default_rng(3)
    p = rng.uniform(0, 100, (120, 3))
    v = p[:, 0] / 50 + np.sin(p[:, 2] / 15) + rng.normal(0, 0.1, 120)
    t = rng.uniform(0, 100, (60, 3))
    pk = OrdinaryKriging3D(p[:, 0], p[:, 1], p[:, 2], v, variogram_model="exponential",
                           variogram_parameters={"sill": 1.0, "range": 60.0, "nugget": 0.05})
    ref_e, ref_v = pk.execute("points", t[:, 0], t[:, 1], t[:, 2])
    ok = OrdinaryKriging(VariogramModel("exponential", 0.05, 1.0, 60.0), neighbours=0).fit(p, v)
    res = ok.predict(t)
    assert np.abs(res.estimate - ref_e).max() <= 1e-8 * v.std()
    assert np.abs(res.variance - ref_v).max() <= 1e-8 * v.std()


def test_exact_at_samples_and_variance_zero():
    x, y, z = _data(60)
    ok = OrdinaryKriging(VariogramModel("spherical", 0.1, 1.0, 300.0), 16).fit(np.column_stack([x, y]), z)
    res = ok.predict(np.column_stack([x, y]))
    np.testing.assert_allclose(res.estimate, z, atol=1e-10)
    np.testing.assert_allclose(res.variance, 0.0, atol=1e-10)


def _brute_force_ok(coords, z, model, target, radius):
    """Textbook ordinary kriging with np.linalg.solve on the samples within *radius* (independent reference)."""
    d = np.hypot(*(coords - target).T)
    use = np.flatnonzero(d <= radius)
    if len(use) == 0:
        return np.nan, np.nan
    c = coords[use]
    h = np.hypot(c[:, None, 0] - c[None, :, 0], c[:, None, 1] - c[None, :, 1])
    n = len(use)
    a = np.ones((n + 1, n + 1))
    a[:n, :n] = model.gamma(h)
    np.fill_diagonal(a, 0.0)
    a[n, n] = 0.0
    b = np.append(model.gamma(d[use]), 1.0)
    w = np.linalg.solve(a, b)
    return w[:n] @ z[use], w @ b


def test_search_radius_matches_textbook_solution():
    x, y, z = _data(150, seed=5)
    coords = np.column_stack([x, y])
    model = VariogramModel("exponential", 0.05, 1.0, 300.0)
    ok = OrdinaryKriging(model, neighbours=150, search_radius=90.0).fit(coords, z)
    rng = np.random.default_rng(9)
    targets = np.vstack([rng.uniform(0, 1000, (40, 2)) * [1, 0.6], [[5000.0, 5000.0]]])
    res = ok.predict(targets)
    assert res.n_singular == 0
    ref = np.array([_brute_force_ok(coords, z, model, t, 90.0) for t in targets])
    assert np.isnan(res.estimate[-1]) and np.isnan(ref[-1, 0])  # nothing within reach: nodata
    np.testing.assert_allclose(res.estimate, ref[:, 0], atol=1e-9, equal_nan=True)
    np.testing.assert_allclose(res.variance, ref[:, 1], atol=1e-9, equal_nan=True)


def test_more_neighbours_than_samples_uses_all():
    x, y, z = _data(20)
    coords = np.column_stack([x, y])
    model = VariogramModel("spherical", 0.1, 1.0, 300.0)
    t = np.array([[100.0, 100.0], [700.0, 300.0]])
    many = OrdinaryKriging(model, neighbours=500).fit(coords, z)
    assert many.k_ == 20
    glob = OrdinaryKriging(model, neighbours=0).fit(coords, z).predict(t)
    np.testing.assert_allclose(many.predict(t).estimate, glob.estimate, atol=1e-12)


def test_singular_system_is_solved_by_least_squares():
    """Two samples at one location and no nugget: identical rows, a singular system.

    The least-squares (minimum-norm) weights split equally between the twins, so the result
    equals kriging with one sample carrying their mean value.
    """
    coords = np.array([[0.0, 0.0], [10.0, 0.0], [10.0, 0.0], [0.0, 10.0], [7.0, 8.0]])
    z = np.array([1.0, 2.0, 4.0, 0.5, 1.5])
    model = VariogramModel("spherical", 0.0, 1.0, 30.0)
    ok = OrdinaryKriging(model, neighbours=5).fit(coords, z)
    t = np.array([[3.0, 4.0], [9.0, 2.0]])
    res = ok.predict(t)
    merged = OrdinaryKriging(model, neighbours=4).fit(coords[[0, 1, 3, 4]], np.array([1.0, 3.0, 0.5, 1.5])).predict(t)
    assert res.n_singular > 0
    np.testing.assert_allclose(res.estimate, merged.estimate, atol=1e-8)
    np.testing.assert_allclose(res.variance, merged.variance, atol=1e-8)
