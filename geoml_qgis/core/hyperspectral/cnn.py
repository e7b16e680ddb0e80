"""A DeepGeoMap-style 1D convolutional network for per-pixel spectra, designed for CPU speed.

Pixel spectra are first resampled (Gaussian spectral responses) onto the model's
own evenly spaced grid of at most ``max_bands`` bands, then preprocessed, then
classified by stacked Conv1D blocks (convolution, batch norm, ReLU) whose stride
of 2 does the pooling, a dense layer and a softmax; training uses categorical
cross-entropy with Adam and class-balanced sampling, as in DeepGeoMap.

Speed: torch's ``Conv1d`` is slow on CPU for few channels; the same 1D
convolution written as a ``Conv2d`` with a ``1 x k`` kernel runs about ten
times faster, and stride-2 convolutions avoid computing full-resolution maps
only to pool them. Inference folds batch norm into the convolutions, keeps the
weights channels-last, runs a frozen TorchScript trace on the CPU (convolution and
ReLU fused by oneDNN) in float32 under ``torch.inference_mode``, in batches of about
a thousand spectra (their activations stay in the cache).
"""
from __future__ import annotations

import copy
import os
import warnings
from typing import Callable, Sequence

import numpy as np

from ..deps import require
from ..device import on_device, resolve_device
from ..errors import GeoMLError
from ..progress import ProgressCallback, report
from ..threads import single_thread
from .preprocess import output_bands, preprocess
from .resample import even_grid, srf_matrix

torch = require("torch", "the hyperspectral CNN")
nn = torch.nn

KIND = "hyperspectral.cnn"


#: torch releases whose frozen, inference-optimised trace is used on the CPU (see :meth:`SpectralCNN.predictor`)
_TRACE_SAFE = tuple(int(v) for v in torch.__version__.split("+")[0].split(".")[:2]) >= (2, 7)


