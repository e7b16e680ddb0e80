"""Hybrid kriging + Conv1D + BiLSTM predictor: no target leakage, Meuse blocked CV vs kriging, persistence, bad input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geoml_qgis.core.errors import GeoMLError
from geoml_qgis.core.geostats import VariogramModel
from geoml_qgis.core.hybrid.features import FeatureBuilder, check_covariates
from tests.conftest import ROOT

torch = pytest.importorskip("torch")

MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse"
MODEL = VariogramModel("spherical", 0.05, 0.64, 900.0)


@pytest.fixture(scope="module")
def meuse():
    from geoml_qgis.core.io import RasterStack

    d = pd.read_csv(MEUSE / "meuse.txt")
    coords = d[["x", "y"]].to_numpy(float)
    with RasterStack([MEUSE / "grids" / "dist.tif", MEUSE / "grids" / "dem.tif"]) as stack:
        cov = check_covariates(stack.sample(coords[:, 0], coords[:, 1]), stack.band_names)
    return coords, d["zinc"].to_numpy(float), cov


def test_a_sample_never_sees_its_own_value(meuse):
    """Changing one sample's value must leave its own training inputs unchanged (it would change them if
    the value leaked in), while the inputs of samples that have it as a neighbour do change."""
    coords, zinc, cov = meuse
    z = np.log(zinc)
    b = FeatureBuilder(coords, z, MODEL, 16, z.mean(), z.std(), cov.mean(0), cov.std(0))
    before = b.training(cov)
    i = 40
    z2 = z.copy()
    z2[i] += 3.0
    after = FeatureBuilder(coords, z2, MODEL, 16, z.mean(), z.std(), cov.mean(0), cov.std(0)).training(cov)
    np.testing.assert_array_equal(after.seq[i], before.seq[i])
    np.testing.assert_array_equal(after.target[i], before.target[i])
    changed = np.flatnonzero(np.any(after.seq != before.seq, axis=(1, 2)))
    assert len(changed) >= 10 and i not in changed
    # and the features of a *new* location at sample i's position do include its value
    at_i = b.targets(coords[i:i + 1], cov[i:i + 1])
    assert at_i.seq[0, 0, 0] == pytest.approx((z[i] - z.mean()) / z.std(), rel=1e-6)


def test_untrained_network_is_kriging():
    from geoml_qgis.core.hybrid.network import HybridNet

    net = HybridNet(6, 4)
    seq, tgt = torch.randn(8, 16, 6), torch.randn(8, 4)
    torch.testing.assert_close(net(seq, tgt), tgt[:, 0])


def test_fused_ensemble_equals_its_members():
    """The one-pass ensemble (convolutions as matrix products, time-major LSTMs) gives each member's
    shrunk correction, for several batch sizes, sequence lengths and channel counts."""
    from geoml_qgis.core.hybrid.network import EnsembleNet, HybridNet

    gen = torch.Generator().manual_seed(3)
    for members, k, c_seq, c_target, b in ((3, 16, 5, 4, 700), (2, 8, 6, 2, 33), (1, 1, 5, 3, 5)):
        torch.manual_seed(members * 100 + k)
        nets = [HybridNet(c_seq, c_target).eval() for _ in range(members)]
        for net in nets:  # a trained-looking head (it starts at zero)
            torch.nn.init.normal_(net.head[-1].weight, std=0.5, generator=gen)
        shrink = [1.0, 0.5, 0.75][:members]
        seq, tgt = torch.randn(b, k, c_seq, generator=gen), torch.randn(b, c_target, generator=gen)
        with torch.inference_mode():
            want = torch.stack([s * n.correction(seq, tgt) for n, s in zip(nets, shrink)])
            got = EnsembleNet(nets, shrink).eval()(seq, tgt)
        assert want.abs().max() > 0.05
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)


def test_meuse_blocked_cv_not_worse_than_kriging(meuse):
    """Meuse log(zinc), covariates dist and elevation, 5 spatial folds: hybrid RMSE <= 1.05 x kriging's."""
    from geoml_qgis.core.hybrid.evaluate import blocked_comparison

    coords, zinc, cov = meuse
    cmp = blocked_comparison(coords, zinc, cov, "spherical", n_folds=5, seed=0, transform="log",
                             neighbours=16, epochs=60, ensemble=2)
    hyb, ok = cmp.scores.loc["hybrid", "RMSE"], cmp.scores.loc["ordinary kriging", "RMSE"]
    assert 0.3 < ok < 0.9
    assert hyb <= 1.05 * ok
    assert cmp.table["hybrid"].notna().all() and (cmp.table["spread"] >= 0).all()


