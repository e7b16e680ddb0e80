"""Variograms, cross-validation and sample checks on the Meuse data (known gstat figures) and synthetic cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.geostats import (
    OrdinaryKriging, VariogramModel, blocked_kfold, experimental_variogram, fit_variogram, leave_one_out,
    prepare_samples,
)
from geoml_qgis.core.geostats.crossval import spatial_folds
from geoml_qgis.core.geostats.workflow import resolve_model
from tests.conftest import ROOT, SHARED_DATA

# the shared data set, or the identical bundled copy
MEUSE = next((p for p in (SHARED_DATA / "meuse" / "meuse.txt", ROOT / "geoml_qgis" / "sample_data" / "meuse" / "meuse.txt")
              if p.exists()), None)
CLASSIC = VariogramModel("spherical", nugget=0.0507, sill=0.0507 + 0.5906, range=897.0)


@pytest.fixture(scope="module")
def meuse():
    if MEUSE is None:
        pytest.skip("Meuse data not available")
    d = pd.read_csv(MEUSE)
    return d[["x", "y"]].to_numpy(float), np.log(d["zinc"].to_numpy(float))


def test_meuse_variogram_matches_gstat(meuse):
    """gstat: variogram(log(zinc)~1, meuse) has 57, 299, 419 pairs in its first classes and
    fit.variogram(..., vgm(1, "Sph", 900, 1)) gives nugget 0.0507, partial sill 0.5906, range 897."""
    ev = experimental_variogram(*meuse)
    assert ev.counts[:5].tolist() == [57, 299, 419, 457, 547]
    assert ev.gamma[0] == pytest.approx(0.1234, abs=5e-4)
    model, _ = fit_variogram(ev, "spherical")
    assert model.nugget == pytest.approx(0.0507, abs=2e-3)
    assert model.psill == pytest.approx(0.5906, abs=5e-3)
    assert model.range == pytest.approx(897, abs=10)
    auto, errors = fit_variogram(ev, "auto")
    assert set(errors) == {"spherical", "exponential", "gaussian", "stable"}
    assert errors[auto.kind] == min(errors.values())


def test_fixed_parameters_stay_fixed(meuse):
    ev = experimental_variogram(*meuse)
    model, _ = fit_variogram(ev, "exponential", nugget=0.1, range_=1200.0)
    assert model.nugget == 0.1 and model.range == 1200.0 and model.psill > 0.3


def test_meuse_leave_one_out_rmse(meuse):
    """Classic model, global neighbourhood: LOO RMSE about 0.39, and the same as PyKrige kriging each
    sample from the other 154 (an independent computation)."""
    PyKrigeOK = pytest.importorskip("pykrige.ok").OrdinaryKriging
    coords, z = meuse
    cv = leave_one_out(coords, z, CLASSIC, neighbours=0)
    assert cv.summary["RMSE"] == pytest.approx(0.39, abs=0.006)
    errors = []
    for i in range(0, len(z), 5):
        keep = np.arange(len(z)) != i
        pk = PyKrigeOK(coords[keep, 0], coords[keep, 1], z[keep], variogram_model="spherical",
                       variogram_parameters={"sill": CLASSIC.sill, "range": 897.0, "nugget": 0.0507})
        e, v = pk.execute("points", coords[i:i + 1, 0], coords[i:i + 1, 1])
        errors.append((e[0] - z[i], v[0]))
    ref = np.array(errors)
    np.testing.assert_allclose(cv.table["error"].to_numpy()[::5], ref[:, 0], atol=1e-9)
    np.testing.assert_allclose(cv.table["variance"].to_numpy()[::5], ref[:, 1], atol=1e-9)
    assert 0.5 < cv.summary["MSDR"] < 1.5


def test_blocked_kfold_never_uses_held_out_samples(meuse):
    coords, z = meuse
    cv = blocked_kfold(coords, z, CLASSIC, neighbours=16, n_folds=4, block_size=600, seed=2)
    folds = cv.table["fold"].to_numpy()
    blocks = np.floor((coords - coords.min(axis=0)) / 600).astype(int)
    for b in np.unique(blocks, axis=0):  # a block lies in one fold
        assert len(np.unique(folds[(blocks == b).all(axis=1)])) == 1
    test = folds == 1
    ref = OrdinaryKriging(CLASSIC, 16).fit(coords[~test], z[~test]).predict(coords[test])
    np.testing.assert_allclose(cv.table["estimate"].to_numpy()[test], ref.estimate)
    assert cv.summary["RMSE"] > leave_one_out(coords, z, CLASSIC, 16).summary["RMSE"]


def test_too_few_blocks_for_folds():
    coords = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [3.0, 3.0]])
    with pytest.raises(GeoMLError, match="spatial blocks"):
        spatial_folds(coords, 100.0, 3)


def test_directional_variogram_sees_anisotropy():
    """Synthetic field varying only east-west: the north-south variogram stays near zero."""
    rng = np.random.default_rng(0)
    c = rng.uniform(0, 1000, (400, 2))
    z = np.sin(c[:, 0] / 100)
    ew = experimental_variogram(c, z, 10, 400, direction=0, tolerance=15)
    ns = experimental_variogram(c, z, 10, 400, direction=90, tolerance=15)
    assert ew.gamma.max() > 0.5 and ns.gamma.max() < 0.1 * ew.gamma.max()


# bad input ------------------------------------------------------------------------------
def test_nan_values_are_skipped_and_counted():
    s = prepare_samples([0, 1, 2, 3, 4], [0, 1, 0, 1, 2], [1.0, np.nan, 2.0, 3.0, np.nan])
    assert s.n_skipped == 2 and len(s.values) == 3 and "2 without a value" in s.summary()


def test_duplicate_coordinates_are_merged():
    s = prepare_samples([0, 0, 1, 2], [0, 0, 1, 0], [1.0, 3.0, 5.0, 7.0])
    assert s.n_merged == 1 and len(s.values) == 3
    assert s.values[(s.coords == [0, 0]).all(axis=1)][0] == 2.0


def test_fewer_than_three_points():
    with pytest.raises(GeoMLError, match="at least 3"):
        prepare_samples([0, 1, 2], [0, 1, 2], [1.0, np.nan, 2.0])
    with pytest.raises(GeoMLError, match="distinct locations"):
        prepare_samples([0, 0, 1], [0, 0, 1], [1.0, 2.0, 3.0])


def test_geographic_crs_is_refused():
    with pytest.raises(GeoMLError, match="geographic CRS"):
        prepare_samples([5.7, 5.8, 5.9], [50.9, 51.0, 51.1], [1.0, 2.0, 3.0], crs_wkt="EPSG:4326")


def test_all_equal_values():
    """Fitting a variogram to constant values is refused; kriging them with a given model returns the constant."""
    s = prepare_samples([0, 10, 20, 30], [0, 5, 0, 5], [4.0, 4.0, 4.0, 4.0])
    with pytest.raises(GeoMLError, match="All values are equal"):
        resolve_model("auto", s)
    ok = OrdinaryKriging(VariogramModel("spherical", 0.0, 1.0, 50.0), 3).fit(s.coords, s.values)
    np.testing.assert_allclose(ok.predict(np.array([[5.0, 2.0], [100.0, 100.0]])).estimate, 4.0)


def test_bad_model_parameters():
    with pytest.raises(GeoMLError, match="total sill"):
        VariogramModel("spherical", nugget=0.5, sill=0.2, range=100)
    with pytest.raises(GeoMLError, match="range"):
        VariogramModel("spherical", nugget=0.0, sill=1.0, range=0)
    with pytest.raises(GeoMLError, match="not a GeoML variogram"):
        VariogramModel.from_json('{"kind": "spherical"}')


def test_model_json_round_trip(tmp_path):
    m = VariogramModel("stable", 0.1, 1.0, 250.0, shape=1.5, ratio=0.5, angle=30)
    p = tmp_path / "m.json"
    p.write_text(m.to_json())
    assert resolve_model(str(p), None).model == m