class SpectralNet(nn.Module):
    """Conv1D blocks then dense layers; input ``(N, n_in)``, output logits ``(N, n_classes)``."""

    def __init__(self, n_in: int, n_classes: int, channels: Sequence[int] = (8, 16, 32),
                 kernels: Sequence[int] = (5, 5, 3), hidden: int = 64, dropout: float = 0.2):
        super().__init__()
        layers, c_in, length = [], 1, n_in
        for c, k in zip(channels, kernels):
            layers += [nn.Conv2d(c_in, c, (1, k), stride=(1, 2), padding=(0, k // 2), bias=False),
                       nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            c_in, length = c, (length + 2 * (k // 2) - k) // 2 + 1
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c_in * length, hidden), nn.ReLU(inplace=True),
                                  nn.Dropout(dropout), nn.Linear(hidden, n_classes))
        self.register_buffer("mean", torch.zeros(n_in))
        self.register_buffer("scale", torch.ones(n_in))

    def forward(self, x):
        x = ((x - self.mean) * self.scale).reshape(x.shape[0], 1, 1, -1)
        return self.head(self.features(x))


def fused(net: SpectralNet) -> SpectralNet:
    """An inference copy with each batch norm folded into its convolution (same outputs, fewer passes)."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    out = copy.deepcopy(net).eval()
    layers = list(out.features)
    merged = []
    i = 0
    while i < len(layers):
        if isinstance(layers[i], nn.Conv2d) and i + 1 < len(layers) and isinstance(layers[i + 1], nn.BatchNorm2d):
            merged.append(fuse_conv_bn_eval(layers[i], layers[i + 1]))
            i += 2
        else:
            merged.append(layers[i])
            i += 1
    out.features = nn.Sequential(*merged)
    return out


class SpectralCNN:
    """Classifier of spectra with fit / predict_proba / save / load.

    Parameters
    ----------
    preprocessing : str
        ``brightness``, ``continuum``, ``derivative`` or ``none``.
    max_bands : int
        Size of the model's internal band grid (spectra are resampled onto it).
    epochs, batch_size, lr, seed : training settings.
    """

    def __init__(self, preprocessing: str = "brightness", max_bands: int = 64, epochs: int = 40,
                 batch_size: int = 256, lr: float = 2e-3, seed: int = 0):
        self.preprocessing = preprocessing
        self.max_bands = int(max_bands)
        self.epochs = int(epochs)
        self.batch_size = int(batch_size)
        self.lr = float(lr)
        self.seed = int(seed)
        self._cache: dict = {}

    # training ------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, wavelengths: np.ndarray, fwhm: np.ndarray, classes: Sequence[str],
            X_val: np.ndarray | None = None, y_val: np.ndarray | None = None,
            progress: ProgressCallback | None = None, device: str | None = "cpu") -> "SpectralCNN":
        """Train on spectra ``X (n, b)`` at band centres/widths ``wavelengths, fwhm (b,)`` (nm), labels ``y (n,)``.

        ``X_val, y_val`` (same bands) give the validation curve. ``history_`` holds
        per-epoch ``train_loss, train_acc, val_loss, val_acc``. *device*: ``cpu``, ``auto`` or
        ``cuda`` (:mod:`~geoml_qgis.core.device`); the trained network is kept on the CPU.
        """
        self.classes_ = [str(c) for c in classes]
        if len(self.classes_) < 2:
            raise GeoMLError("A classifier needs at least two classes.")
        self.sensor_wavelengths_ = np.asarray(wavelengths, float)
        self.sensor_fwhm_ = np.asarray(fwhm, float)
        spacing = float(np.median(np.diff(self.sensor_wavelengths_))) if len(wavelengths) > 1 else 10.0
        self.grid_, self.grid_fwhm_ = even_grid(self.sensor_wavelengths_[0], self.sensor_wavelengths_[-1],
                                                self.max_bands, spacing)
        torch.manual_seed(self.seed)
        gen = torch.Generator().manual_seed(self.seed)
        Z = self._features(np.asarray(X, np.float32), self.sensor_wavelengths_, self.sensor_fwhm_)
        yt = torch.as_tensor(np.asarray(y, np.int64))
        self.net_ = SpectralNet(Z.shape[1], len(self.classes_))
        zt = torch.from_numpy(Z)
        self.net_.mean.copy_(zt.mean(0))
        self.net_.scale.copy_(1.0 / zt.std(0).clamp_min(1e-6))
        counts = torch.bincount(yt, minlength=len(self.classes_)).float()
        weights = (1.0 / counts.clamp_min(1))[yt]  # class-balanced sampling
        val = None
        if X_val is not None:
            val = (torch.from_numpy(self._features(np.asarray(X_val, np.float32), self.sensor_wavelengths_,
                                                   self.sensor_fwhm_)), torch.as_tensor(np.asarray(y_val, np.int64)))
        dev = resolve_device(device)
        if val is not None:
            val = (val[0].to(dev), val[1].to(dev))
        self.net_.to(dev)
        try:
            with single_thread(blas=False):
                self._train(zt.to(dev), yt.to(dev), weights, val, gen, progress)
        finally:
            self.net_.to("cpu")
        self.net_.eval()
        self._cache.clear()
        return self

    def _train(self, zt, yt, weights, val, gen, progress) -> None:
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(self.epochs, 1))
        loss_fn = nn.CrossEntropyLoss()
        self.history_ = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
        n = len(yt)
        for epoch in range(self.epochs):
            self.net_.train()
            idx = torch.multinomial(weights, n, replacement=True, generator=gen)
            tot_loss, correct = 0.0, 0
            for start in range(0, n, self.batch_size):
                b = idx[start:start + self.batch_size]
                if len(b) < 2:
                    continue
                logits = self.net_(zt[b])
                loss = loss_fn(logits, yt[b])
                opt.zero_grad()
                loss.backward()
                opt.step()
                tot_loss += float(loss.detach()) * len(b)
                correct += int((logits.argmax(1) == yt[b]).sum())
            sched.step()
            self.history_["train_loss"].append(tot_loss / n)
            self.history_["train_acc"].append(correct / n)
            if val is not None:
                vl, va = self._evaluate(*val, loss_fn)
                self.history_["val_loss"].append(vl)
                self.history_["val_acc"].append(va)
            report(progress, (epoch + 1) / max(self.epochs, 1))

    def _evaluate(self, z, y, loss_fn) -> tuple[float, float]:
        self.net_.eval()
        with torch.inference_mode():
            logits = self.net_(z)
            return float(loss_fn(logits, y)), float((logits.argmax(1) == y).float().mean())

    # inference -----------------------------------------------------------------
    def resampling_matrix(self, wavelengths: np.ndarray, fwhm: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Weights ``(b, n_grid)`` float32 from bands at *wavelengths* to the model grid, and which grid bands are covered.

        A grid band that the bands do not cover (a gap, or beyond their range) copies the
        weights of the nearest covered grid band.
        """
        key = (tuple(np.round(wavelengths, 4)), None if fwhm is None else tuple(np.round(fwhm, 4)))
        if key not in self._cache:
            w, covered = srf_matrix(wavelengths, self.grid_, self.grid_fwhm_, fwhm)
            if covered.any():  # grid bands in gaps or just beyond the range take the nearest covered band
                idx = np.flatnonzero(covered)
                for j in np.flatnonzero(~covered):
                    w[:, j] = w[:, idx[np.argmin(np.abs(idx - j))]]
            self._cache[key] = (w.astype(np.float32), covered)
        return self._cache[key]

    def _features(self, X: np.ndarray, wavelengths: np.ndarray, fwhm: np.ndarray | None) -> np.ndarray:
        w, _ = self.resampling_matrix(wavelengths, fwhm)
        return preprocess(X @ w, self.grid_, self.preprocessing)

    def inference_net(self) -> SpectralNet:
        """The network with batch norm folded in and channels-last weights (oneDNN's fast layout), eval mode."""
        if "_fused" not in self._cache:
            self._cache["_fused"] = fused(self.net_).to(memory_format=torch.channels_last)
        return self._cache["_fused"]

    def predictor(self, device) -> Callable[[torch.Tensor], torch.Tensor]:
        """Logits of ``(N, n_in)`` features on *device* (a ``torch.device``), for inference only.

        On the CPU: :meth:`inference_net` traced, frozen and optimised for inference (oneDNN
        convolutions with the ReLU fused), the same outputs about 1.5x faster, with torch 2.7 or later
        (tested with 2.13; with Debian 13's torch 2.6 the optimised module never returned from its second
        call); the eager network with older torch or where tracing is not available. Elsewhere:
        :meth:`inference_net` moved to *device*.
        """
        if device.type != "cpu":
            return on_device(self.inference_net(), device)
        if "_traced" not in self._cache and not _TRACE_SAFE:
            self._cache["_traced"] = self.inference_net()
        if "_traced" not in self._cache:
            net = self.inference_net()
            try:
                with torch.no_grad(), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    example = torch.zeros(64, int(net.mean.numel()))
                    traced = torch.jit.trace(net, example, check_trace=False)
                    self._cache["_traced"] = torch.jit.optimize_for_inference(torch.jit.freeze(traced))
            except Exception:  # noqa: BLE001 - a torch without TorchScript: the eager network, same values
                self._cache["_traced"] = net
        return self._cache["_traced"]

    def predict_proba(self, X: np.ndarray, wavelengths: np.ndarray | None = None, fwhm: np.ndarray | None = None,
                      batch: int = 1024, device: str | None = "cpu") -> np.ndarray:
        """Class probabilities ``(n, n_classes)`` float32 of spectra ``X (n, b)`` at *wavelengths* (default: the training bands)."""
        wl = self.sensor_wavelengths_ if wavelengths is None else wavelengths
        fw = self.sensor_fwhm_ if wavelengths is None else fwhm
        Z = self._features(np.asarray(X, np.float32), wl, fw)
        dev = resolve_device(device)
        net = self.predictor(dev)
        out = np.empty((len(Z), len(self.classes_)), np.float32)
        with torch.inference_mode():
            for s in range(0, len(Z), batch):
                out[s:s + batch] = torch.softmax(net(torch.from_numpy(Z[s:s + batch]).to(dev)), 1).cpu().numpy()
        return out

    def predict(self, X: np.ndarray, wavelengths: np.ndarray | None = None, fwhm: np.ndarray | None = None) -> np.ndarray:
        """Class index (0-based) ``(n,)``."""
        return self.predict_proba(X, wavelengths, fwhm).argmax(1)

    # persistence ---------------------------------------------------------------
    def save(self, path: str | os.PathLike, extra: dict | None = None) -> str:
        """Write the model (state dict + JSON metadata); returns its SHA-256."""
        from ..modelio import save_model

        meta = {
            "classes": self.classes_, "preprocessing": self.preprocessing, "max_bands": self.max_bands,
            "epochs": self.epochs, "seed": self.seed, "n_in": int(self.net_.mean.numel()),
            "sensor_wavelengths": self.sensor_wavelengths_.tolist(), "sensor_fwhm": self.sensor_fwhm_.tolist(),
            "grid": self.grid_.tolist(), "grid_fwhm": self.grid_fwhm_.tolist(), "history": self.history_,
            **(extra or {}),
        }
        return save_model(path, KIND, self.net_.state_dict(), meta)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "SpectralCNN":
        from ..modelio import load_model

        state, meta = load_model(path, KIND)
        model = cls(meta["preprocessing"], meta["max_bands"], meta["epochs"], seed=meta["seed"])
        model.classes_ = list(meta["classes"])
        model.sensor_wavelengths_ = np.asarray(meta["sensor_wavelengths"], float)
        model.sensor_fwhm_ = np.asarray(meta["sensor_fwhm"], float)
        model.grid_ = np.asarray(meta["grid"], float)
        model.grid_fwhm_ = np.asarray(meta["grid_fwhm"], float)
        model.history_ = meta.get("history", {})
        model.meta_ = meta
        n_in = output_bands(len(model.grid_), model.preprocessing)
        model.net_ = SpectralNet(n_in, len(model.classes_))
        try:
            model.net_.load_state_dict(state)
        except RuntimeError as exc:
            raise GeoMLError(f"The model file does not match this version's network: {exc}") from exc
        model.net_.eval()
        return model
