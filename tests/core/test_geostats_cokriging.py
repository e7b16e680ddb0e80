"""Linear model of coregionalisation and ordinary cokriging against R gstat 2.1 (fit.lmc, predict) on Meuse:
log(zinc) with log(copper)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.geostats.cokriging import LMC, OrdinaryCokriging, fit_lmc
from tests.conftest import ROOT
from tests.gstat_reference import run_gstat

MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse" / "meuse.txt"
STRUCTURES = [("nugget", 0.0), ("spherical", 800.0)]


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(MEUSE)
    pts = pd.DataFrame({"x": d.x.astype(float), "y": d.y.astype(float), "lzn": np.log(d.zinc.astype(float)),
                        "lcu": np.log(d.copper.astype(float))})
    rng = np.random.default_rng(11)
    tg = pd.DataFrame({"x": rng.uniform(178600, 181400, 200), "y": rng.uniform(329800, 333600, 200)})
    return pts, tg


GSTAT = """coordinates(pts) <- ~x+y
coordinates(tg) <- ~x+y
g <- gstat(NULL, 'lzn', lzn ~ 1, pts{nm})
g <- gstat(g, 'lcu', lcu ~ 1, pts{nm})
f <- fit.lmc(variogram(g), g, vgm(1, 'Sph', 800, 1))
p <- predict(f, tg, debug.level = 0)
m <- f$model
out <- data.frame(lzn_pred = p$lzn.pred, lzn_var = p$lzn.var, lcu_pred = p$lcu.pred, lcu_var = p$lcu.var,
                  n_zn = m$lzn$psill[1], s_zn = m$lzn$psill[2], n_x = m$lzn.lcu$psill[1], s_x = m$lzn.lcu$psill[2],
                  n_cu = m$lcu$psill[1], s_cu = m$lcu$psill[2])
"""


@pytest.mark.parametrize("nmax", [0, 12])
def test_lmc_fit_and_cokriging_equal_gstat(data, nmax):
    pts, tg = data
    ref = run_gstat(GSTAT.format(nm=f", nmax = {nmax}" if nmax else ""), pts=pts, tg=tg)
    lmc = fit_lmc(pts[["x", "y"]].to_numpy(), pts[["lzn", "lcu"]].to_numpy(), STRUCTURES, ("lzn", "lcu"))
    r0 = ref.iloc[0]
    np.testing.assert_allclose(lmc.sills[:, 0, 0], [r0.n_zn, r0.s_zn], rtol=1e-6)
    np.testing.assert_allclose(lmc.sills[:, 0, 1], [r0.n_x, r0.s_x], rtol=1e-6)
    np.testing.assert_allclose(lmc.sills[:, 1, 1], [r0.n_cu, r0.s_cu], rtol=1e-6)
    for target, name in enumerate(("lzn", "lcu")):
        ck = OrdinaryCokriging(lmc, target, nmax).fit(pts[["x", "y"]].to_numpy(), pts[["lzn", "lcu"]].to_numpy())
        res = ck.predict(tg.to_numpy())
        tol = 1e-6 * pts[name].std()
        np.testing.assert_allclose(res.estimate, ref[f"{name}_pred"], rtol=0, atol=tol)
        np.testing.assert_allclose(res.variance, ref[f"{name}_var"], rtol=0, atol=tol)


def test_lmc_is_made_positive_definite_and_bad_lmc_refused(data):
    pts, _ = data
    # a cross structure stronger than the direct ones: the fitted matrices are projected to be PSD
    rng = np.random.default_rng(0)
    z = np.column_stack([pts.lzn, pts.lzn + 0.01 * rng.normal(size=len(pts))])
    lmc = fit_lmc(pts[["x", "y"]].to_numpy(), z, STRUCTURES)
    assert all(np.linalg.eigvalsh(b).min() >= -1e-12 for b in lmc.sills)
    with pytest.raises(GeoMLError, match="not positive definite"):
        LMC(tuple(STRUCTURES), np.array([[[0.05, 0.06], [0.06, 0.05]], [[0.5, 0.2], [0.2, 0.3]]]), ("a", "b"))


def test_collocated_cokriging_equals_gstat(data):
    """gstat: simple cokriging (beta = data means) with the secondary observed at the targets only (nmax = 1)."""
    from geoml_qgis.core.geostats.cokriging import CollocatedCokriging

    pts, tg = data
    lmc = fit_lmc(pts[["x", "y"]].to_numpy(), pts[["lzn", "lcu"]].to_numpy(), STRUCTURES, ("lzn", "lcu"))
    s0 = 3.4 + 0.3 * np.sin(tg.x / 300.0)  # a smooth secondary "raster" at the targets
    tgs = tg.assign(lcu=s0)
    m1, m2 = pts.lzn.mean(), pts.lcu.mean()
    b = lmc.sills
    model = (f"vgm({b[1, 0, 0]!r}, 'Sph', 800, {b[0, 0, 0]!r})", f"vgm({b[1, 0, 1]!r}, 'Sph', 800, {b[0, 0, 1]!r})",
             f"vgm({b[1, 1, 1]!r}, 'Sph', 800, {b[0, 1, 1]!r})")
    ref = run_gstat(f"""coordinates(pts) <- ~x+y
