"""HybridPredictor: scikit-learn-style estimator (fit / predict / save / load) around :class:`HybridNet`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import torch

from ..device import on_device, resolve_device
from ..errors import GeoMLError
from ..geostats.models import VariogramModel
from ..modelio import load_model, save_model
from ..progress import ProgressCallback, report
from ..threads import single_thread
from .features import FeatureBuilder, Features
from .network import EnsembleNet, HybridNet

KIND = "hybrid.conv1d_bilstm"
#: mini-batch size; the small sample sets of geochemistry train full-batch
BATCH = 256
SHRINK = (0.0, 0.25, 0.5, 0.75, 1.0)


def forward_transform(values: np.ndarray, transform: str) -> np.ndarray:
    """Values in modelled units: as given (``none``) or natural logarithms (``log``, positive values only)."""
    values = np.asarray(values, float)
    if transform == "log":
        if np.any(values <= 0):
            raise GeoMLError("TRANSFORM=log needs positive values; some values are zero or negative.")
        return np.log(values)
    return values


@dataclass
class TrainingLog:
    """Per ensemble member: training and validation loss per epoch, best epoch, shrink factor."""

    train: list = field(default_factory=list)
    val: list = field(default_factory=list)
    best_epoch: list = field(default_factory=list)
    shrink: list = field(default_factory=list)


class HybridPredictor:
    """Kriging features + Conv1D + BiLSTM, an ensemble of a few seeds.

    Parameters
    ----------
    model : VariogramModel
        Variogram used for the kriging features.
    neighbours : int
        Length of the neighbour sequence (k).
    transform : "none" or "log"
        Values are modelled as given or as natural logarithms (must then be positive);
        predictions are returned in the original units.
    epochs, ensemble, seed, loss ("mse" or "huber"), lr, patience, val_fraction

    Each member trains on a random (1 - val_fraction) of the training samples and stops early on
    the rest; the correction it adds to kriging is then scaled by the factor in (0, .25, .5, .75, 1)
    that is best on that validation part, so a member that cannot beat kriging falls back to it.
    """

    def __init__(self, model: VariogramModel, neighbours: int = 16, transform: str = "none", epochs: int = 300,
                 ensemble: int = 3, seed: int = 0, loss: str = "mse", lr: float = 3e-3, patience: int = 40,
                 val_fraction: float = 0.2):
        if transform not in ("none", "log"):
            raise GeoMLError("TRANSFORM must be none or log.")
        if loss not in ("mse", "huber"):
            raise GeoMLError("The loss must be mse or huber.")
        self.model, self.neighbours, self.transform = model, int(neighbours), transform
        self.epochs, self.ensemble, self.seed, self.loss = int(epochs), int(ensemble), int(seed), loss
        self.lr, self.patience, self.val_fraction = lr, int(patience), val_fraction

    def _forward_t(self, values: np.ndarray) -> np.ndarray:
        return forward_transform(values, self.transform)

    def _back_t(self, values: np.ndarray) -> np.ndarray:
        return np.exp(values) if self.transform == "log" else values

    # fitting ------------------------------------------------------------------------------
    def fit(self, coords: np.ndarray, values: np.ndarray, covariates: np.ndarray | None = None,
            progress: ProgressCallback | None = None, device: str | None = "cpu") -> "HybridPredictor":
        """Train on samples ``coords (n, d)``, ``values (n,)`` and covariates ``(n, p)`` at them.

        The variogram model is in transformed units (log values with TRANSFORM=log). *device*:
        ``cpu``, ``auto`` or ``cuda`` (:mod:`~geoml_qgis.core.device`); networks are kept on the CPU.
        """
        dev = resolve_device(device)
        z = self._forward_t(values)
        cov = None if covariates is None else np.asarray(covariates, float)
        cov_mean = None if cov is None else cov.mean(axis=0)
        cov_std = None if cov is None else np.where(cov.std(axis=0) > 0, cov.std(axis=0), 1.0)
        self.builder_ = FeatureBuilder(coords, z, self.model, self.neighbours, z.mean(), z.std() or 1.0,
                                       cov_mean, cov_std)
        feats = self.builder_.training(cov)
        y = ((z - self.builder_.mean) / self.builder_.std).astype(np.float32)
        self.nets_, self.shrink_, self.log_ = [], [], TrainingLog()
        report(progress, 0.0)
        with single_thread(blas=False):
            for m in range(self.ensemble):
                net, shrink = self._train_member(feats, y, self.seed + m, progress, m, dev)
                self.nets_.append(net)
                self.shrink_.append(shrink)
        return self

    def _train_member(self, feats: Features, y: np.ndarray, seed: int, progress, member: int, dev):
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        n = len(y)
        perm = rng.permutation(n)
        n_val = max(1, int(round(self.val_fraction * n)))
        val, train = perm[:n_val], perm[n_val:]
        seq, tgt, yt = (torch.from_numpy(a).to(dev) for a in (feats.seq, feats.target, y))
        net = HybridNet(seq.shape[2], tgt.shape[1]).to(dev)
        opt = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=1e-4)
        lossf = torch.nn.MSELoss() if self.loss == "mse" else torch.nn.HuberLoss(delta=1.0)
        best, best_state, best_epoch, waited = np.inf, None, 0, 0
        tr_curve, va_curve = [], []
        batch = BATCH
        for epoch in range(self.epochs):
            net.train()
            order = train[rng.permutation(len(train))]
            total = 0.0
            for s in range(0, len(order), batch):
                b = torch.from_numpy(order[s:s + batch])
                opt.zero_grad()
                loss = lossf(net(seq[b], tgt[b]), yt[b])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(b)
            net.eval()
            with torch.no_grad():
                vloss = float(lossf(net(seq[val], tgt[val]), yt[val]))
            tr_curve.append(total / len(order))
            va_curve.append(vloss)
            if vloss < best - 1e-6:
                best, best_epoch, waited = vloss, epoch, 0
                best_state = {k: v.clone() for k, v in net.state_dict().items()}
            else:
                waited += 1
                if waited >= self.patience:
                    break
            report(progress, (member + (epoch + 1) / self.epochs) / self.ensemble)
        net.load_state_dict(best_state)
        net.eval()
        with torch.no_grad():
            corr = net.correction(seq[val], tgt[val]).cpu().numpy()
        net.to("cpu")
        base = feats.target[val, 0]
        errs = [np.mean((base + s * corr - y[val]) ** 2) for s in SHRINK]
        shrink = SHRINK[int(np.argmin(errs))]
        self.log_.train.append(tr_curve)
        self.log_.val.append(va_curve)
        self.log_.best_epoch.append(best_epoch)
        self.log_.shrink.append(shrink)
        return net, shrink

    # prediction ---------------------------------------------------------------------------
    def predict_features(self, feats: Features, batch: int = 1024, original_units: bool = True,
                         device: str | None = "cpu"):
        """Ensemble mean and spread (standard deviation over members), ``(m,)`` each.

        In original units by default; ``original_units=False`` keeps the modelled (e.g. log) units.
        All members run in one forward pass per batch (:class:`.network.EnsembleNet`); cells go through
        it in cache-sized batches (on one core 512 to 1,024 ran fastest, 256 and 2,048 5-15 % slower).
        A member with shrink factor 0 is kriging itself (its correction is scaled to exactly 0) and does
        not run.
        """
        base = feats.target[:, 0]
        corr = np.zeros((len(self.nets_), len(base)), np.float32)
        active = [i for i, s in enumerate(self.shrink_) if s != 0]
        dev = resolve_device(device)
        if dev.type != "cpu":
            batch = max(batch, 1 << 16)  # a GPU wants large batches
        if active:
            ens = on_device(self._ensemble(), dev)
            seq_all, tgt_all = torch.from_numpy(feats.seq), torch.from_numpy(feats.target)
            with torch.inference_mode(), single_thread(blas=False):
                for a in range(0, len(base), batch):
                    out = ens(seq_all[a:a + batch].to(dev), tgt_all[a:a + batch].to(dev))
                    corr[active, a:a + batch] = out.cpu().numpy()
        members = (base + corr).astype(np.float64) * self.builder_.std + self.builder_.mean
        if original_units:
            members = self._back_t(members)
        out_mean = members.mean(axis=0)
        bad = ~np.isfinite(feats.kriging)
        out_mean[bad] = np.nan
        spread = members.std(axis=0)
        spread[bad] = np.nan
        return out_mean, spread

    def _ensemble(self) -> EnsembleNet:
        """The members with a non-zero shrink factor fused for prediction, made once per set of trained
        networks."""
        cached = getattr(self, "_ensemble_cache", None)  # (networks, shrink factors, fused); holds the networks
        if (cached is None or len(cached[0]) != len(self.nets_) or cached[1] != list(self.shrink_)
                or any(a is not b for a, b in zip(cached[0], self.nets_))):
            active = [(n, s) for n, s in zip(self.nets_, self.shrink_) if s != 0]
            fused = EnsembleNet([n for n, _ in active], [s for _, s in active]).eval()
            cached = (list(self.nets_), list(self.shrink_), fused)
            self._ensemble_cache = cached
        return cached[2]

    def predict(self, coords: np.ndarray, covariates: np.ndarray | None = None,
                device: str | None = "cpu", workers: int = -1) -> tuple[np.ndarray, np.ndarray]:
        """Prediction and ensemble spread at ``coords (m, d)`` (covariates ``(m, p)`` there).

        *workers*: threads of the neighbour searches (-1: every core; 1 inside parallel block workers).
        """
        return self.predict_features(self.builder_.targets(coords, covariates, workers), device=device)

    def recondition(self, coords: np.ndarray, values: np.ndarray) -> "HybridPredictor":
        """Condition predictions on other samples (e.g. with new assays); the network is unchanged."""
        b = self.builder_
        self.builder_ = FeatureBuilder(coords, self._forward_t(values), self.model, self.neighbours, b.mean, b.std,
                                       b.cov_mean, b.cov_std)
        return self

    # persistence ---------------------------------------------------------------------------
    def save(self, path: str | os.PathLike, extra_meta: dict | None = None) -> str:
        b = self.builder_
        state = {f"member{i}.{k}": v for i, net in enumerate(self.nets_) for k, v in net.state_dict().items()}
        state["train_coords"] = b.coords
        state["train_values"] = b.values
        meta = {
            "variogram": self.model.to_dict(), "neighbours": self.neighbours, "transform": self.transform,
            "ensemble": len(self.nets_), "shrink": self.shrink_, "mean": b.mean, "std": b.std,
            "cov_mean": None if b.cov_mean is None else b.cov_mean.tolist(),
            "cov_std": None if b.cov_std is None else b.cov_std.tolist(),
            "c_seq": int(self.nets_[0].conv[0].in_channels), "c_target": int(self.nets_[0].head[0].in_features
                                                                             - 2 * self.nets_[0].hidden),
            **(extra_meta or {}),
        }
        return save_model(path, KIND, state, meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> tuple["HybridPredictor", dict]:
        """The predictor (conditioned on its stored training samples) and its metadata."""
        state, meta = load_model(path, KIND)
        self = cls(VariogramModel.from_dict(meta["variogram"]), meta["neighbours"], meta["transform"],
                   ensemble=meta["ensemble"])
        cm = None if meta["cov_mean"] is None else np.asarray(meta["cov_mean"])
        cs = None if meta["cov_std"] is None else np.asarray(meta["cov_std"])
        self.builder_ = FeatureBuilder(state["train_coords"].numpy(), state["train_values"].numpy(), self.model,
                                       self.neighbours, meta["mean"], meta["std"], cm, cs)
        self.nets_, self.shrink_ = [], list(meta["shrink"])
        for i in range(meta["ensemble"]):
            net = HybridNet(meta["c_seq"], meta["c_target"])
            prefix = f"member{i}."
            net.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
            net.eval()
            self.nets_.append(net)
        return self, meta
