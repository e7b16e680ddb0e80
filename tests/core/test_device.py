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