coordinates(tgs) <- ~x+y
g <- gstat(NULL, 'lzn', lzn ~ 1, pts, beta = {m1!r}, nmax = 16, model = {model[0]})
g <- gstat(g, 'lcu', lcu ~ 1, tgs, beta = {m2!r}, nmax = 1, model = {model[2]})
g <- gstat(g, c('lzn', 'lcu'), model = {model[1]})
p <- predict(g, tgs, debug.level = 0)
out <- data.frame(e = p$lzn.pred, v = p$lzn.var)""", pts=pts, tgs=tgs)
    res = CollocatedCokriging(lmc, 16).fit(pts[["x", "y"]].to_numpy(), pts.lzn, m2).predict(tg.to_numpy(), s0.to_numpy())
    tol = 1e-6 * pts.lzn.std()
    np.testing.assert_allclose(res.estimate, ref.e, rtol=0, atol=tol)
    np.testing.assert_allclose(res.variance, ref.v, rtol=0, atol=tol)


def test_cokriging_leave_one_out_equals_gstat_cv(data):
    from geoml_qgis.core.geostats.cokriging import leave_one_out_cokriging

    pts, tg = data
    ref = run_gstat(GSTAT.format(nm=", nmax = 12").replace(
        "p <- predict(f, tg, debug.level = 0)", "cv <- gstat.cv(f, debug.level = 0, verbose = FALSE)\np <- data.frame(lzn.pred = cv$lzn.pred, lzn.var = cv$lzn.var, lcu.pred = 0, lcu.var = 0)"),
        pts=pts, tg=tg)
    lmc = fit_lmc(pts[["x", "y"]].to_numpy(), pts[["lzn", "lcu"]].to_numpy(), STRUCTURES, ("lzn", "lcu"))
    cv = leave_one_out_cokriging(lmc, pts[["x", "y"]].to_numpy(), pts[["lzn", "lcu"]].to_numpy(), 12)
    tol = 1e-6 * pts.lzn.std()
    np.testing.assert_allclose(cv.table.estimate, ref.lzn_pred, rtol=0, atol=tol)
    np.testing.assert_allclose(cv.table.variance, ref.lzn_var, rtol=0, atol=tol)


@pytest.mark.parametrize("second, structures", [
    ("vgm(1, 'Sph', 1200, 1, add.to = vgm(1, 'Sph', 300))", [("nugget", 0.0), ("spherical", 300.0), ("spherical", 1200.0)]),
    # the direct zinc nugget fits negative: fixed at 0 and the other sills refitted, as gstat does
    ("vgm(1, 'Sph', 1200, 1, add.to = vgm(1, 'Exp', 100))", [("nugget", 0.0), ("exponential", 300.0), ("spherical", 1200.0)]),
])
def test_nested_lmc_and_cokriging_equal_gstat(data, second, structures):
    """Nugget + two structures: fit.lmc's sills, and cokriging with them. gstat's predict refuses its own
    fit.lmc result when a projected matrix is singular, so both sides use correct.diagonal = 1.01."""
    pts, tg = data
    ref = run_gstat(f"""coordinates(pts) <- ~x+y
coordinates(tg) <- ~x+y
g <- gstat(NULL, 'lzn', lzn ~ 1, pts, nmax = 12)
g <- gstat(g, 'lcu', lcu ~ 1, pts, nmax = 12)
m <- fit.lmc(variogram(g), g, {second})$model
f <- fit.lmc(variogram(g), g, {second}, correct.diagonal = 1.01)
p <- predict(f, tg, debug.level = 0)
s <- function(v) c(v$psill[c(2, 1, 3)], rep(NA, length(tg) - 3))
out <- data.frame(zn = s(m$lzn), x = s(m$lzn.lcu), cu = s(m$lcu), e = p$lzn.pred, v = p$lzn.var)""",
                    pts=pts, tg=tg)
    xy, z = pts[["x", "y"]].to_numpy(), pts[["lzn", "lcu"]].to_numpy()
    lmc = fit_lmc(xy, z, structures, ("lzn", "lcu"))
    np.testing.assert_allclose(lmc.sills[:, 0, 0], ref.zn[:3], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(lmc.sills[:, 0, 1], ref.x[:3], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(lmc.sills[:, 1, 1], ref.cu[:3], rtol=1e-6, atol=1e-12)
    assert all(np.linalg.eigvalsh(b).min() >= -1e-12 for b in lmc.sills)
    res = OrdinaryCokriging(fit_lmc(xy, z, structures, correct_diagonal=1.01), 0, 12).fit(xy, z).predict(tg.to_numpy())
    tol = 1e-6 * pts.lzn.std()
    np.testing.assert_allclose(res.estimate, ref.e, rtol=0, atol=tol)
    np.testing.assert_allclose(res.variance, ref.v, rtol=0, atol=tol)
