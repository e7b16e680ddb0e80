"""The scikit-learn prospectivity baselines need no torch: with torch hidden from Python, a random
forest, SVM and logistic regression train, save, load and predict (SYNTHETIC data, known labels)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from ..conftest import ROOT

SCRIPT = r"""
import importlib.abc, json, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "torch":
            raise ImportError(f"No module named '{name}' (blocked for the test)")

sys.meta_path.insert(0, Block())
import numpy as np
from geoml_qgis.core.prospectivity.model import ProspectivityModel

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3))
y = (X[:, 0] + 0.5 * X[:, 1] + rng.normal(scale=0.5, size=200) > 0.8).astype(int)
out = {}
for method in ("random_forest", "svm", "logistic_regression"):
    model = ProspectivityModel(method, ["a", "b", "c"], seed=1).fit(X, y)
    path = sys.argv[1] + f"/{method}.pt"
    model.save(path)
    loaded = ProspectivityModel.load(path)
    p, q = model.predict_proba(X), loaded.predict_proba(X)
    out[method] = {"same": bool(np.allclose(p, q)), "accuracy": float(((q > 0.5) == y).mean())}
out["torch_loaded"] = "torch" in sys.modules
print(json.dumps(out))
"""


def test_baselines_train_save_load_predict_without_torch(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not out.pop("torch_loaded")
    for method, res in out.items():
        assert res["same"], method
        assert res["accuracy"] > 0.8, (method, res)