def test_save_load_predicts_the_same(meuse, tmp_path):
    from geoml_qgis.core.hybrid.predictor import HybridPredictor

    coords, zinc, cov = meuse
    hp = HybridPredictor(MODEL, neighbours=8, transform="log", epochs=5, ensemble=2).fit(coords, zinc, cov)
    hp.save(tmp_path / "m.pt", {"field": "zinc", "covariates": ["dist", "dem"]})
    loaded, meta = HybridPredictor.load(tmp_path / "m.pt")
    t = coords[:10] + 15.0
    p1, s1 = hp.predict(t, cov[:10])
    p2, s2 = loaded.predict(t, cov[:10])
    np.testing.assert_allclose(p1, p2, rtol=1e-6)
    np.testing.assert_allclose(s1, s2, atol=1e-6)
    # refitting replaces the networks: predictions follow the new ones, not a cached fused ensemble
    hp.seed = 7
    hp.fit(coords, zinc, cov)
    f = hp.builder_.targets(t, cov[:10])
    seq, tgt = torch.from_numpy(f.seq), torch.from_numpy(f.target)
    with torch.no_grad():
        members = [f.target[:, 0] + s * n.correction(seq, tgt).numpy() for n, s in zip(hp.nets_, hp.shrink_)]
    want = np.exp(np.array(members, float) * hp.builder_.std + hp.builder_.mean).mean(axis=0)
    p3, _ = hp.predict(t, cov[:10])
    np.testing.assert_allclose(p3, want, rtol=1e-5)
    assert np.abs(p3 / p1 - 1).max() > 1e-3, hp.shrink_
    assert meta["field"] == "zinc" and (p1 > 50).all() and (p1 < 3000).all()  # ppm, back-transformed


def test_members_shrunk_to_zero_are_kriging(meuse):
    """A member whose shrink factor is 0 is not run; the ensemble still counts it, as kriging itself."""
    from geoml_qgis.core.hybrid.predictor import HybridPredictor

    coords, zinc, cov = meuse
    hp = HybridPredictor(MODEL, neighbours=8, transform="log", epochs=3, ensemble=3).fit(coords, zinc, cov)
    t = coords[:10] + 15.0
    f = hp.builder_.targets(t, cov[:10])
    seq, tgt = torch.from_numpy(f.seq), torch.from_numpy(f.target)
    with torch.no_grad():
        corr = [n.correction(seq, tgt).numpy() for n in hp.nets_]
    for shrink in ([0.0, 1.0, 0.5], [0.75, 0.0, 0.0], [0.0, 0.0, 0.0]):
        hp.shrink_ = shrink
        members = np.array([f.target[:, 0] + s * c for c, s in zip(corr, shrink)], float)
        members = np.exp(members * hp.builder_.std + hp.builder_.mean)
        p, spread = hp.predict(t, cov[:10])
        np.testing.assert_allclose(p, members.mean(axis=0), rtol=1e-5)
        np.testing.assert_allclose(spread, members.std(axis=0), rtol=1e-4, atol=1e-6)


def test_too_few_points_for_the_neighbour_count():
    with pytest.raises(GeoMLError, match="too few for sequences of 16"):
        FeatureBuilder(np.random.default_rng(0).uniform(0, 100, (10, 2)), np.arange(10.0), MODEL, 16, 0, 1)


def test_log_transform_needs_positive_values():
    from geoml_qgis.core.hybrid.predictor import HybridPredictor

    with pytest.raises(GeoMLError, match="positive"):
        HybridPredictor(MODEL, transform="log").fit(np.random.default_rng(0).uniform(0, 100, (30, 2)),
                                                    np.linspace(-1, 5, 30))


def test_covariates_not_covering_or_nodata_at_samples(write_raster):
    from geoml_qgis.core.io import RasterStack

    arr = np.ones((10, 10), np.float32)
    arr[2, 3] = -1.0  # nodata cell under the second sample
    path = write_raster(arr, transform=(0.0, 1.0, 0.0, 10.0, 0.0, -1.0), nodata=-1.0)
    with RasterStack([path]) as stack:
        values = stack.sample(np.array([5.5, 3.5, 50.0]), np.array([5.5, 7.5, 5.0]))
        names = stack.band_names
    with pytest.raises(GeoMLError, match=r"2 sample\(s\) fall outside or on nodata"):
        check_covariates(values, names)


def test_two_workers_write_the_same_rasters(meuse, tmp_path):
    from osgeo import gdal

    from geoml_qgis.core.hybrid.predictor import HybridPredictor
    from geoml_qgis.core.hybrid.rasters import predict_to_rasters
    from geoml_qgis.core.io import Grid, RasterStack

    coords, zinc, cov = meuse
    hp = HybridPredictor(MODEL, neighbours=8, transform="log", epochs=3, ensemble=2).fit(coords, zinc, cov)
    covs = [str(MEUSE / "grids" / "dist.tif"), str(MEUSE / "grids" / "dem.tif")]
    with RasterStack(covs) as s:
        xmin, ymin, xmax, ymax = s.grid.bounds
        px = (xmax - xmin) / 260  # a 260 x 60 strip through the middle: three 128-wide blocks
        grid = Grid(260, 60, (xmin, px, 0.0, (ymin + ymax) / 2, 0.0, -px), s.grid.crs_wkt)
    out = {}
    for w in (1, 2):
        predict_to_rasters(hp, grid, tmp_path / f"p{w}.tif", tmp_path / f"u{w}.tif", covs, workers=w)
        out[w] = [gdal.Open(str(tmp_path / f"{n}{w}.tif")).ReadAsArray() for n in "pu"]
    assert all(np.array_equal(a, b) for a, b in zip(out[1], out[2]))
    assert (out[1][0] != -9999).sum() > 2000
