"""Nested variogram models and their gstat-style weighted least-squares fit, against R gstat on Meuse log(zinc)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.geostats import OrdinaryKriging, VariogramModel, experimental_variogram
from geoml_qgis.core.geostats.nested import NestedModel, Structure, fit_nested, model_from_json, sserr
from tests.conftest import ROOT
from tests.gstat_reference import gstat_range_to_geoml, run_gstat, vgm

MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse" / "meuse.txt"
GSTAT_KIND = {"Sph": "spherical", "Exp": "exponential", "Gau": "gaussian"}


@pytest.fixture(scope="module")
def meuse():
    d = pd.read_csv(MEUSE)
    return d[["x", "y", "zinc"]]


@pytest.fixture(scope="module")
def ev(meuse):
    return experimental_variogram(meuse[["x", "y"]].to_numpy(float), np.log(meuse["zinc"].to_numpy(float)))


def gstat_fit(meuse, model_expr: str, fit_ranges: bool = True) -> tuple[NestedModel, float]:
    """gstat's fit.variogram(fit.method = 7) of log(zinc) from *model_expr*, as a NestedModel and its SSErr."""
    out = run_gstat(
        "coordinates(meuse) <- ~x+y\n"
        "f <- fit.variogram(variogram(log(zinc)~1, meuse), " + model_expr
        + f", fit.method = 7, fit.ranges = {'TRUE' if fit_ranges else 'FALSE'})\n"
        "out <- data.frame(model = as.character(f$model), psill = f$psill, range = f$range, sserr = attr(f, 'SSErr'))",
        meuse=meuse)
    nug = out.loc[out.model == "Nug", "psill"].sum()
    structs = tuple(Structure(GSTAT_KIND[r.model], r.psill, gstat_range_to_geoml(GSTAT_KIND[r.model], r.range))
                    for r in out.itertuples() if r.model != "Nug")
    return NestedModel(float(nug), structs), float(out.sserr.iloc[0])


def by_kind(model: NestedModel) -> list:
    return sorted((s.kind, s.range, s.psill) for s in model.structures)


def gstat_sserr(meuse, model) -> float:
    """gstat's SSErr of a fixed model: weights np / dist^2 on gstat's own variogram and variogramLine."""
    out = run_gstat(
        "coordinates(meuse) <- ~x+y\nv <- variogram(log(zinc)~1, meuse)\n"
        f"g <- variogramLine({vgm(model)}, dist_vector = v$dist)$gamma\n"
        "out <- data.frame(sserr = sum(v$np / v$dist^2 * (g - v$gamma)^2))", meuse=meuse)
    return float(out.sserr.iloc[0])


@pytest.mark.parametrize("kind, gname, rng", [("spherical", "Sph", 900.0), ("exponential", "Exp", 300.0)])
def test_single_structure_fit_equals_gstat(meuse, ev, kind, gname, rng):
    """Nugget + one structure: every parameter as gstat's fit.variogram from the same start."""
    ref, ref_err = gstat_fit(meuse, f"vgm(0.5, '{gname}', {rng}, 0.1)")
    start = NestedModel(0.1, (Structure(kind, 0.5, gstat_range_to_geoml(kind, rng)),))
    model, err = fit_nested(ev, start)
    assert model.nugget == pytest.approx(ref.nugget, rel=1e-4, abs=1e-6)
    assert model.structures[0].psill == pytest.approx(ref.structures[0].psill, rel=1e-4)
    assert model.structures[0].range == pytest.approx(ref.structures[0].range, rel=1e-4)
    assert err == pytest.approx(ref_err, rel=1e-6)


@pytest.mark.parametrize("expr, start", [
    ("vgm(0.1, 'Exp', 100, 0.05, add.to = vgm(0.5, 'Sph', 1000))",
     NestedModel(0.05, (Structure("exponential", 0.1, 300.0), Structure("spherical", 0.5, 1000.0)))),
    ("vgm(0.1, 'Gau', 200, 0.05, add.to = vgm(0.5, 'Sph', 1000))",
     NestedModel(0.05, (Structure("gaussian", 0.1, 350.0), Structure("spherical", 0.5, 1000.0)))),
])
def test_nested_sills_equal_gstat(meuse, ev, expr, start):
    """Two structures with ranges kept (fit.ranges = FALSE): nugget and partial sills equal gstat's to 1e-6."""
    ref, ref_err = gstat_fit(meuse, expr, fit_ranges=False)
    model, err = fit_nested(ev, start, fit_ranges=False)
    assert model.nugget == pytest.approx(ref.nugget, abs=1e-6 * ref.sill)
    for (k, r, p), (rk, rr, rp) in zip(by_kind(model), by_kind(ref)):
        assert (k, r) == (rk, pytest.approx(rr))
        assert p == pytest.approx(rp, abs=1e-6 * ref.sill)
    assert err == pytest.approx(ref_err, rel=1e-6)


