"""A VAE with a heteroscedastic classifier head, for M ensemble members at once (stacked parameters).

Every weight has a leading member axis: ``BatchedLinear`` holds ``weight (M, in, out)`` and
``bias (M, 1, out)`` and maps ``(M, B, in) -> (M, B, out)`` with one batched matrix product, so one
forward pass computes all members. Member ``m``'s slice of every parameter is exactly the
parameters of a one-member model (``M = 1``); :func:`split_state` / :func:`stack_states` convert.

Per member: encoder ``x -> h(hidden) -> (mu, logvar)`` of a ``latent_dim`` Gaussian; decoder
``z -> h -> x_hat`` (reconstructs the standardised features; trained on labelled and unlabelled
cells alike); classifier ``z -> h -> (logit mean m, logit log-variance s2)``: the label's logit is
``m + sqrt(exp(s2)) * eps``, ``eps ~ N(0, 1)`` (heteroscedastic aleatoric noise).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

#: Gauss-Hermite nodes/weights for E[sigmoid(m + s*eps)]: deterministic, no sampling at prediction
_GH_X, _GH_W = np.polynomial.hermite.hermgauss(20)
GH_NODES = torch.tensor(_GH_X * math.sqrt(2.0), dtype=torch.float32)
GH_WEIGHTS = torch.tensor(_GH_W / math.sqrt(math.pi), dtype=torch.float32)
#: (nodes, largest logit noise s) for which fewer Gauss-Hermite nodes give the 20-node E to 1e-7
#: and Var to 1e-6 relative (float32 rounding) for every logit mean; larger s uses all 20 nodes
FEWER_NODES = ((4, 0.145), (6, 0.37), (8, 0.545), (10, 0.705), (12, 0.824), (16, 1.067))
#: elements (member x cell) evaluated at once by :func:`expected_sigmoid_fast` on a CPU (cache-sized)
_CHUNK = 4096


def _rule(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, w = np.polynomial.hermite.hermgauss(n)
    return torch.tensor(x * math.sqrt(2.0), dtype=torch.float32), torch.tensor(w / math.sqrt(math.pi), dtype=torch.float32)


_RULES = {n: _rule(n) for n, _ in FEWER_NODES}
_RULES[20] = (GH_NODES, GH_WEIGHTS)


class BatchedLinear(nn.Module):
    """M independent linear layers applied in one ``torch.baddbmm``: ``(M, B, in) -> (M, B, out)``."""

    def __init__(self, members: int, n_in: int, n_out: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(members, n_in, n_out))
        self.bias = nn.Parameter(torch.empty(members, 1, n_out))

    def reset(self, member: int, gen: torch.Generator) -> None:
        """Initialise member *member*'s slice like ``nn.Linear`` (uniform +-1/sqrt(in)) from *gen*."""
        bound = 1.0 / math.sqrt(self.weight.shape[1])
        with torch.no_grad():
            self.weight[member].uniform_(-bound, bound, generator=gen)
            self.bias[member].uniform_(-bound, bound, generator=gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.bias, x, self.weight)


