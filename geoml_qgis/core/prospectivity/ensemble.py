"""VAE ensemble with aleatoric, epistemic and total uncertainty (after Nagasingha, Bérubé & Ghanati 2025).

M members (default 10), each on its own bootstrap resample of the labelled rows, with its own seed,
are trained **together** as one :class:`~.vae.BatchedVAE` (stacked parameters, one forward pass for
all). The per-member loss is summed, and Adam acts element-wise, so each member's update depends only
on its own parameters and data: training members together or one by one (:func:`train_member`) is the
same computation, and :func:`assemble_ensemble` stacks one-by-one members into the batched model.

Uncertainty per cell, from member m's mean probability ``p_m = E[sigmoid(logit)]`` and its variance
``v_m = Var[sigmoid(logit)]`` under the member's logit noise (both by Gauss-Hermite quadrature):

- probability ``p = mean_m p_m``
- aleatoric ``= sqrt(mean_m v_m)`` (noise the data itself carries)
- epistemic ``= sqrt(mean_m (p_m - p)^2)`` (disagreement of the members: what more data would reduce)
- total ``= sqrt(aleatoric^2 + epistemic^2)``
- mutual information ``= H(p) - mean_m H(p_m)`` (binary entropies; for active learning)

Contract for distributed training (issue 9): ``train_member(data, config, index)`` and
``assemble_ensemble(member_states, config)``; *config* is JSON-serialisable (see :data:`DEFAULTS`).
Deterministic on CPU: the same inputs give identical weights.
"""
from __future__ import annotations

import copy
from typing import Sequence

import numpy as np
import torch

from ..device import resolve_device
from ..errors import GeoMLError
from ..progress import ProgressCallback, report
from ..threads import single_thread
from .vae import BatchedVAE, expected_sigmoid, expected_sigmoid_fast, split_state, stack_states

DEFAULTS = {
    "members": 10, "latent_dim": 4, "hidden": 32, "epochs": 100, "seed": 0, "lr": 5e-3, "batch_size": 64,
    "beta": 0.1, "recon_weight": 1.0, "class_weight": "auto", "feature_names": [], "mean": None, "std": None,
}


def member_seed(config: dict, index: int) -> int:
    """Seed of member *index*: ``1_000_003 * seed + 7_919 * (index + 1)``, fixed and documented."""
    return int(config["seed"]) * 1_000_003 + 7_919 * (int(index) + 1)


def prepare_config(data: dict[str, np.ndarray], config: dict) -> dict:
    """*config* completed with defaults, class weights and standardisation (means, sds over labelled +
    unlabelled rows) when not given; JSON-serialisable."""
    cfg = {**DEFAULTS, **copy.deepcopy(config)}
    X, y = np.asarray(data["X"], np.float64), np.asarray(data["y"])
    if cfg["mean"] is None or cfg["std"] is None:
        both = np.vstack([X, np.asarray(data.get("X_unlabelled", np.zeros((0, X.shape[1]))), np.float64)])
        sd = both.std(axis=0)
        cfg["mean"], cfg["std"] = both.mean(axis=0).tolist(), np.where(sd > 1e-12, sd, 1.0).tolist()
    if isinstance(cfg["class_weight"], str) or cfg["class_weight"] is None:
        from .weights import class_weights

        cfg["class_weight"] = list(class_weights(y, cfg["class_weight"]))
    cfg["n_features"] = int(X.shape[1])
    return cfg


def _scale(X: np.ndarray, cfg: dict) -> torch.Tensor:
    return torch.as_tensor((np.asarray(X, np.float64) - cfg["mean"]) / np.asarray(cfg["std"]), dtype=torch.float32)


