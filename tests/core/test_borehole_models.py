"""k selection, clustering, continuity and the sequence model on the SYNTHETIC borehole generator
(known truth) and on analytic cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from geoml_qgis.core.borehole.continuity import downhole_continuity, spatial_continuity
from geoml_qgis.core.borehole.kselect import kneedle, select_k
from geoml_qgis.core.borehole.pipeline import run_clustering
from geoml_qgis.core.borehole.samples import build_samples, collar_frame
from geoml_qgis.core.borehole.synthetic import make_boreholes
from geoml_qgis.core.borehole.workbook import clustering_sheets, write_workbook
from geoml_qgis.core.errors import Cancelled, GeoMLError


def _samples(synth):
    collars = collar_frame(synth.collars, "hole", "x", "y", "z", "azimuth", "dip")
    a = synth.assays
    s = build_samples(a, synth.elements, a["hole"].to_numpy(), intervals=(a["from"].to_numpy(), a["to"].to_numpy()),
                      collars=collars)
    truth = pd.Series(synth.truth, index=pd.MultiIndex.from_arrays([a["hole"], a["from"]]))
    return s, truth.loc[list(zip(s.hole, s.extra["from"]))].to_numpy()


def test_kneedle_finds_the_elbow_of_an_analytic_curve():
    x = np.arange(1, 11)
    assert kneedle(x, [100, 70, 40, 10, 9, 8, 7, 6, 5, 4]) == 4
    # y = 1/x on [1, 10]: the distance below the chord peaks at x = sqrt(10), the grid point 3
    assert kneedle(x, 1.0 / x) == 3
    assert kneedle(x, 10.0 - x) is None  # a straight line has no knee


@pytest.mark.parametrize("seed,units", [(1, 4), (2, 5), (3, 3)])
def test_automatic_k_recovers_the_units_and_ari(seed, units):
    synth = make_boreholes(n_holes=10, n_units=units, samples_per_hole=60, seed=seed)
    samples, truth = _samples(synth)
    out = run_clustering(samples, "clr", k_max=8, seed=0)
    assert out.k == units, out.selection.votes
    assert adjusted_rand_score(truth, out.result.labels) >= 0.9
    assert len(out.per_hole) == 10 and out.per_hole["chosen_k"].notna().all()
    assert out.per_hole["chosen_k"].median() == units  # every hole crosses every unit
    sheets = clustering_sheets(out)
    assert set(sheets["cluster_summary"]["cluster"]) == set(range(1, units + 1))


def test_gaussian_mixture_option_recovers_the_units():
    synth = make_boreholes(n_holes=6, n_units=4, samples_per_hole=60, seed=9)
    samples, truth = _samples(synth)
    out = run_clustering(samples, "log", n_clusters=4, k_max=5, method="gmm")
    assert out.result.method == "gmm" and adjusted_rand_score(truth, out.result.labels) >= 0.9


def test_light_per_hole_kmeans_matches_scikit_learn():
    from sklearn.cluster import KMeans

    from geoml_qgis.core.borehole.kselect import _small_kmeans
    from geoml_qgis.core.borehole.transforms import prepare_features

    synth = make_boreholes(n_holes=6, n_units=4, samples_per_hole=60, seed=8)
    samples, _ = _samples(synth)
    X, _ = prepare_features(samples.values.to_numpy(), "clr")
    ratios = []
    for h in np.unique(samples.hole):
        Xh = X[samples.hole == h]
        for k in range(2, 8):
            ref = KMeans(k, n_init=3, random_state=0).fit(Xh).inertia_
            ratios.append(_small_kmeans(Xh, k, 3, 0)[1] / ref)
        # at the true number of units both find the same partition
        assert _small_kmeans(Xh, 4, 3, 0)[1] == pytest.approx(KMeans(4, n_init=3, random_state=0).fit(Xh).inertia_)
    assert np.mean(np.array(ratios) <= 1.05) >= 0.9


def test_fewer_samples_than_clusters_and_one_hole():
    synth = make_boreholes(n_holes=2, n_units=3, samples_per_hole=20, seed=4)
    samples, _ = _samples(synth)
    with pytest.raises(GeoMLError, match="cannot form 500 clusters"):
        run_clustering(samples, n_clusters=500)
    one = pd.DataFrame({"Cu": [1.0, 2.0], "Zn": [2.0, 1.0]})
    tiny = build_samples(one, ["Cu", "Zn"], np.array(["A", "A"]), xyz=np.array([[0, 0, 0], [0, 0, -1.0]]))
    with pytest.raises(GeoMLError, match="at least 3"):
        run_clustering(tiny)
    # one hole only is fine: per-hole and global choices coincide in a one-row table
    keep = synth.assays["hole"] == "DH001"
    single = build_samples(synth.assays[keep], synth.elements, synth.assays.loc[keep, "hole"].to_numpy(),
                           intervals=(synth.assays.loc[keep, "from"].to_numpy(), synth.assays.loc[keep, "to"].to_numpy()),
                           collars=collar_frame(synth.collars, "hole", "x", "y", "z", "azimuth", "dip"))
    out = run_clustering(single, k_max=5)
    assert len(out.per_hole) == 1 and [c.kind for c in out.continuity] == ["downhole", "3d"]


def test_cancel_stops_the_run():
    samples, _ = _samples(make_boreholes(n_holes=3, samples_per_hole=20, seed=5))
    with pytest.raises(Cancelled):
        run_clustering(samples, progress=lambda f: f < 0.3)


def test_downhole_continuity_of_periodic_layers_is_triangular():
    # two holes of alternating 10 m layers sampled every 0.5 m: the share of same-unit pairs at lag h < 10
    # is 1 - h / 10 (analytic), and at h = 10 every pair straddles two units
    depth = np.tile(np.arange(0.25, 400, 0.5), 2)
    holes = np.repeat(["A", "B"], len(depth) // 2)
    labels = (np.floor(depth / 10) % 2).astype(int) + 1
    c = downhole_continuity(labels, holes, depth, max_lag=20.0)
    same = c.probabilities[:, c.pairs.index("1-1")] + c.probabilities[:, c.pairs.index("2-2")]
    assert np.allclose(c.probabilities.sum(axis=1), 1.0)
    for h in (2.5, 5.0, 7.5):
        assert abs(np.interp(h, c.lags, same) - (1 - h / 10)) < 0.05
    assert np.interp(10.0, c.lags, c.probabilities[:, c.pairs.index("1-2")]) > 0.85


def test_spatial_continuity_separates_two_distant_groups():
    rng = np.random.default_rng(0)
    xyz = np.vstack([rng.normal(0, 5, (200, 3)), rng.normal(0, 5, (200, 3)) + [100.0, 0.0, 0.0]])
    labels = np.repeat([1, 2], 200)
    c = spatial_continuity(labels, xyz, max_lag=150.0)
    cross = c.probabilities[:, c.pairs.index("1-2")]
    assert np.nanmax(cross[c.lags < 30]) < 0.01 and np.interp(100.0, c.lags, cross) > 0.95


def test_workbook_is_written_atomically(tmp_path):
    import openpyxl

    samples, _ = _samples(make_boreholes(n_holes=3, samples_per_hole=20, seed=6))
    out = run_clustering(samples, n_clusters=2, k_max=4)
    path = tmp_path / "w.xlsx"
    write_workbook(path, clustering_sheets(out))
    assert openpyxl.load_workbook(path).sheetnames[:3] == ["samples", "cluster_summary", "k_selection"]
    assert [p.name for p in tmp_path.iterdir()] == ["w.xlsx"]
    with pytest.raises(GeoMLError, match="xlsx"):
        write_workbook(tmp_path / "w.xls", {})


def test_sequence_model_on_held_out_holes(tmp_path):
    pytest.importorskip("torch")
    from geoml_qgis.core.borehole.sequence import SequenceModel, split_holes
    from geoml_qgis.core.borehole.transforms import apply_transform

    synth = make_boreholes(n_holes=12, n_units=4, samples_per_hole=60, seed=7)
    samples, truth = _samples(synth)
    X = apply_transform(samples.values.to_numpy(), "clr")
    model = SequenceModel("gru", seq_len=16, epochs=6).fit(X, truth, samples.hole, samples.depth)
    assert set(model.train_holes_).isdisjoint(model.validation_holes_) and len(model.validation_holes_) == 3
    metrics = model.evaluate(X, truth, samples.hole, samples.depth)
    assert metrics["validation_accuracy"] >= 0.9
    assert model.history_["validation_accuracy"].iloc[-1] == pytest.approx(metrics["validation_accuracy"])
    assert np.sum(metrics["confusion"]) == np.isin(samples.hole, model.validation_holes_).sum()
    model.save(tmp_path / "m.pt", {"features": samples.elements})
    loaded, meta = SequenceModel.load(tmp_path / "m.pt")
    assert meta["features"] == samples.elements and meta["cell"] == "gru"
    assert np.allclose(loaded.predict_proba(X, samples.hole, samples.depth), model.predict_proba(X, samples.hole, samples.depth))
    names = np.array([f"unit {t}" for t in truth], dtype=object)  # text labels (unit names) save and load
    named = SequenceModel("gru", seq_len=16, epochs=2).fit(X, names, samples.hole, samples.depth)
    named.save(tmp_path / "named.pt")
    loaded_named, _ = SequenceModel.load(tmp_path / "named.pt")
    assert list(loaded_named.classes_) == sorted(set(names))
    assert np.array_equal(loaded_named.predict(X, samples.hole, samples.depth), named.predict(X, samples.hole, samples.depth))
    for cell in ("rnn", "lstm"):  # the other cells train too
        m = SequenceModel(cell, seq_len=8, epochs=1).fit(X, truth, samples.hole, samples.depth)
        assert m.history_["train_accuracy"].iloc[-1] > 0.4
    with pytest.raises(GeoMLError, match="at least two holes"):
        split_holes(np.array(["A", "A"]))
