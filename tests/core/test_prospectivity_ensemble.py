"""VAE ensemble: uncertainty behaves as defined, members train deterministically, batched = one by one.

Synthetic data (known answers): the label depends on features 0 and 1 only.
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from geoml_qgis.core.errors import GeoMLError  # noqa: E402
from geoml_qgis.core.prospectivity.ensemble import (  # noqa: E402
    VAEEnsemble, assemble_ensemble, prepare_config, train_member)
from geoml_qgis.core.prospectivity.model import ProspectivityModel  # noqa: E402


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 5)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0.8).astype(int)
    return {"X": X, "y": y, "X_unlabelled": rng.normal(size=(800, 5)).astype(np.float32)}


@pytest.fixture(scope="module")
def ensemble(data):
    cfg = {"members": 6, "epochs": 25, "seed": 3}
    return VAEEnsemble(cfg).fit(data["X"], data["y"], data["X_unlabelled"])


def test_members_are_deterministic_and_assemble_predicts_like_the_batched_ensemble(data, ensemble):
    cfg = ensemble.config_
    first, metrics = train_member(data, cfg, 2)
    again, _ = train_member(data, cfg, 2)
    assert all(torch.equal(first[k], again[k]) for k in first) and metrics["index"] == 2
    other, _ = train_member(data, cfg, 3)
    assert not torch.equal(first["enc1.weight"], other["enc1.weight"])  # own seed and bootstrap
    members = [train_member(data, cfg, i)[0] for i in range(6)]
    assembled = assemble_ensemble(members, cfg)
    a, b = assembled.predict_uncertainty(data["X"]), ensemble.predict_uncertainty(data["X"])
    for k in a:
        assert np.allclose(a[k], b[k], atol=1e-6), k  # trained together or one by one: the same ensemble
    wrapped = ProspectivityModel.from_ensemble(assembled, [f"f{i}" for i in range(5)])
    assert np.array_equal(wrapped.predict_uncertainty(data["X"])["epistemic"], a["epistemic"])
    one = assemble_ensemble([members[2]], cfg).predict_proba(data["X"])
    assert np.allclose(one, assembled.member_outputs(data["X"])[0][2], atol=1e-7)


def test_ensemble_separates_classes_and_identical_members_have_no_epistemic(data, ensemble):
    from sklearn.metrics import roc_auc_score

    u = ensemble.predict_uncertainty(data["X"])
    assert roc_auc_score(data["y"], u["probability"]) > 0.95
    assert np.allclose(u["total"], np.sqrt(u["aleatoric"] ** 2 + u["epistemic"] ** 2))
    same = assemble_ensemble([ensemble.members()[0]] * 4, ensemble.config_).predict_uncertainty(data["X"])
    assert np.abs(same["epistemic"]).max() < 1e-6 and np.abs(same["mutual_information"]).max() < 1e-5
    assert same["aleatoric"].max() > 0  # aleatoric does not vanish with identical members


def test_epistemic_is_higher_far_outside_the_training_data(data, ensemble):
    far = data["X"].astype(np.float64).copy()
    far[:, 2:] += 6.0  # 6 sd away along features the labels never depended on
    near = ensemble.predict_uncertainty(data["X"])["epistemic"].mean()
    assert ensemble.predict_uncertainty(far)["epistemic"].mean() > 2 * near


def test_aleatoric_is_higher_where_labels_are_noisy():
    rng = np.random.default_rng(5)
    X = rng.uniform(-2, 2, size=(600, 2)).astype(np.float32)
    y = (X[:, 0] > 0).astype(int)
    noisy = X[:, 1] > 0.5  # labels of this half-plane are coin flips
    y[noisy] = rng.integers(0, 2, noisy.sum())
    ens = VAEEnsemble({"members": 4, "epochs": 40, "seed": 0, "class_weight": None}).fit(X, y)
    grid = rng.uniform(-2, 2, size=(2000, 2))
    grid = grid[np.abs(grid[:, 1] - 0.5) > 0.3]
    alea = ens.predict_uncertainty(grid)["aleatoric"]
    assert alea[grid[:, 1] > 0.5].mean() > 1.5 * alea[grid[:, 1] <= 0.5].mean()


def test_model_file_round_trip_and_config_errors(data, tmp_path):
    m = ProspectivityModel("vae_ensemble", [f"f{i}" for i in range(5)], epochs=5, members=3)
    m.fit(data["X"], data["y"], X_unlabelled=data["X_unlabelled"])
    m.save(tmp_path / "e.pt")
    back = ProspectivityModel.load(tmp_path / "e.pt")
    a, b = m.predict_uncertainty(data["X"]), back.predict_uncertainty(data["X"])
    assert all(np.array_equal(a[k], b[k]) for k in a)
    with pytest.raises(GeoMLError, match="standardisation"):
        assemble_ensemble(back.est_.members(), {"members": 3})
    with pytest.raises(GeoMLError, match="no uncertainty"):
        ProspectivityModel("svm", ["a"]).predict_uncertainty(np.zeros((1, 1)))
    assert prepare_config(data, {})["class_weight"][1] == pytest.approx((data["y"] == 0).sum() / data["y"].sum())


def test_suggested_samples_go_where_members_disagree_and_stay_apart(data, tmp_path):
    from geoml_qgis.core.io import BlockWriter, Grid
    from geoml_qgis.core.prospectivity.activelearning import suggest_samples

    names = [f"f{i}" for i in range(5)]
    m = ProspectivityModel("vae_ensemble", names, epochs=25, members=6, seed=3)
    m.fit(data["X"], data["y"], X_unlabelled=data["X_unlabelled"])
    grid = Grid(40, 30, (0.0, 10.0, 0.0, 300.0, 0.0, -10.0), "EPSG:32610")
    rng = np.random.default_rng(1)
    stack = rng.normal(size=(5, 30, 40)).astype(np.float32)
    stack[2:, :, 30:] += 6.0  # the eastern quarter lies far outside the training data
    with BlockWriter(tmp_path / "s.tif", grid, 5, band_names=names) as w:
        w.write(next(grid.windows()), stack)
    picks = suggest_samples(m, tmp_path / "s.tif", 5, 50.0, block_size=16)
    assert len(picks) == 5 and all(p.x > 300 for p in picks)
    xy = np.array([[p.x, p.y] for p in picks])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert d[np.triu_indices(5, 1)].min() >= 50
    assert [p.score for p in picks] == sorted((p.score for p in picks), reverse=True)


def test_fast_quadrature_equals_the_20_node_rule_and_the_exact_integral():
    """Prediction's quadrature (fewer nodes where the logit noise is small) against the training rule
    over the whole clamped range, and both against a dense quadrature where 20 nodes are exact."""
    from geoml_qgis.core.prospectivity.vae import expected_sigmoid, expected_sigmoid_fast

    m, lv = torch.meshgrid(torch.linspace(-30, 30, 241), torch.linspace(-10, 6, 161), indexing="ij")
    e20, v20 = expected_sigmoid(m, lv)
    e, v = expected_sigmoid_fast(m, lv)
    assert float((e - e20).abs().max()) < 1e-6  # bound asked for: 1e-4
    assert float((v.sqrt() - v20.sqrt()).abs().max()) < 1e-6
    # exact E and Var of sigmoid(m + s eps) by a dense trapezoid rule, for s <= 1 (20 nodes exact there)
    mm, ll = (a.ravel() for a in torch.meshgrid(torch.linspace(-30, 30, 61), torch.linspace(-10, 0, 41), indexing="ij"))
    e, v = expected_sigmoid_fast(mm, ll)
    eps = np.linspace(-9, 9, 2001)
    w = np.exp(-eps ** 2 / 2)
    w /= w.sum()
    p = 1 / (1 + np.exp(-(mm.double().numpy()[:, None] + np.exp(0.5 * ll.double().numpy()[:, None]) * eps)))
    exact_e = p @ w
    exact_sd = np.sqrt(((p - exact_e[:, None]) ** 2) @ w)
    assert np.abs(e.numpy() - exact_e).max() < 1e-6
    assert np.abs(v.sqrt().numpy() - exact_sd).max() < 1e-6


def test_prediction_path_equals_the_training_rule(data, ensemble):
    """member_outputs (fused first layer, fast quadrature, batches) against the plain forward pass."""
    from geoml_qgis.core.prospectivity.ensemble import _scale
    from geoml_qgis.core.prospectivity.vae import expected_sigmoid

    X = np.vstack([data["X"], data["X"] * 3.0])
    p, v = ensemble.member_outputs(X, batch=97)
    with torch.no_grad():
        mu, _ = ensemble.model_.encode(_scale(X, ensemble.config_).expand(ensemble.model_.members, -1, -1))
        p_ref, v_ref = expected_sigmoid(*ensemble.model_.classify(mu))
    assert np.abs(p - p_ref.numpy()).max() < 1e-6
    assert np.abs(np.sqrt(v) - np.sqrt(v_ref.numpy())).max() < 1e-6