def test_nested_full_fit_at_least_as_good_as_gstat(meuse, ev):
    """All parameters free. On log(zinc) two spherical structures are nearly interchangeable and gstat stops
    early ('singular model'); from gstat's starting values our fit reaches an SSErr no larger than gstat's,
    and gstat evaluates our fitted model to the same SSErr (same model convention, same criterion)."""
    expr = "vgm(0.2, 'Sph', 300, 0.05, add.to = vgm(0.4, 'Sph', 1200))"
    _, ref_err = gstat_fit(meuse, expr)
    model, err = fit_nested(ev, NestedModel(0.05, (Structure("spherical", 0.2, 300.0),
                                                   Structure("spherical", 0.4, 1200.0))))
    assert err <= ref_err * (1 + 1e-9)
    assert gstat_sserr(meuse, model) == pytest.approx(err, rel=1e-9)


def test_gaussian_fit_at_least_as_good_as_gstat(meuse, ev):
    """Nugget + gaussian: gstat 2.1 settles at range 386.5 (SSErr 1.915e-5) and even leaves the better point
    we find (SSErr 1.762e-5, checked by gstat's own variogramLine) when started there; ours is no worse."""
    _, ref_err = gstat_fit(meuse, "vgm(0.5, 'Gau', 400, 0.1)")
    model, err = fit_nested(ev, NestedModel(0.1, (Structure("gaussian", 0.5, 700.0),)))
    assert err <= ref_err
    assert gstat_sserr(meuse, model) == pytest.approx(err, rel=1e-9)


def test_nested_gamma_equals_gstat_variogramline():
    model = NestedModel(0.03, (Structure("exponential", 0.1, 450.0), Structure("gaussian", 0.2, 900.0)))
    h = np.linspace(0.0, 2000.0, 41)
    ref = run_gstat(f"m <- {vgm(model)}\nout <- variogramLine(m, dist_vector = h$h)", h=pd.DataFrame({"h": h}))
    ours = model.gamma(h)
    ours[h == 0] = 0.0  # gstat's gamma(0) is 0; GeoML's models carry the nugget at every h
    np.testing.assert_allclose(ours, ref["gamma"].to_numpy(), rtol=0, atol=1e-12)


def test_nested_model_kriges_and_round_trips(meuse):
    """A nested model with one structure is the single model; a saved nested model loads back unchanged."""
    single = VariogramModel("exponential", 0.05, 0.65, 1200.0)
    nested = NestedModel(0.05, (Structure("exponential", 0.6, 1200.0),))
    xy = meuse[["x", "y"]].to_numpy(float)
    z = np.log(meuse["zinc"].to_numpy(float))
    t = xy[:20] + 37.0
    a = OrdinaryKriging(single, 16).fit(xy, z).predict(t)
    b = OrdinaryKriging(nested, 16).fit(xy, z).predict(t)
    np.testing.assert_allclose(b.estimate, a.estimate, atol=1e-12)
    np.testing.assert_allclose(b.variance, a.variance, atol=1e-12)
    two = NestedModel(0.02, (Structure("spherical", 0.1, 300.0), Structure("gaussian", 0.5, 1500.0)), 0.5, 30.0)
    assert model_from_json(two.to_json()) == two
    assert isinstance(model_from_json(single.to_json()), VariogramModel)


def test_bad_nested_input(ev):
    with pytest.raises(GeoMLError, match="1 to 2 structures"):
        NestedModel(0.1, ())
    with pytest.raises(GeoMLError, match="Unknown variogram structure"):
        fit_nested(ev, ("spherical", "cubic"))
    with pytest.raises(GeoMLError, match="range"):
        Structure("spherical", 0.1, 0.0)
    assert sserr(NestedModel(0.1, (Structure("spherical", 0.5, 900.0),)), ev) > 0
