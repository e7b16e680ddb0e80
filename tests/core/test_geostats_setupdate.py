"""Sets solved by rank-2 updates of a neighbouring set (``core/geostats/setupdate.py``)."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from geoml_qgis.core.geostats import OrdinaryKriging, VariogramModel
from geoml_qgis.core.geostats.setupdate import _lu, forest, one_swaps


def test_one_swaps_finds_the_swapped_sample():
    sets = np.array([[1, 2, 3, 4], [1, 3, 4, 5], [0, 2, 3, 4], [1, 2, 6, 7], [1, 2, 3, 9]])
    a, b, drop_a, add_b, drop_b, add_a = one_swaps(sets, np.array([[0, 1], [0, 2], [0, 3], [2, 4]]))
    assert a.tolist() == [0, 0] and b.tolist() == [1, 2]
    assert drop_a.tolist() == [1, 0] and add_b.tolist() == [5, 0]
    assert drop_b.tolist() == [3, 0] and add_a.tolist() == [2, 1]


def test_one_swaps_equal_set_differences():
    rng = np.random.default_rng(8)
    sets = np.sort(np.array([rng.choice(12, 5, replace=False) for _ in range(300)]), axis=1)
    sets = np.unique(sets, axis=0)
    pairs = rng.integers(0, len(sets), (3000, 2))
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    a, b, drop_a, add_b, drop_b, add_a = one_swaps(sets, pairs)
    expect = [len(np.setdiff1d(sets[i], sets[j])) == 1 for i, j in pairs]
    assert len(a) == sum(expect) > 0
    for i, j, da, ab, db, aa in zip(a, b, drop_a, add_b, drop_b, add_a):
        assert np.setdiff1d(sets[i], sets[j]).tolist() == [sets[i][da]] == [aa]
        assert np.setdiff1d(sets[j], sets[i]).tolist() == [sets[j][db]] == [ab]


def test_forest_children_are_one_swap_from_their_root():
    rng = np.random.default_rng(3)
    base = np.sort(rng.choice(100, 8, replace=False))
    sets = [base]
    for _ in range(30):
        s = sets[rng.integers(len(sets))].copy()
        s[rng.integers(8)] = rng.choice(np.setdiff1d(np.arange(100), s))
        sets.append(np.sort(s))
    sets = np.unique(np.array(sets), axis=0)
    pairs = np.array([(i, j) for i in range(len(sets)) for j in range(i + 1, len(sets))])
    f = forest(sets, pairs)
    assert not np.isin(f.child, f.roots).any()
    assert len(f.roots) + len(f.child) == len(sets)
    for c, p, i, j in zip(f.child, f.parent, f.slot, f.added):
        swapped = sets[p].copy()
        swapped[i] = j
        assert np.array_equal(np.sort(swapped), sets[c])


@pytest.mark.parametrize("nugget, tol", [(0.05, None), (0.0, None), (0.05, 1e300)])
def test_updates_equal_full_solves(monkeypatch, nugget, tol):
    """Updated children equal full solves; with every capacitance deemed ill-conditioned (*tol*)
    every child is solved in full."""
    from geoml_qgis.core.geostats import setupdate

    if tol is not None:
        monkeypatch.setattr(setupdate, "CAPACITANCE_TOL", tol)
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 300, (400, 2))
    z = np.sin(xy[:, 0] / 40) + rng.normal(0, 0.2, 400)
    ok = OrdinaryKriging(VariogramModel("spherical", nugget, 1.0, 120.0), 16).fit(xy, z)
    gx, gy = np.meshgrid(np.arange(64) + 100.5, np.arange(64)[::-1] + 100.5)
    groups = ok.grouped(ok.model.transform(np.column_stack([gx.ravel(), gy.ravel()]), ok.centre_[:2]), 1)
    assert len(groups.pairs)
    est, var, _ = ok.krige_groups(groups)
    plain = dataclasses.replace(groups, pairs=np.zeros((0, 2), np.intp))
    est0, var0, _ = ok.krige_groups(plain)
    assert np.abs(est - est0).max() < 1e-10 * z.std()
    assert np.abs(var - var0).max() < 1e-10 * z.std()


def test_singular_systems_are_flagged_not_raised():
    a = np.stack([np.eye(3), np.ones((3, 3))])
    w, bad = _lu(a, np.ones((2, 3, 2)))
    assert bad.tolist() == [False, True] and np.array_equal(w[0], np.ones((3, 2))) and not w[1].any()
    w, bad = _lu(a, np.ones((2, 3, 5)))  # more right-hand sides than rows: through the inverse
    assert bad.tolist() == [False, True] and np.array_equal(w[0], np.ones((3, 5)))


@pytest.mark.parametrize("angle", [0.0, 0.3])
def test_adjacent_pairs_of_a_grid_also_rotated(angle):
    from geoml_qgis.core.geostats.neighbours import _adjacent

    gx, gy = np.meshgrid(np.arange(5.0), np.arange(3.0)[::-1])
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    t = np.column_stack([gx.ravel(), gy.ravel()]) @ rot.T * [1.0, 3.0]  # as an anisotropy transforms
    pairs = _adjacent(t, np.arange(15), np.arange(15)).tolist()  # every target its own set
    assert [0, 5] in pairs and [9, 14] in pairs and [3, 4] in pairs and len(pairs) == 14 + 10


def test_sets_serving_thousands_of_targets_cost_memory_linear_in_them():
    """Few samples, a fine grid (as Meuse's 155 samples at 1.5 m cells): each set serves thousands of
    cells; the update's products are five per row, not a square of the rows (that took 4 GB here).
    Synthetic samples; the answer is the full solves'."""
    import tracemalloc

    rng = np.random.default_rng(2)
    xy = rng.uniform(0, 3000, (40, 2))
    z = rng.normal(size=40)
    ok = OrdinaryKriging(VariogramModel("spherical", 0.05, 0.6, 900.0), 32).fit(xy, z)
    gx, gy = np.meshgrid(np.arange(200) * 1.5 + 1000, np.arange(200)[::-1] * 1.5 + 1000)
    groups = ok.grouped(ok.model.transform(np.column_stack([gx.ravel(), gy.ravel()]), ok.centre_[:2]), 1)
    assert groups.sizes.max() > 2000 and len(groups.pairs)
    tracemalloc.start()
    est, var, _ = ok.krige_groups(groups)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 60e6, peak  # the targets' right-hand sides alone are 40,000 x 33 x 8 = 10.6 MB
    est0, var0, _ = ok.krige_groups(dataclasses.replace(groups, pairs=np.zeros((0, 2), np.intp)))
    assert np.abs(est - est0).max() < 1e-10 * z.std() and np.abs(var - var0).max() < 1e-10 * z.std()