def _train(data: dict, cfg: dict, indices: Sequence[int], progress: ProgressCallback | None = None,
           device: str | None = "cpu"):
    """Train members *indices* together on *device*; returns the batched model (on the CPU) and per-member
    final losses. Random draws come from CPU generators, so the samples are the same on any device."""
    from .networks import seeded

    dev = resolve_device(device)
    X = _scale(data["X"], cfg).to(dev)
    U = _scale(data.get("X_unlabelled", np.zeros((0, cfg["n_features"]))), cfg).to(dev)
    y = torch.as_tensor(np.asarray(data["y"]), dtype=torch.float32).to(dev)
    n, M, B = len(X), len(indices), int(cfg["batch_size"])
    if len(U) == 0:
        U = X  # without unlabelled cells the decoder regularises on the labelled rows only
    w0, w1 = cfg["class_weight"]
    with seeded(member_seed(cfg, indices[0])):  # one thread; no global RNG is drawn from below
        model = BatchedVAE(M, cfg["n_features"], int(cfg["latent_dim"]), int(cfg["hidden"]))
        gens = [torch.Generator().manual_seed(member_seed(cfg, i)) for i in indices]
        for m, i in enumerate(indices):
            model.init_member(m, member_seed(cfg, i))
        model.to(dev)
        boot = torch.stack([torch.randint(n, (n,), generator=g) for g in gens])  # (M, n) bootstrap rows
        opt = torch.optim.Adam(model.parameters(), lr=float(cfg["lr"]))
        losses = torch.zeros(M)
        for epoch in range(int(cfg["epochs"])):
            perm = torch.stack([torch.randperm(n, generator=g) for g in gens])
            for s in range(0, n, B):
                rows = torch.gather(boot, 1, perm[:, s:s + B])  # (M, b)
                b = rows.shape[1]
                urows = torch.stack([torch.randint(len(U), (b,), generator=g) for g in gens])
                eps = torch.stack([torch.randn(2 * b, model.latent_dim, generator=g) for g in gens]).to(dev)
                xb = torch.cat([X[rows], U[urows]], dim=1)  # (M, 2b, f)
                yb = y[rows]
                mu, lv = model.encode(xb)
                z = mu + torch.exp(0.5 * lv) * eps
                recon = ((model.decode(z) - xb) ** 2).mean(dim=(1, 2))
                kl = (-0.5 * (1 + lv - mu ** 2 - lv.exp()).sum(-1)).mean(-1)
                m_logit, m_lv = model.classify(z[:, :b])
                p, _ = expected_sigmoid(m_logit, m_lv)
                p = p.clamp(1e-6, 1 - 1e-6)
                w = torch.where(yb > 0.5, torch.tensor(w1, device=yb.device), torch.tensor(w0, device=yb.device))
                bce = -(w * (yb * p.log() + (1 - yb) * (1 - p).log())).sum(-1) / w.sum(-1)
                member_loss = bce + float(cfg["recon_weight"]) * (recon + float(cfg["beta"]) * kl)
                opt.zero_grad()
                member_loss.sum().backward()  # members' gradients do not mix
                opt.step()
                losses = member_loss.detach()
            report(progress, (epoch + 1) / int(cfg["epochs"]))
    model.to("cpu").eval()
    return model, losses.cpu()


def train_member(data: dict[str, np.ndarray], config: dict, index: int,
                 device: str | None = "cpu") -> tuple[dict[str, torch.Tensor], dict]:
    """Train ensemble member *index* alone, on its bootstrap resample, with its own seed.

    Parameters
    ----------
    data : ``{"X": (n, f) float32 labelled features, "y": (n,) 0/1, "X_unlabelled": (m, f) float32}``
    config : JSON-serialisable hyper-parameters (:data:`DEFAULTS`; give the same ``mean``/``std``
        and ``class_weight`` to every member, e.g. from :func:`prepare_config`, or let each compute
        the same from the same data)
    index : member number, 0-based
    device : ``cpu`` (default), ``auto`` or ``cuda`` (see :mod:`~geoml_qgis.core.device`)

    Returns ``(state_dict, metrics)``: the member's parameters (leading member axis of length 1) and
    ``{"index", "seed", "loss"}``. Same inputs give identical weights (CPU).
    """
    cfg = prepare_config(data, config)
    model, losses = _train(data, cfg, [int(index)], device=device)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return state, {"index": int(index), "seed": member_seed(cfg, index), "loss": float(losses[0])}


def assemble_ensemble(member_states: list[dict], config: dict) -> "VAEEnsemble":
    """The batched ensemble from independently trained members (in the given order).

    *config* must hold the standardisation and sizes the members were trained with
    (``prepare_config(data, config)``); the result predicts exactly like the members one by one.
    """
    if not member_states:
        raise GeoMLError("No ensemble member to assemble.")
    cfg = {**DEFAULTS, **copy.deepcopy(config), "members": len(member_states)}
    if cfg.get("mean") is None or "n_features" not in cfg:
        raise GeoMLError("The ensemble configuration lacks the feature standardisation (mean, std, n_features).")
    ens = VAEEnsemble(cfg)
    ens.model_ = BatchedVAE(len(member_states), cfg["n_features"], int(cfg["latent_dim"]), int(cfg["hidden"]))
    ens.model_.load_state_dict(stack_states(member_states))
    ens.model_.eval()
    ens.config_ = cfg
    return ens


