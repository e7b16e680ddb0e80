"""Model files: tensors and JSON only, loaded with weights_only=True, never unpickled."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from geoml_qgis.core.errors import GeoMLError  # noqa: E402
from geoml_qgis.core.modelio import load_model, save_model  # noqa: E402


def test_round_trip_keeps_weights_and_meta(tmp_path):
    net = torch.nn.Linear(3, 2)
    path = tmp_path / "m.pt"
    digest = save_model(path, "test.linear", net.state_dict(), {"features": ["a", "b", "c"], "k": np.int64(3)})
    state, meta = load_model(path, kind="test")
    assert len(digest) == 64 and meta["features"] == ["a", "b", "c"] and meta["k"] == 3
    other = torch.nn.Linear(3, 2)
    other.load_state_dict(state)
    assert torch.equal(other.weight, net.weight)


def test_wrong_kind_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "m.pt"
    save_model(path, "hyperspectral.cnn", {"w": np.zeros(2)}, {})
    with pytest.raises(GeoMLError, match="needs a prospectivity model"):
        load_model(path, kind="prospectivity")
    evil = tmp_path / "evil.pt"

    class Boom:
        def __reduce__(self):
            return (print, ("unpickled!",))

    evil.write_bytes(pickle.dumps({"format": "geoml-model", "x": Boom()}))
    with pytest.raises(GeoMLError, match="not a GeoML model"):
        load_model(evil)
