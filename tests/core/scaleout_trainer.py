"""A small deterministic member trainer for the scale-out tests (not part of the library).

Member *i* is a logistic regression (one torch ``Linear`` layer) fitted by full-batch
gradient descent on a bootstrap resample of the labelled rows drawn with seed
``(seed, i)``; so the same data, config and index give identical weights. Config keys:
``seed``, ``epochs``, ``fail_members`` (indices that raise, to test failures).
"""
from __future__ import annotations

import numpy as np
import torch

from geoml_qgis.core.modelio import save_model
from geoml_qgis.core.scaleout import trainers

NAME = "test_logreg"
WORKER_MODULE = "tests.core.scaleout_worker"


def register(registry: dict) -> None:
    """Add this trainer to a trainer registry (the tests monkeypatch ``TRAINERS``)."""
    registry[NAME] = trainers.Trainer(f"{__name__}:train_member", f"{__name__}:assemble")


def train_member(data: dict, config: dict, index: int) -> tuple[dict, dict]:
    if index in config.get("fail_members", []):
        raise RuntimeError(f"member {index} fails on purpose (test)")
    x, y = data["X"], data["y"]
    rng = np.random.default_rng([int(config["seed"]), index])
    rows = rng.integers(0, len(x), len(x))
    xt = torch.from_numpy(x[rows])
    yt = torch.from_numpy(y[rows].astype(np.float32))
    gen = torch.Generator().manual_seed(int(config["seed"]) * 1000 + index)
    layer = torch.nn.Linear(x.shape[1], 1)
    with torch.no_grad():
        layer.weight.copy_(0.01 * torch.randn(layer.weight.shape, generator=gen))
        layer.bias.zero_()
    opt = torch.optim.SGD(layer.parameters(), lr=0.5)
    for _ in range(int(config["epochs"])):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(layer(xt)[:, 0], yt)
        loss.backward()
        opt.step()
    return layer.state_dict(), {"loss": float(loss.detach()), "rows": int(len(rows))}


class LogRegEnsemble:
    """Mean probability of the members."""

    def __init__(self, states: list[dict], config: dict):
        self.weights = torch.stack([s["weight"][0] for s in states])  # (M, f)
        self.bias = torch.stack([s["bias"][0] for s in states])  # (M,)
        self.config = config

    @property
    def members(self) -> int:
        return len(self.bias)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, f) → (n,) mean member probability."""
        logits = torch.from_numpy(np.asarray(x, np.float32)) @ self.weights.T + self.bias
        return torch.sigmoid(logits).mean(dim=1).numpy()

    def save(self, path: str) -> str:
        return save_model(path, "test.logreg_ensemble", {"weights": self.weights, "bias": self.bias},
                          {"members": self.members, "config": self.config})


def assemble(states: list[dict], config: dict) -> LogRegEnsemble:
    return LogRegEnsemble(states, config)
