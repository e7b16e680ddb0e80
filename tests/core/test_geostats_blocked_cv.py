"""Spatially blocked k-fold cross-validation of indicator kriging and of ordinary cokriging, on Meuse.

Known answers: indicator kriging refitted by hand on each fold's training samples (same folds from
``spatial_folds``); cokriging against R gstat 2.1's ``gstat.cv`` with ``nfold`` = the same fold ids
(secondary values of the fold kept, ``remove.all = FALSE``, and removed, ``remove.all = TRUE``).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.geostats import VariogramModel
from geoml_qgis.core.geostats.cokriging import blocked_kfold_cokriging, fit_lmc
from geoml_qgis.core.geostats.crossval import spatial_folds
from geoml_qgis.core.geostats.crossval_indicator import blocked_kfold_indicator
from geoml_qgis.core.geostats.indicator import IndicatorKriging, indicators
from tests.conftest import ROOT
from tests.gstat_reference import run_gstat

MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse" / "meuse.txt"
CUTOFFS = [200.0, 500.0, 1000.0]
MODELS = [VariogramModel("spherical", 0.02, 0.12, 700.0), VariogramModel("spherical", 0.05, 0.25, 1000.0),
          VariogramModel("exponential", 0.02, 0.15, 900.0)]


@pytest.fixture(scope="module")
def meuse():
    return pd.read_csv(MEUSE)


def test_indicator_blocked_kfold_equals_refitting_each_fold(meuse):
    xy, z = meuse[["x", "y"]].to_numpy(float), meuse.zinc.to_numpy(float)
    cv = blocked_kfold_indicator(IndicatorKriging(CUTOFFS, MODELS, neighbours=24), xy, z, n_folds=4,
                                 block_size=600.0, seed=1)
    folds = spatial_folds(xy, 600.0, 4, 1)
    np.testing.assert_array_equal(cv.table.fold, folds)
    etype, cvar, exceed = np.empty(len(z)), np.empty(len(z)), np.empty((len(z), 3))
    for f in range(4):
        te = folds == f
        res = IndicatorKriging(CUTOFFS, MODELS, neighbours=24).fit(xy[~te], z[~te]).predict(xy[te])
        etype[te], cvar[te], exceed[te] = res.etype, res.conditional_variance, res.exceedance
    np.testing.assert_allclose(cv.table.estimate, etype, rtol=1e-12)
    np.testing.assert_allclose(cv.table.variance, cvar, rtol=1e-12)
    np.testing.assert_allclose(cv.table[["p_exceed_1", "p_exceed_2", "p_exceed_3"]], exceed, rtol=1e-12)
    observed = 1.0 - indicators(z, CUTOFFS)
    assert cv.summary["Brier"] == pytest.approx(np.mean((exceed - observed) ** 2), rel=1e-12)
    # held-out blocks are harder than leave-one-out, but the probabilities still beat the global proportions
    assert cv.summary["Brier"] < cv.summary["Brier_reference"] and cv.method == "blocked 4-fold"


@pytest.mark.parametrize("remove_all", [False, True])
def test_cokriging_blocked_kfold_equals_gstat_cv(meuse, remove_all):
    pts = pd.DataFrame({"x": meuse.x.astype(float), "y": meuse.y.astype(float), "lzn": np.log(meuse.zinc),
                        "lcu": np.log(meuse.copper)})
    xy, zz = pts[["x", "y"]].to_numpy(), pts[["lzn", "lcu"]].to_numpy()
    folds = spatial_folds(xy, 800.0, 5, 3)
    ref = run_gstat(f"""coordinates(pts) <- ~x+y
g <- gstat(NULL, 'lzn', lzn ~ 1, pts, nmax = 12)
g <- gstat(g, 'lcu', lcu ~ 1, pts, nmax = 12)
f <- fit.lmc(variogram(g), g, vgm(1, 'Sph', 800, 1))
cv <- gstat.cv(f, nfold = pts$fold + 1, remove.all = {str(remove_all).upper()}, verbose = FALSE, debug.level = 0)
out <- data.frame(e = cv$lzn.pred, v = cv$lzn.var)""", pts=pts.assign(fold=folds))
    lmc = fit_lmc(xy, zz, [("nugget", 0.0), ("spherical", 800.0)], ("lzn", "lcu"))
    cv = blocked_kfold_cokriging(lmc, xy, zz, 12, n_folds=5, block_size=800.0, seed=3, remove_all=remove_all)
    tol = 1e-6 * pts.lzn.std()
    np.testing.assert_array_equal(cv.table.fold, folds)
    np.testing.assert_allclose(cv.table.estimate, ref.e, rtol=0, atol=tol)
    np.testing.assert_allclose(cv.table.variance, ref.v, rtol=0, atol=tol)


def test_indicator_blocked_kfold_says_when_a_fold_leaves_a_cutoff_without_data_above():
    """Synthetic (stated): the only values above the cut-off lie in one corner block; the fold holding that
    block leaves training data all below the cut-off."""
    from geoml_qgis.core.errors import GeoMLError

    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1000, (60, 2))
    z = rng.uniform(0, 1, 60)
    corner = (xy[:, 0] < 150) & (xy[:, 1] < 150)
    z[corner] += 10
    with pytest.raises(GeoMLError, match="cross-validation fold cannot be estimated.*outside the data range"):
        blocked_kfold_indicator(IndicatorKriging([5.0], VariogramModel("spherical", 0.0, 0.1, 300.0), 8), xy, z,
                                n_folds=3, block_size=200.0)
