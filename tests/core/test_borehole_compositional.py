"""Log-ratio transforms against their definitions, inverse round trips and zero replacement."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import gmean

from geoml_qgis.core.borehole.compositional import (
    alr, alr_inverse, balance_basis, closure, clr, clr_inverse, ilr, ilr_inverse, log_ratio, log_ratio_inverse,
    multiplicative_replacement,
)
from geoml_qgis.core.errors import GeoMLError

RNG = np.random.default_rng(3)
X = RNG.lognormal(0.0, 1.0, (40, 6))


def test_clr_and_alr_against_definitions():
    assert np.allclose(clr(X), np.log(X / gmean(X, axis=1)[:, None]))
    assert np.allclose(alr(X), np.log(X[:, :-1] / X[:, [-1]]))
    assert np.allclose(alr(X, denominator=0), np.log(X[:, 1:] / X[:, [0]]))


def test_ilr_balances_against_their_formula_and_isometry():
    z = ilr(X)
    for i in range(1, X.shape[1]):  # balance i: parts 1..i against part i+1
        expected = np.sqrt(i / (i + 1)) * np.log(gmean(X[:, :i], axis=1) / X[:, i])
        assert np.allclose(z[:, i - 1], expected)
    v = balance_basis(6)
    assert np.allclose(v.T @ v, np.eye(5)) and np.allclose(v.sum(axis=0), 0)
    # an isometry: Aitchison distances (clr distances) are kept
    d_clr = np.linalg.norm(clr(X)[:, None] - clr(X)[None], axis=2)
    d_ilr = np.linalg.norm(z[:, None] - z[None], axis=2)
    assert np.allclose(d_clr, d_ilr)


@pytest.mark.parametrize("kind", ["alr", "clr", "ilr"])
def test_inverse_round_trips(kind):
    back = log_ratio_inverse(log_ratio(X, kind), kind, total=1e6)
    assert np.allclose(back, closure(X, 1e6))
    assert np.allclose(alr_inverse(alr(X, 2), 2), closure(X)) and np.allclose(clr_inverse(clr(X)), closure(X))
    assert np.allclose(ilr_inverse(ilr(X)), closure(X))


def test_multiplicative_replacement_keeps_totals_and_ratios():
    x = np.array([[0.0, 20.0, 30.0, 50.0], [10.0, 0.0, 0.0, 90.0]])
    out = multiplicative_replacement(x, delta=0.5)
    assert (out > 0).all() and np.allclose(out.sum(axis=1), x.sum(axis=1))
    assert out[0, 0] == 0.5 and np.isclose(out[0, 1] / out[0, 3], 20 / 50)
    assert np.isclose(out[1, 0], 10 * (1 - 1.0 / 100))
    dl = multiplicative_replacement(x, detection_limit=np.array([1.0, 2.0, 4.0, 8.0]))
    assert np.isclose(dl[0, 0], 0.65) and np.isclose(dl[1, 2], 0.65 * 4)
    # default: 65 % of the part's smallest positive value
    assert np.isclose(multiplicative_replacement(x)[0, 0], 0.65 * 10)


def test_bad_compositions_are_refused():
    with pytest.raises(GeoMLError, match="positive"):
        clr(np.array([[1.0, 0.0, 2.0]]))
    with pytest.raises(GeoMLError, match="two parts"):
        ilr(np.ones((3, 1)))
    with pytest.raises(GeoMLError, match="exceed"):
        multiplicative_replacement(np.array([[0.0, 1.0]]), delta=2.0)
    with pytest.raises(GeoMLError, match="every sample"):
        multiplicative_replacement(np.array([[0.0, 1.0], [0.0, 2.0]]))
    with pytest.raises(GeoMLError, match="Unknown"):
        log_ratio(X, "plr")


def test_transform_table_names_and_zero_notes():
    import pandas as pd

    from geoml_qgis.core.borehole.compositional import transform_table

    df = pd.DataFrame(X[:, :3] * [1e4, 10, 1], columns=["Cu", "Zn", "Fe"])
    df.iloc[2, 1] = 0.0
    out, notes = transform_table(df, "ilr")
    assert list(out.columns) == ["ilr_1", "ilr_2"] and any("zero" in n for n in notes)
    assert any("ilr_2 = Cu+Zn vs Fe" in n for n in notes)
    back, _ = transform_table(out, "ilr", inverse=True, total=100)
    fixed = multiplicative_replacement(df.to_numpy(), delta=0.65 * np.where(df > 0, df, np.inf).min(axis=0))
    assert np.allclose(back.to_numpy(), closure(fixed, 100))
    a, notes = transform_table(df.drop(index=2), "alr", denominator=0)
    assert list(a.columns) == ["alr_Zn", "alr_Fe"] and "alr denominator: Cu." in notes
    c, _ = transform_table(df.drop(index=2), "clr")
    assert list(transform_table(c, "clr", inverse=True)[0].columns) == ["Cu", "Zn", "Fe"]
    with pytest.raises(GeoMLError, match="'Zn' is negative .* row 1"):
        transform_table(df.assign(Zn=-df["Zn"]), "clr")
