"""The device option of the torch paths: names resolve as documented; on a CUDA machine the GPU gives
the CPU's results to float32 rounding (those tests are skipped where torch sees no GPU)."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from geoml_qgis.core.device import resolve_device  # noqa: E402
from geoml_qgis.core.errors import GeoMLError  # noqa: E402

GPU = torch.cuda.is_available()
needs_gpu = pytest.mark.skipif(not GPU, reason="torch sees no CUDA GPU here")


def test_names_resolve():
    assert resolve_device(None).type == "cpu" and resolve_device("CPU").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if GPU else "cpu")
    with pytest.raises(GeoMLError, match="Unknown device"):
        resolve_device("tpu")
    if not GPU:
        with pytest.raises(GeoMLError, match="no CUDA GPU"):
            resolve_device("cuda")


def _ensemble():
    from geoml_qgis.core.prospectivity.ensemble import VAEEnsemble

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + X[:, 1] > 0.7).astype(int)
    return VAEEnsemble({"members": 3, "epochs": 5, "seed": 1}).fit(X, y), X


def test_auto_on_this_machine_predicts_like_cpu():
    ens, X = _ensemble()
    a, b = ens.predict_uncertainty(X, device="cpu"), ens.predict_uncertainty(X, device="auto")
    tol = 1e-5 if GPU else 0.0
    assert all(np.abs(a[k] - b[k]).max() <= tol for k in a)


@needs_gpu
def test_gpu_training_and_prediction_match_cpu():
    from geoml_qgis.core.prospectivity.ensemble import VAEEnsemble

    ens, X = _ensemble()
    y = (X[:, 0] + X[:, 1] > 0.7).astype(int)
    gpu = VAEEnsemble({"members": 3, "epochs": 5, "seed": 1}).fit(X, y, device="cuda")
    assert next(gpu.model_.parameters()).device.type == "cpu"  # models stay on the CPU
    np.testing.assert_allclose(gpu.predict_proba(X), ens.predict_proba(X), atol=1e-3)


def _spectra(n: int = 600):
    """SYNTHETIC: three smooth absorption shapes on 224 bands (400-2500 nm) with brightness and noise."""
    rng = np.random.default_rng(2)
    wl = np.linspace(400.0, 2500.0, 224)
    centres = np.array([[900.0, 2200.0], [1400.0, 2330.0], [1900.0, 2160.0]])
    basis = np.stack([1 - 0.3 * np.exp(-((wl[None, :] - c[:, None]) / 40.0) ** 2).sum(0) for c in centres])
    y = rng.integers(0, 3, n)
    X = (basis[y] * rng.uniform(0.6, 1.0, (n, 1)) + rng.normal(0, 0.005, (n, 224))).astype(np.float32)
    return X, y, wl, np.full(224, 10.0)


@needs_gpu
def test_gpu_cnn_training_and_prediction_match_cpu():
    from geoml_qgis.core.hyperspectral.cnn import SpectralCNN

    X, y, wl, fwhm = _spectra()
    gpu = SpectralCNN(epochs=8).fit(X, y, wl, fwhm, ["a", "b", "c"], device="cuda")
    assert next(gpu.inference_net().parameters()).device.type == "cpu"  # models stay on the CPU
    p_cpu, p_gpu = gpu.predict_proba(X, device="cpu"), gpu.predict_proba(X, device="cuda")
    np.testing.assert_allclose(p_gpu, p_cpu, atol=1e-4)
    assert (p_gpu.argmax(1) == y).mean() > 0.9  # three well-separated shapes are learnt on the GPU


@needs_gpu
def test_gpu_hybrid_training_and_prediction_match_cpu():
    pytest.importorskip("osgeo")  # the hybrid's kriging features import the geostatistics package (GDAL)
    from geoml_qgis.core.geostats import VariogramModel
    from geoml_qgis.core.hybrid.predictor import HybridPredictor

    rng = np.random.default_rng(3)  # SYNTHETIC: a smooth field plus a covariate effect on 150 points
    xy = rng.uniform(0, 1000, (150, 2))
    cov = rng.normal(size=(150, 1))
    z = np.sin(xy[:, 0] / 200.0) + 0.5 * cov[:, 0] + rng.normal(0, 0.05, 150)
    hp = HybridPredictor(VariogramModel("spherical", 0.01, 0.5, 400.0), neighbours=8, epochs=3,
                         ensemble=2).fit(xy, z, cov, device="cuda")
    a, b = hp.predict(xy[:20], cov[:20], device="cpu"), hp.predict(xy[:20], cov[:20], device="cuda")
    np.testing.assert_allclose(b[0], a[0], atol=1e-4)
    np.testing.assert_allclose(b[1], a[1], atol=1e-4)