class BatchedVAE(nn.Module):
    """M VAE members with classifier heads; see the module docstring."""

    LAYERS = ("enc1", "enc_mu", "enc_lv", "dec1", "dec2", "cls1", "cls2")

    def __init__(self, members: int, n_features: int, latent_dim: int = 4, hidden: int = 32):
        super().__init__()
        self.members, self.n_features, self.latent_dim, self.hidden = members, n_features, latent_dim, hidden
        self.enc1 = BatchedLinear(members, n_features, hidden)
        self.enc_mu = BatchedLinear(members, hidden, latent_dim)
        self.enc_lv = BatchedLinear(members, hidden, latent_dim)
        self.dec1 = BatchedLinear(members, latent_dim, hidden)
        self.dec2 = BatchedLinear(members, hidden, n_features)
        self.cls1 = BatchedLinear(members, latent_dim, hidden // 2)
        self.cls2 = BatchedLinear(members, hidden // 2, 2)

    def init_member(self, member: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(int(seed))
        for name in self.LAYERS:
            getattr(self, name).reset(member, gen)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.relu(self.enc1(x))
        return self.enc_mu(h), self.enc_lv(h).clamp(-8, 8)

    def prediction_weights(self) -> tuple[torch.Tensor, ...]:
        """The layers prediction uses, laid out for :meth:`predict_logit` (copies, no gradient)."""
        M, f, h = self.enc1.weight.shape
        with torch.no_grad():
            first = (self.enc1.weight.permute(0, 2, 1).reshape(M * h, f).contiguous(), self.enc1.bias.reshape(M * h, 1))
            rest = [(layer.weight.transpose(1, 2).contiguous(), layer.bias.transpose(1, 2).contiguous())
                    for layer in (self.enc_mu, self.cls1, self.cls2)]
        return (*first, *(a for pair in rest for a in pair))

    @staticmethod
    def predict_logit(weights: tuple[torch.Tensor, ...], xt: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logit mean and log-variance ``(M, B)`` of every member at the latent mean, for the same
        cells ``xt (n_features, B)`` (feature-major) in every member, no gradient.

        *weights* from :meth:`prediction_weights`. The cells run along the long side of every matrix
        product (``(M, out, in) @ (M, in, B)``), and the first layer of all members is one product:
        about twice as fast as the training layout for the narrow layers, same values.
        """
        w1, b1, wm, bm, wc1, bc1, wc2, bc2 = weights
        M = wm.shape[0]
        hidden = torch.addmm(b1, w1, xt).relu_().view(M, -1, xt.shape[1])  # (M, hidden, B)
        out = torch.baddbmm(bc2, wc2, torch.baddbmm(bc1, wc1, torch.baddbmm(bm, wm, hidden)).relu_())
        return out[:, 0], out[:, 1].clamp(-10, 6)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.dec2(torch.relu(self.dec1(z)))

    def classify(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Logit mean and logit log-variance, each ``(M, B)``."""
        out = self.cls2(torch.relu(self.cls1(z)))
        return out[..., 0], out[..., 1].clamp(-10, 6)


def expected_sigmoid(mean: torch.Tensor, logvar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """E and Var of ``sigmoid(mean + exp(logvar/2) * eps)``, eps ~ N(0,1), by 20-point Gauss-Hermite."""
    nodes, weights = GH_NODES.to(mean.device), GH_WEIGHTS.to(mean.device)
    s = torch.exp(0.5 * logvar)[..., None]
    p = torch.sigmoid(mean[..., None] + s * nodes)
    e = (p * weights).sum(-1)
    var = ((p - e[..., None]) ** 2 * weights).sum(-1)
    return e, var


def expected_sigmoid_fast(mean: torch.Tensor, logvar: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`expected_sigmoid` for prediction (no gradient), several times faster, same values to
    float32 rounding: the elements run in cache-sized chunks, each chunk with the fewest nodes of
    :data:`FEWER_NODES` that reproduce the 20-node rule at the chunk's largest noise level (a rule
    valid up to a noise level is valid below it), in place."""
    shape = mean.shape
    m = mean.reshape(-1).float()
    s = torch.exp(0.5 * logvar.reshape(-1).float())
    e, v = torch.empty_like(m), torch.empty_like(m)
    bounds = torch.tensor([b for _, b in FEWER_NODES], device=m.device)
    counts = [n for n, _ in FEWER_NODES] + [20]
    chunk = _CHUNK if m.device.type == "cpu" else max(len(m), 1)  # a GPU takes all at once
    for c in range(0, len(m), chunk):
        mc, sc = m[c:c + chunk, None], s[c:c + chunk, None]
        x, w = (a.to(m.device) for a in _RULES[counts[int(torch.bucketize(sc.max(), bounds))]])
        p = torch.addcmul(mc, sc, x[None, :]).sigmoid_()  # (chunk, nodes) probabilities at the nodes
        ec = torch.mv(p, w)
        e[c:c + chunk] = ec
        torch.mv(p.sub_(ec[:, None]).square_(), w, out=v[c:c + chunk])
    return e.reshape(shape), v.reshape(shape)


def split_state(state: dict[str, torch.Tensor], member: int) -> dict[str, torch.Tensor]:
    """Member *member*'s parameters (leading axis of length 1 kept) from a batched state dict."""
    return {k: v[member:member + 1].clone() for k, v in state.items()}


def stack_states(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Batched state dict from one-member state dicts, in order."""
    return {k: torch.cat([s[k] for s in states], dim=0) for k in states[0]}
