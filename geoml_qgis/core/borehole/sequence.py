"""Downhole sequence model (torch): a recurrent network labelling each sample along its hole.

Samples of each hole, ordered by depth, form a sequence; each step carries the sample's
features plus its along-hole distance to the previous sample (0 for the first). Training
uses overlapping windows of ``seq_len`` steps; a bidirectional SimpleRNN, GRU or LSTM reads
each window and a linear layer predicts every step's class. Prediction averages the class
probabilities of all windows covering a sample. Training and validation are split **by hole**.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from torch import nn

from ..errors import GeoMLError
from ..modelio import load_model, save_model
from ..progress import ProgressCallback, report
from .transforms import Standardizer

CELLS = ("rnn", "gru", "lstm")
KIND = "borehole.sequence"


class _Net(nn.Module):
    def __init__(self, n_in: int, n_classes: int, cell: str, hidden: int):
        super().__init__()
        rnn = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = rnn(n_in, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (b, L, n_in) -> (b, L, n_classes)
        return self.head(self.rnn(x)[0])


def split_holes(holes: np.ndarray, validation_fraction: float = 0.25, seed: int = 0) -> tuple[list[str], list[str]]:
    """Hole names for training and validation; no hole is on both sides."""
    names = sorted(set(map(str, holes)))
    if len(names) < 2:
        raise GeoMLError("The sequence model is validated on held-out holes: at least two holes are needed.")
    rng = np.random.default_rng(seed)
    shuffled = list(rng.permutation(names))
    n_val = min(max(1, int(round(validation_fraction * len(names)))), len(names) - 1)
    return sorted(shuffled[n_val:]), sorted(shuffled[:n_val])


def _orders(holes: np.ndarray, depth: np.ndarray) -> list[np.ndarray]:
    """Row indices of each hole, ordered down the hole."""
    out = []
    for h in dict.fromkeys(holes):
        idx = np.flatnonzero(holes == h)
        out.append(idx[np.argsort(depth[idx], kind="stable")])
    return out


def _starts(n: int, length: int, stride: int) -> list[int]:
    if n <= length:
        return [0]
    starts = list(range(0, n - length + 1, stride))
    return starts if starts[-1] == n - length else starts + [n - length]


class SequenceModel:
    """Recurrent classifier of downhole sample sequences (scikit-learn-like).

    Parameters
    ----------
    cell : ``rnn`` (Elman SimpleRNN), ``gru`` or ``lstm``
    seq_len : steps per training window
    hidden : hidden units per direction
    epochs, lr, batch_size, seed : training settings
    """

    def __init__(self, cell: str = "gru", seq_len: int = 32, hidden: int = 32, epochs: int = 30,
                 lr: float = 5e-3, batch_size: int = 64, seed: int = 0):
        if cell not in CELLS:
            raise GeoMLError(f"Unknown recurrent cell '{cell}'; choose one of {', '.join(CELLS)}.")
        if seq_len < 2:
            raise GeoMLError("The sequence length must be at least 2 samples.")
        if epochs < 1:
            raise GeoMLError("Train for at least one epoch.")
        self.cell, self.seq_len, self.hidden, self.epochs = cell, int(seq_len), int(hidden), int(epochs)
        self.lr, self.batch_size, self.seed = float(lr), int(batch_size), int(seed)

    # ---- features --------------------------------------------------------------------------------
    @staticmethod
    def _steps(X: np.ndarray, holes: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """(n, m + 1) step features: the features and the along-hole distance to the previous sample."""
        gap = np.zeros(len(X))
        for idx in _orders(holes, depth):
            gap[idx[1:]] = np.diff(depth[idx])
        return np.column_stack([np.asarray(X, float), gap])

    def _windows(self, steps: np.ndarray, orders: list[np.ndarray], stride: int):
        """Tensors x (w, L, f), row index (w, L) with -1 for padding."""
        L = self.seq_len
        rows = []
        for idx in orders:
            for s in _starts(len(idx), L, stride):
                w = idx[s:s + L]
                rows.append(np.concatenate([w, np.full(L - len(w), -1)]))
        rows = np.array(rows, int)
        x = np.where(rows[..., None] >= 0, steps[np.maximum(rows, 0)], 0.0)
        return torch.as_tensor(x, dtype=torch.float32), rows

    # ---- training --------------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y: np.ndarray, holes: np.ndarray, depth: np.ndarray,
            validation_fraction: float = 0.25, progress: ProgressCallback | None = None) -> "SequenceModel":
        """Train on features X (n, m) and labels y (n,) of samples in *holes* at along-hole *depth*."""
        X, y, holes, depth = np.asarray(X, float), np.asarray(y), np.asarray(holes).astype(str), np.asarray(depth, float)
        if len(X) != len(y) or len(X) != len(holes) or len(X) != len(depth):
            raise GeoMLError("Features, labels, holes and depths must have one value per sample.")
        if not np.isfinite(X).all():
            raise GeoMLError("Some sample features are missing or not finite.")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise GeoMLError("All samples have the same label: there is nothing to learn.")
        self.train_holes_, self.validation_holes_ = split_holes(holes, validation_fraction, self.seed)
        is_train = np.isin(holes, self.train_holes_)
        target = np.searchsorted(self.classes_, y)
        steps = self._steps(X, holes, depth)
        self.scaler_ = Standardizer().fit(steps[is_train])
        steps = self.scaler_.transform(steps)
        torch.manual_seed(self.seed)
        self.net_ = _Net(steps.shape[1], len(self.classes_), self.cell, self.hidden)
        opt = torch.optim.Adam(self.net_.parameters(), lr=self.lr)
        train_orders = [idx for idx in _orders(holes, depth) if is_train[idx[0]]]
        xw, rows = self._windows(steps, train_orders, max(1, self.seq_len // 2))
        yw = torch.as_tensor(np.where(rows >= 0, target[np.maximum(rows, 0)], -100))
        loss_fn = nn.CrossEntropyLoss(ignore_index=-100)
        gen = torch.Generator().manual_seed(self.seed)
        history = []
        val = ~is_train
        for epoch in range(1, self.epochs + 1):
            self.net_.train()
            perm = torch.randperm(len(xw), generator=gen)
            loss_sum, right, seen = 0.0, 0, 0
            for b in range(0, len(xw), self.batch_size):
                sel = perm[b:b + self.batch_size]
                opt.zero_grad()
                out = self.net_(xw[sel]).reshape(-1, len(self.classes_))
                y_b = yw[sel].reshape(-1)
                loss = loss_fn(out, y_b)
                loss.backward()
                opt.step()
                ok = y_b != -100
                loss_sum += loss.item() * int(ok.sum())
                right += int((out.detach().argmax(1)[ok] == y_b[ok]).sum())
                seen += int(ok.sum())
            # training scores as seen during the epoch (over the training windows), validation on whole holes
            proba = self._proba_scaled(steps[val], holes[val], depth[val])
            history.append({"epoch": epoch, "train_loss": loss_sum / seen, "train_accuracy": right / seen,
                            **self._scores(proba, target[val], "validation")})
            report(progress, epoch / self.epochs)
        self.history_ = pd.DataFrame(history)
        self.n_features_ = X.shape[1]
        return self

    @staticmethod
    def _scores(proba: np.ndarray, target: np.ndarray, name: str) -> dict:
        p = np.clip(proba[np.arange(len(target)), target], 1e-12, 1.0)
        return {f"{name}_loss": float(-np.log(p).mean()), f"{name}_accuracy": float((proba.argmax(1) == target).mean())}

    # ---- prediction ------------------------------------------------------------------------------
    def _proba_scaled(self, steps: np.ndarray, holes: np.ndarray, depth: np.ndarray) -> np.ndarray:
        self.net_.eval()
        xw, rows = self._windows(steps, _orders(holes, depth), max(1, self.seq_len // 2))
        total = np.zeros((len(steps), len(self.classes_)))
        count = np.zeros(len(steps))
        with torch.no_grad():
            for b in range(0, len(xw), 512):
                p = torch.softmax(self.net_(xw[b:b + 512]), dim=-1).numpy()
                r = rows[b:b + 512]
                ok = r >= 0
                np.add.at(total, r[ok], p[ok])
                np.add.at(count, r[ok], 1)
        return total / np.maximum(count, 1)[:, None]

    def predict_proba(self, X: np.ndarray, holes: np.ndarray, depth: np.ndarray) -> np.ndarray:
        """Class probabilities (n, n_classes), columns in ``classes_`` order."""
        X = np.asarray(X, float)
        if X.shape[1] != self.n_features_:
            raise GeoMLError(f"The model was trained on {self.n_features_} features; got {X.shape[1]}.")
        holes, depth = np.asarray(holes).astype(str), np.asarray(depth, float)
        steps = self._steps(X, holes, depth)
        return self._proba_scaled(self.scaler_.transform(steps), holes, depth)

    def predict(self, X: np.ndarray, holes: np.ndarray, depth: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(X, holes, depth).argmax(axis=1)]

    def evaluate(self, X, y, holes, depth) -> dict:
        """Accuracy, confusion matrix and per-class precision/recall on the validation holes."""
        holes = np.asarray(holes).astype(str)
        sel = np.isin(holes, self.validation_holes_)
        pred = self.predict(X, holes, depth)[sel]
        true = np.asarray(y)[sel]
        p, r, f, s = precision_recall_fscore_support(true, pred, labels=self.classes_, zero_division=0)
        return {
            "classes": [c.item() if hasattr(c, "item") else c for c in self.classes_],
            "validation_accuracy": float((pred == true).mean()),
            "confusion": confusion_matrix(true, pred, labels=self.classes_).tolist(),
            "per_class": {"class": [str(c) for c in self.classes_], "precision": p.tolist(), "recall": r.tolist(),
                          "f1": f.tolist(), "support": s.tolist()},
            "train_holes": list(self.train_holes_), "validation_holes": list(self.validation_holes_),
        }

    # ---- persistence -----------------------------------------------------------------------------
    def save(self, path, meta: dict | None = None) -> str:
        """Write the network and scaler as tensors plus JSON; returns the file's SHA-256."""
        state = {f"net.{k}": v for k, v in self.net_.state_dict().items()}
        state.update({"scaler.mean": self.scaler_.mean_, "scaler.scale": self.scaler_.scale_})
        # classes go to the JSON metadata: they may be text (unit names), which no tensor holds
        info = {"classes": [c.item() if hasattr(c, "item") else c for c in self.classes_], "cell": self.cell, "seq_len": self.seq_len, "hidden": self.hidden, "epochs": self.epochs,
                "lr": self.lr, "batch_size": self.batch_size, "seed": self.seed, "n_features": self.n_features_,
                "train_holes": list(self.train_holes_), "validation_holes": list(self.validation_holes_),
                **(meta or {})}
        return save_model(path, KIND, state, info)

    @classmethod
    def load(cls, path) -> tuple["SequenceModel", dict]:
        """A model written by :meth:`save`, and its metadata."""
        state, meta = load_model(path, KIND)
        model = cls(meta["cell"], meta["seq_len"], meta["hidden"], meta["epochs"], meta["lr"], meta["batch_size"], meta["seed"])
        # files written before the classes moved to the metadata hold them as a tensor
        model.classes_ = np.asarray(meta["classes"]) if "classes" in meta else state["classes"].numpy()
        model.scaler_ = Standardizer()
        model.scaler_.mean_, model.scaler_.scale_ = state["scaler.mean"].numpy(), state["scaler.scale"].numpy()
        model.n_features_ = int(meta["n_features"])
        model.train_holes_, model.validation_holes_ = meta["train_holes"], meta["validation_holes"]
        model.net_ = _Net(model.n_features_ + 1, len(model.classes_), model.cell, model.hidden)
        model.net_.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("net.")})
        return model, meta
