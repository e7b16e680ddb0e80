"""Block kriging against R gstat 2.1's krige(..., block = ) on Meuse."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.geostats import VariogramModel
from geoml_qgis.core.geostats.block import BlockKriging, block_offsets
from geoml_qgis.core.geostats.nested import NestedModel, Structure
from geoml_qgis.core.geostats.universal import UniversalKriging
from tests.conftest import ROOT
from tests.gstat_reference import run_gstat, vgm

MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse" / "meuse.txt"
SPH = VariogramModel("spherical", 0.05, 0.64, 897.0)
NESTED = NestedModel(0.03, (Structure("exponential", 0.1, 450.0), Structure("spherical", 0.45, 1100.0)))


@pytest.fixture(scope="module")
def data():
    d = pd.read_csv(MEUSE)
    pts = pd.DataFrame({"x": d.x.astype(float), "y": d.y.astype(float), "lz": np.log(d.zinc.astype(float))})
    rng = np.random.default_rng(7)
    tg = pd.DataFrame({"x": rng.uniform(178600, 181400, 300), "y": rng.uniform(329800, 333600, 300)})
    return pts, tg


@pytest.mark.parametrize("formula, drift, model, block, nmax", [
    ("lz ~ 1", "constant", SPH, (40.0, 40.0), 24),
    ("lz ~ 1", "constant", NESTED, (200.0, 100.0), None),
    ("lz ~ x + y", "linear", SPH, (100.0, 100.0), 32),
])
def test_block_kriging_equals_gstat(data, formula, drift, model, block, nmax):
    pts, tg = data
    nm = f", nmax = {nmax}" if nmax else ""
    ref = run_gstat("coordinates(pts) <- ~x+y\ncoordinates(tg) <- ~x+y\n"
                    f"k <- krige({formula}, pts, tg, model = {vgm(model)}, block = c({block[0]}, {block[1]}){nm}, "
                    "debug.level = 0)\nout <- data.frame(estimate = k$var1.pred, variance = k$var1.var)", pts=pts, tg=tg)
    bk = BlockKriging(model, block, drift, nmax or 0).fit(pts[["x", "y"]], pts.lz)
    res = bk.predict(tg.to_numpy())
    tol = 1e-6 * np.std(pts.lz)
    np.testing.assert_allclose(res.estimate, ref.estimate, rtol=0, atol=tol)
    np.testing.assert_allclose(res.variance, ref.variance, rtol=0, atol=tol)
    point = UniversalKriging(model, drift, nmax or 0).fit(pts[["x", "y"]], pts.lz).predict(tg.to_numpy())
    assert (res.variance < point.variance).all()


def test_regular_discretisation_equals_gstat_with_the_same_points(data):
    """A regular 5 x 5 discretisation given to gstat as block = data.frame(points)."""
    pts, tg = data
    o, w = block_offsets((150.0, 150.0), 5, "regular")
    np.testing.assert_allclose(w, 1 / 25)
    disc = pd.DataFrame({"x": o[:, 0], "y": o[:, 1]})
    ref = run_gstat("coordinates(pts) <- ~x+y\ncoordinates(tg) <- ~x+y\n"
                    f"k <- krige(lz ~ 1, pts, tg, model = {vgm(SPH)}, block = disc, nmax = 16, debug.level = 0)\n"
                    "out <- data.frame(estimate = k$var1.pred, variance = k$var1.var)", pts=pts, tg=tg, disc=disc)
    res = BlockKriging(SPH, (150.0, 150.0), "constant", 16, discretisation=5,
                       discretisation_kind="regular").fit(pts[["x", "y"]], pts.lz).predict(tg.to_numpy())
    tol = 1e-6 * np.std(pts.lz)
    np.testing.assert_allclose(res.estimate, ref.estimate, rtol=0, atol=tol)
    np.testing.assert_allclose(res.variance, ref.variance, rtol=0, atol=tol)


def test_block_offsets_and_bad_input():
    o, w = block_offsets((40.0, 20.0), 2, "regular")
    np.testing.assert_allclose(sorted(map(tuple, o)), [(-10, -5), (-10, 5), (10, -5), (10, 5)])
    o, w = block_offsets((40.0, 20.0))
    assert len(o) == 16 and w.sum() == pytest.approx(1.0) and np.abs(o).max(axis=0).tolist() < [20, 10]
    with pytest.raises(GeoMLError, match="block size"):
        block_offsets((0.0, 10.0))