class VAEEnsemble:
    """Batched VAE ensemble: ``fit(X, y, X_unlabelled)``, ``predict_proba``, ``predict_uncertainty``."""

    def __init__(self, config: dict | None = None):
        self.config = {**DEFAULTS, **(config or {})}

    def fit(self, X: np.ndarray, y: np.ndarray, X_unlabelled: np.ndarray | None = None,
            progress: ProgressCallback | None = None, device: str | None = "cpu") -> "VAEEnsemble":
        """Train all members together on ``X (n, f)``, ``y (n,)`` and unlabelled ``(m, f)`` rows."""
        data = {"X": X, "y": y, "X_unlabelled": X_unlabelled if X_unlabelled is not None else np.zeros((0, X.shape[1]))}
        self.config_ = prepare_config(data, self.config)
        self.model_, losses = _train(data, self.config_, list(range(int(self.config_["members"]))), progress, device)
        self.losses_ = losses.numpy()
        return self

    def _member_batches(self, X: np.ndarray, batch: int, device: str | None):
        """``(start, p_m, v_m)`` per batch of cells: member mean probabilities and variances, each
        ``(M, b)`` float32 tensors on *device*. Cells go through the members in cache-sized batches,
        in the prediction layout (:meth:`~.vae.BatchedVAE.predict_logit`); the quadrature is
        :func:`~.vae.expected_sigmoid_fast` (the training rule's values to float32 rounding)."""
        dev = resolve_device(device)
        if dev.type != "cpu":
            batch = max(batch, 1 << 18)  # a GPU wants large batches
        weights = tuple(w.to(dev) for w in self.model_.prediction_weights())
        mean = torch.as_tensor(np.asarray(self.config_["mean"]), dtype=torch.float32, device=dev)[:, None]
        std = torch.as_tensor(np.asarray(self.config_["std"]), dtype=torch.float32, device=dev)[:, None]
        xt = torch.from_numpy(np.asarray(X, np.float32).T)  # (f, n) view, no copy for feature-major rows
        with torch.inference_mode():
            for i in range(0, len(X), batch):
                x = xt[:, i:i + batch].to(dev).sub(mean).div_(std)
                yield (i, *expected_sigmoid_fast(*BatchedVAE.predict_logit(weights, x)))

    def member_outputs(self, X: np.ndarray, batch: int = 4096,
                       device: str | None = "cpu") -> tuple[np.ndarray, np.ndarray]:
        """Per-member mean probability and probability variance of ``X (n, f)``, each ``(M, n)`` float32."""
        M, n = self.model_.members, len(X)
        ps, vs = np.empty((M, n), np.float32), np.empty((M, n), np.float32)
        with single_thread(blas=False):
            for i, p, v in self._member_batches(X, batch, device):
                ps[:, i:i + p.shape[1]], vs[:, i:i + p.shape[1]] = p.cpu().numpy(), v.cpu().numpy()
        return ps, vs

    def predict_uncertainty(self, X: np.ndarray, device: str | None = "cpu", mutual_information: bool = True,
                            batch: int = 4096) -> dict[str, np.ndarray]:
        """``probability``, ``aleatoric``, ``epistemic``, ``total`` (and ``mutual_information``), each
        ``(n,)`` float32, for ``X (n, f)`` (a transposed ``(f, n)`` array is read without a copy).

        The members' moments are reduced batch by batch in float32 (no ``(M, n)`` array is kept);
        mutual information, a difference of entropies, is computed in float64 when asked for.
        """
        n = len(X)
        keys = ("probability", "aleatoric", "epistemic", "total") + (("mutual_information",) if mutual_information else ())
        out = {k: np.empty(n, np.float32) for k in keys}
        with single_thread(blas=False):  # small kernels: threads would only wait for each other
            for i, p_m, v_m in self._member_batches(X, batch, device):
                p = p_m.mean(0)
                alea2, epi2 = v_m.mean(0), (p_m - p).square_().mean(0)
                part = {"probability": p, "aleatoric": alea2.sqrt(), "epistemic": epi2.sqrt(),
                        "total": (alea2 + epi2).sqrt_()}
                if mutual_information:
                    pd = p_m.double()
                    part["mutual_information"] = (_entropy(pd.mean(0)) - _entropy(pd).mean(0)).clamp_(min=0)
                for k in keys:
                    out[k][i:i + len(p)] = part[k].cpu().numpy()
        return out

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.predict_uncertainty(X, mutual_information=False)["probability"]

    def members(self) -> list[dict]:
        """One-member state dicts (for inspection or redistribution)."""
        sd = self.model_.state_dict()
        return [split_state(sd, m) for m in range(self.model_.members)]

    def state(self) -> dict[str, torch.Tensor]:
        return {f"vae.{k}": v for k, v in self.model_.state_dict().items()}

    def load_state(self, state: dict, config: dict) -> "VAEEnsemble":
        members = state["vae.enc1.weight"].shape[0]
        sd = {k[4:]: v for k, v in state.items() if k.startswith("vae.")}
        return assemble_ensemble([split_state(sd, m) for m in range(members)], config)


def _entropy(p: torch.Tensor) -> torch.Tensor:
    q = p.clamp(1e-12, 1 - 1e-12)
    return -(q * q.log() + (1 - q) * (-q).log1p())
