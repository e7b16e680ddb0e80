"""Transfer learning for scarce deposits: pretrain on a pretext class, fine-tune on deposit / non-deposit.

After Mantilla-Dulcey et al. (2024, Gondwana Research): a small dense network learns the rock
class at many random points (abundant labels), then its body is re-used for the deposit task
with a class-weighted binary loss, either fully fine-tuned or as a frozen feature extractor
(linear probing). ``NetworkClassifier(pretrain=False)`` is the same network from scratch.
Inputs are standardised features ``(n, n_features)``; the standardisation lives in
:class:`~geoml_qgis.core.prospectivity.model.ProspectivityModel`.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import GeoMLError
from .networks import DenseNet, logits, seeded, train_loop
from .weights import class_weights


@dataclass
class Pretrained:
    """A pretext network: its state, class values and training accuracy."""

    state: dict
    classes: list
    accuracy: float


def pretrain(X: np.ndarray, classes: np.ndarray, hidden=(32, 16), epochs: int = 100, seed: int = 0,
             dropout: float = 0.1) -> Pretrained:
    """Train a :class:`DenseNet` to predict the pretext class (e.g. rock type) from features ``(n, f)``."""
    values = np.unique(classes)
    if len(values) < 2:
        raise GeoMLError("The pretext labels hold only one class; pretraining needs at least two (e.g. rock types).")
    target = np.searchsorted(values, classes)
    ce = nn.CrossEntropyLoss(reduction="none")
    with seeded(seed):
        net = DenseNet(X.shape[1], len(values), hidden, dropout)
        train_loop(net, X, target, lambda out, t, w: (ce(out, t.long()) * w).mean(), epochs, seed)
    acc = float((logits(net, X).argmax(axis=1) == target).mean())
    return Pretrained({k: v.clone() for k, v in net.state_dict().items()}, values.tolist(), acc)


class NetworkClassifier:
    """Dense network for deposit / non-deposit, optionally starting from a pretext network.

    Parameters
    ----------
    finetune : ``"full"`` (every weight trained) or ``"linear"`` (body frozen: linear probing)
    class_weight : ``"auto"``, ``None`` or ``(w0, w1)`` (see :func:`class_weights`)
    epochs, seed, hidden, dropout, lr : training settings

    After :meth:`fit`: ``net_`` (the trained network), ``start_state_`` (its weights when
    fine-tuning began: the pretext body when pretrained), ``weights_`` (w0, w1).
    """

    def __init__(self, finetune: str = "full", class_weight="auto", epochs: int = 200, seed: int = 0,
                 hidden=(32, 16), dropout: float = 0.1, lr: float = 1e-2):
        if finetune not in ("full", "linear"):
            raise GeoMLError(f"Fine-tuning is 'full' or 'linear', not '{finetune}'.")
        self.finetune, self.class_weight, self.epochs, self.seed = finetune, class_weight, int(epochs), int(seed)
        self.hidden, self.dropout, self.lr = tuple(hidden), float(dropout), float(lr)

    def fit(self, X: np.ndarray, y: np.ndarray, pretrained: Pretrained | None = None) -> "NetworkClassifier":
        """Train on features ``(n, f)`` and 0/1 labels ``(n,)``; from *pretrained*'s body when given."""
        self.weights_ = class_weights(y, self.class_weight)
        sw = np.where(y == 1, self.weights_[1], self.weights_[0])
        bce = nn.BCEWithLogitsLoss(reduction="none")

        def loss(out, t, w):
            return (bce(out[:, 0], t.float()) * w).sum() / w.sum()

        with seeded(self.seed + 1):
            self.net_ = DenseNet(X.shape[1], 1, self.hidden, self.dropout)
            if pretrained is not None:
                body = {k[5:]: v for k, v in pretrained.state.items() if k.startswith("body.")}
                try:
                    self.net_.body.load_state_dict(body)
                except RuntimeError as exc:
                    raise GeoMLError("The pretext network does not fit these features (different number of "
                                     "features or layers).") from exc
            self.start_state_ = copy.deepcopy(self.net_.state_dict())
            params = None
            if pretrained is not None and self.finetune == "linear":
                for p in self.net_.body.parameters():
                    p.requires_grad_(False)
                params = list(self.net_.head.parameters())
            self.history_ = train_loop(self.net_, X, y, loss, self.epochs, self.seed + 1, self.lr,
                                       params=params, sample_weight=sw)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Deposit probability ``(n,)`` for features ``(n, f)``."""
        return 1.0 / (1.0 + np.exp(-logits(self.net_, X)[:, 0].astype(np.float64)))

    def state(self) -> dict[str, torch.Tensor]:
        return {f"net.{k}": v for k, v in self.net_.state_dict().items()}

    def load_state(self, state: dict, n_features: int) -> "NetworkClassifier":
        self.net_ = DenseNet(n_features, 1, self.hidden, self.dropout)
        self.net_.load_state_dict({k[4:]: v for k, v in state.items() if k.startswith("net.")})
        self.net_.eval()
        return self
