"""Mineral prospectivity core: feature stacks, transfer learning, baselines, evaluation, bad input.

Synthetic data (known answers) unless named: deposits are placed where two evidence layers are
both high, so every method must rank that zone above the background.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from osgeo import gdal, ogr, osr

from geoml_qgis.core.errors import Cancelled, GeoMLError
from geoml_qgis.core.io import BlockWriter, Grid, PointTable, RasterStack
from geoml_qgis.core.prospectivity import evaluation as ev
from geoml_qgis.core.prospectivity.model import METHODS, ProspectivityModel
from geoml_qgis.core.prospectivity.sampling import sample_stack
from geoml_qgis.core.prospectivity.stack import build_feature_stack, read_transform
from geoml_qgis.core.prospectivity.workflow import table_features, training_data

torch = pytest.importorskip("torch")

N = 60
CRS = osr.SpatialReference()
CRS.ImportFromEPSG(28992)
WKT = CRS.ExportToWkt()
GRID = Grid(N, N, (100000.0, 50.0, 0.0, 400000.0, 0.0, -50.0), WKT)


def smooth_field(rng, n=N, k=7):
    f = rng.normal(size=(n + k, n + k))
    kern = np.ones(k) / k
    f = np.apply_along_axis(lambda r: np.convolve(r, kern, "valid"), 1, f)
    f = np.apply_along_axis(lambda c: np.convolve(c, kern, "valid"), 0, f)
    return (f[:n, :n] - f.mean()) / f.std()


def write(path, arr, dtype="float32", nodata=None):
    with BlockWriter(path, GRID, 1, dtype, nodata=nodata, band_names=[path.stem]) as w:
        w.write(next(GRID.windows(1024)), np.ma.masked_invalid(arr) if dtype == "float32" else arr)
    return path


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """Stack of a, b (evidence), c (noise), rock (categorical); deposits where a and b are both high."""
    d = tmp_path_factory.mktemp("prosp")
    rng = np.random.default_rng(1)
    a, b, c = smooth_field(rng), smooth_field(rng), rng.normal(size=(N, N))
    a[0, :3] = np.nan  # nodata cells
    rock = (np.digitize(a + b, [-1.0, 0.0, 1.0]) + 1).astype(np.uint8)  # pretext classes 1..4
    paths = [write(d / "a.tif", a), write(d / "b.tif", b), write(d / "c.tif", c)]
    rock_path = write(d / "rock.tif", rock, "uint8", nodata=0)
    zone = (a > np.nanquantile(a, 0.75)) & (b > np.nanquantile(b, 0.75))
    xs, ys = GRID.cell_centres()
    zr, zc = np.nonzero(zone)
    pick = rng.choice(len(zr), 30, replace=False)
    bg = np.flatnonzero(~zone.ravel() & np.isfinite(a.ravel()))
    neg = rng.choice(bg, 150, replace=False)
    px = np.concatenate([xs[zr[pick], zc[pick]], xs.ravel()[neg]])
    py = np.concatenate([ys[zr[pick], zc[pick]], ys.ravel()[neg]])
    y = np.r_[np.ones(30), np.zeros(150)]
    points = PointTable(px, py, None, pd.DataFrame({"dep": y}), WKT)
    stack = d / "stack.tif"
    tf = build_feature_stack(stack, paths, vectors=(), pca_components=0)
    return {"dir": d, "stack": stack, "rock": rock_path, "points": points, "zone": zone, "tf": tf,
            "raw": (a, b, c), "paths": paths}


def test_stack_is_standardised_and_transform_reapplies(synthetic):
    with RasterStack([synthetic["stack"]]) as s:
        assert s.band_names == ["a", "b", "c"]
        block = s.read(next(s.windows()))
    for k in range(3):
        v = block[k].compressed()
        assert abs(v.mean()) < 1e-4 and abs(v.std() - 1) < 1e-4
    assert np.ma.getmaskarray(block)[:, 0, :3].all()  # nodata of one layer is nodata in every band
    raw = np.stack([r.ravel() for r in synthetic["raw"]], axis=1)
    tf = read_transform(synthetic["stack"])
    again = tf.apply(raw).reshape(N, N, 3)
    ok = np.isfinite(again).all(axis=2)
    assert np.allclose(again[ok], np.moveaxis(block.data, 0, 2)[ok], atol=1e-5)


def test_pca_and_one_hot_match_sklearn(synthetic, tmp_path):
    from sklearn.decomposition import PCA

    out = tmp_path / "pca.tif"
    tf = build_feature_stack(out, synthetic["paths"], [synthetic["rock"]], pca_components=3)
    assert tf.expanded_names == ["a", "b", "c", "rock=1", "rock=2", "rock=3", "rock=4"]
    assert read_transform(out).output_names == ["PC1", "PC2", "PC3"]
    raw = np.column_stack([*(r.ravel() for r in synthetic["raw"]), gdal.Open(str(synthetic["rock"])).ReadAsArray().ravel()])
    z = tf.expand(raw)
    z = z[np.isfinite(z).all(axis=1)]
    z = (z - z.mean(axis=0)) / z.std(axis=0)
    ref = PCA(3).fit(z)
    assert np.allclose(tf.explained, ref.explained_variance_ratio_, atol=1e-6)
    assert np.allclose(np.abs(np.asarray(tf.components)), np.abs(ref.components_), atol=1e-5)


def test_distance_evidence_matches_geometry(tmp_path):
    from geoml_qgis.core.prospectivity.distance import distance_raster

    path = str(tmp_path / "fault.gpkg")
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(path)
    lyr = ds.CreateLayer("fault", CRS, ogr.wkbLineString)
    x_fault = 100000.0 + 20 * 50.0 + 25.0  # through the centres of column 20
    f = ogr.Feature(lyr.GetLayerDefn())
    f.SetGeometry(ogr.CreateGeometryFromWkt(f"LINESTRING ({x_fault} 396000, {x_fault} 400000)"))
    lyr.CreateFeature(f)
    ds = None
    out = distance_raster(path, GRID, str(tmp_path / "d.tif"))
    d = gdal.Open(out).ReadAsArray()
    expected = np.abs(GRID.cell_centres()[0] - x_fault)
    assert np.allclose(d, expected, atol=1e-3)
    tf = build_feature_stack(tmp_path / "s.tif", [write(tmp_path / "a.tif", np.random.default_rng(0).normal(size=(N, N)))],
                             vectors=[path])
    assert tf.input_names == ["a", "dist_fault"]
    sd = np.asarray(tf.std)[1]
    ds = gdal.Open(str(tmp_path / "s.tif"))
    z = ds.GetRasterBand(2).ReadAsArray()
    assert np.allclose(z * sd + tf.mean[1], expected, atol=1e-2)  # the stack holds the standardised distance


@pytest.mark.parametrize("method", METHODS)
def test_every_method_ranks_the_deposit_zone_first(synthetic, method, tmp_path):
    data = training_data(synthetic["points"], label_field="dep", stack_path=str(synthetic["stack"]))
    model = ProspectivityModel(method, data.names, epochs=60, pretext_epochs=40, seed=0)
    if method == "transfer":
        from geoml_qgis.core.prospectivity.sampling import pretext_from_raster

        with RasterStack([synthetic["stack"]]) as s:
            Xp, cp = pretext_from_raster(s, synthetic["rock"], 400, 0)
        model.fit(data.X, data.y, Xp, cp)
    else:
        model.fit(data.X, data.y)
    out = tmp_path / "p.tif"
    model.predict_stack(synthetic["stack"], out, block_size=16)  # many small blocks
    p = gdal.Open(str(out)).ReadAsArray()
    zone, valid = synthetic["zone"], p != -9999
    from sklearn.metrics import roc_auc_score

    auc = roc_auc_score(zone[valid], p[valid])
    assert auc > 0.9, (method, auc)
    assert p[zone & valid].mean() > 2 * p[~zone & valid].mean()
    assert (p[~valid] == -9999).all() and (~valid).sum() == 3


@pytest.mark.parametrize("method", ["scratch", "vae_ensemble"])
def test_two_workers_write_the_same_rasters(synthetic, method, tmp_path):
    data = training_data(synthetic["points"], label_field="dep", stack_path=str(synthetic["stack"]))
    model = ProspectivityModel(method, data.names, epochs=20, seed=0, members=3).fit(data.X, data.y)
    out = {}
    for w in (1, 2):
        unc = {"total": str(tmp_path / f"t{w}.tif")} if method == "vae_ensemble" else None
        model.predict_stack(synthetic["stack"], tmp_path / f"p{w}.tif", block_size=16, uncertainty=unc, workers=w)
        out[w] = [gdal.Open(str(tmp_path / f"{n}{w}.tif")).ReadAsArray() for n in ("pt" if unc else "p")]
    assert all(np.array_equal(a, b) for a, b in zip(out[1], out[2]))


def test_transfer_starts_from_pretext_weights_and_linear_probe_keeps_them(synthetic):
    data = training_data(synthetic["points"], label_field="dep", stack_path=str(synthetic["stack"]))
    rng = np.random.default_rng(0)
    Xp = rng.normal(size=(300, 3))
    cp = (Xp[:, 0] > 0).astype(int) + 2 * (Xp[:, 1] > 0)
    full = ProspectivityModel("transfer", data.names, epochs=20, pretext_epochs=20).fit(data.X, data.y, Xp, cp)
    pre = full.pretext_.state
    start = full.est_.start_state_
    for k in ("body.0.weight", "body.0.bias", "body.3.weight"):
        assert torch.equal(start[k], pre[k])  # fine-tuning began from the pretext body
        assert not torch.equal(full.est_.net_.state_dict()[k], pre[k])  # and full fine-tuning moved it
    lin = ProspectivityModel("transfer", data.names, epochs=20, pretext_epochs=20, finetune="linear").fit(data.X, data.y, Xp, cp)
    assert all(torch.equal(lin.est_.net_.state_dict()[k], pre[k]) for k in pre if k.startswith("body."))
    scratch = ProspectivityModel("scratch", data.names, epochs=20).fit(data.X, data.y)
    assert not torch.equal(scratch.est_.start_state_["body.0.weight"], pre["body.0.weight"])


def test_class_weights_change_the_fine_tuned_result():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(220, 3))
    y = ((X[:, 0] + 0.8 * rng.normal(size=220)) > 1.9).astype(int)  # ~3 % deposits
    assert 3 <= y.sum() <= 20
    p = {}
    for cw in ("auto", None):
        m = ProspectivityModel("scratch", ["a", "b", "c"], class_weight=cw, epochs=80, seed=0).fit(X, y)
        p[cw] = m.predict_proba(X)
    assert p["auto"][y == 1].mean() > p[None][y == 1].mean() + 0.2
    assert p["auto"].mean() > 2 * p[None].mean()


@pytest.mark.parametrize("method", METHODS)
def test_save_load_predicts_the_same_and_refuses_other_bands(synthetic, method, tmp_path):
    data = training_data(synthetic["points"], label_field="dep", stack_path=str(synthetic["stack"]))
    m = ProspectivityModel(method, data.names, epochs=10, pretext_epochs=5)
    m.fit(data.X, data.y, data.X, (data.X[:, 0] > 0).astype(int))
    m.save(tmp_path / "m.pt")
    back = ProspectivityModel.load(tmp_path / "m.pt")
    assert np.array_equal(back.predict_proba(data.X), m.predict_proba(data.X))
    other = tmp_path / "other.tif"
    build_feature_stack(other, synthetic["paths"][:2])
    with pytest.raises(GeoMLError, match=r"Missing: c"):
        back.predict_stack(other, tmp_path / "x.tif")
    assert not (tmp_path / "x.tif").exists()


def test_cancelled_prediction_leaves_no_file(synthetic, tmp_path):
    data = training_data(synthetic["points"], label_field="dep", stack_path=str(synthetic["stack"]))
    m = ProspectivityModel("logistic_regression", data.names).fit(data.X, data.y)
    calls = []
    with pytest.raises(Cancelled):
        m.predict_stack(synthetic["stack"], tmp_path / "c.tif", progress=lambda f: calls.append(f) or len(calls) < 3,
                        block_size=16)
    assert not list(tmp_path.iterdir())


# evaluation: known answers -------------------------------------------------------------
def test_success_rate_and_capture_of_a_perfect_and_a_random_ranking():
    area = np.arange(1000, dtype=float)
    top = area[-20:]  # deposits on the 20 best cells (top 2 % of area)
    share, cap = ev.success_rate(area, top)
    assert cap[np.searchsorted(share, 0.02)] == 1.0 and ev.area_auc(share, cap) > 0.98
    assert ev.capture_efficiency(area, top) == {0.05: 1.0, 0.10: 1.0, 0.20: 1.0}
    uniform = area[::50]  # deposits spread evenly over the ranking
    assert ev.capture_efficiency(area, uniform)[0.20] == pytest.approx(0.2, abs=0.05)
    share, cap = ev.success_rate(area, uniform)
    assert ev.area_auc(share, cap) == pytest.approx(0.5, abs=0.03)


def test_folds_are_stratified_and_spatial_blocks_stay_whole():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(23), np.zeros(100)].astype(int)
    f = ev.stratified_folds(y, 5, 0)
    assert sorted(np.bincount(f[y == 1])) == [4, 4, 5, 5, 5]
    xy = rng.uniform(0, 1000, size=(123, 2))
    g = ev.spatial_folds(xy, y, 5, block_size=100, seed=0)
    blocks = np.floor((xy - xy.min(axis=0)) / 100).astype(int)  # blocks start at the points' lower-left corner
    for blk in np.unique(blocks, axis=0):
        assert len(set(g[(blocks == blk).all(axis=1)])) == 1
    assert all((y[g == k] == 1).any() for k in range(5))


def test_cross_validation_scores_only_held_out_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 2))
    y = rng.integers(0, 2, 150)  # labels unrelated to features: held-out AUC must be near 0.5
    res = ev.cross_validate(lambda: ProspectivityModel("random_forest", ["a", "b"]), X, y, ev.stratified_folds(y, 5))
    assert abs(np.mean(res.roc_auc) - 0.5) < 0.12
    train_auc = ev.auc_scores(y, ProspectivityModel("random_forest", ["a", "b"]).fit(X, y).predict_proba(X))[0]
    assert train_auc > 0.95  # what scoring on training data would have claimed


# bad input ---------------------------------------------------------------------------
def test_one_class_and_too_few_positives_are_refused():
    X = np.random.default_rng(0).normal(size=(40, 2))
    with pytest.raises(GeoMLError, match="only one class"):
        ProspectivityModel("svm", ["a", "b"]).fit(X, np.zeros(40))
    y = np.r_[np.ones(3), np.zeros(37)]
    with pytest.raises(GeoMLError, match="Only 3 deposits for 5-fold"):
        ev.stratified_folds(y, 5)


def test_missing_and_text_feature_fields_are_named():
    df = pd.DataFrame({"PC1": [1.0, 2.0], "PC2": ["0.5", "abc"], "DEP": [1, 0]})
    with pytest.raises(GeoMLError, match="PC3"):
        table_features(df, ["PC1", "PC3"])
    with pytest.raises(GeoMLError, match="'PC2' holds text.*abc"):
        table_features(df, ["PC1", "PC2"])


def test_points_in_another_crs_are_reprojected_and_outside_or_nodata_dropped(synthetic):
    pts = synthetic["points"]
    with RasterStack([synthetic["stack"]]) as s:
        ref = sample_stack(s, pts)
        ct = osr.CoordinateTransformation(CRS, _wgs84())
        ll = np.asarray(ct.TransformPoints(pts.xy.tolist()))
        geo = PointTable(ll[:, 0], ll[:, 1], None, pts.attributes, _wgs84().ExportToWkt())
        again = sample_stack(s, geo)
        assert np.allclose(again.X, ref.X) and again.kept.all()
        x0, y0 = GRID.transform[0], GRID.transform[3]
        odd = PointTable(np.array([x0 - 500, x0 + 25, x0 + 525]), np.array([y0 - 25, y0 - 25, y0 - 525]), None,
                         pd.DataFrame({"dep": [1, 1, 0]}), WKT)
        s2 = sample_stack(s, odd)
    assert (s2.outside, s2.nodata, int(s2.kept.sum())) == (1, 1, 1)
    assert s2.message() == "Dropped 1 outside the feature stack and 1 on nodata of the points."


def _wgs84():
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def test_yukon_tables_transfer_and_baselines_beat_chance():
    """Real data: the Yukon porphyry Cu training table (Mantilla-Dulcey et al. 2024), 5-fold CV."""
    from pathlib import Path

    d = Path(__file__).resolve().parents[2] / "geoml_qgis" / "sample_data" / "yukon_porphyry"
    t, pre = pd.read_csv(d / "02_Train_PCA.csv"), pd.read_csv(d / "03_Train_Pretext.csv")
    names = [f"PC{i}" for i in range(1, 8)]
    X, y = t[names].to_numpy(), t["DEP"].to_numpy().astype(int)
    folds = ev.stratified_folds(y, 5, 0)
    proto = ProspectivityModel("transfer", names, epochs=60, pretext_epochs=40).pretrain(pre[names].to_numpy(), pre["ETIQUETA"].to_numpy())
    assert proto.pretext_.accuracy > 0.7  # rock class is learnable from the PCs
    for make in (proto.clone, lambda: ProspectivityModel("svm", names)):
        res = ev.cross_validate(make, X, y, folds)
        assert np.mean(res.roc_auc) > 0.85


def test_workflow_errors_name_its_own_arguments(synthetic):
    """Core says which of ITS arguments is wrong; a caller may rename them (the wrappers use parameter ids)."""
    from geoml_qgis.core.errors import ArgumentError
    from geoml_qgis.core.prospectivity.workflow import pretext_data

    with pytest.raises(ArgumentError, match=r"\(stack_path\) or the feature fields of the input \(feature_fields\)") as e:
        training_data(synthetic["points"], label_field="dep")
    assert "(FEATURES)" in e.value.renamed({"stack_path": "FEATURES"})
    with pytest.raises(ArgumentError, match=r"raster \(raster\) can only be sampled together with a feature stack"):
        pretext_data(["a"], raster=str(synthetic["rock"]))
