"""A fitted weights-of-evidence model: posterior probability, its standard deviation, and the
conditional-independence checks (Agterberg-Cheng test, pairwise chi-square between layers).

The posterior logit of a cell is the prior logit plus the weight of the class it falls in, for
every layer (0 where a layer has no data). Its variance follows Bonham-Carter (1994) and ArcSDM::

    s²(P) = P² · [1/N(D) + Σ_j s²(W_j)]  +  Σ_{j missing} Σ_k (P_jk − P)² · A_jk / A_j

the first term from the weights (and the prior), the second from missing data: for each layer
without data at the cell, the spread of the posterior over the classes it could have been in
(``P_jk``: the posterior had the cell been in class ``k``), weighted by the classes' area shares.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from ..errors import GeoMLError
from ..io import write_text_atomic
from .wofe import KINDS, MIN_STUDENTISED, LayerWeights, candidate_edges, discrete_weights, ordered_weights, user_edges

FORMAT = "geoml-wofe"


def logistic(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


@dataclass
class WofEModel:
    """Layers' weights and the prior: ``prior_deposits`` deposits on ``prior_area`` unit cells."""

    layers: list[LayerWeights]
    prior_area: float
    prior_deposits: float
    unit_cell_area: float = 1.0
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for lw in self.layers:
            for c in lw.classes:
                if c.note:
                    self.notes.append(f"{lw.name}, class {c.label}: {c.note}.")

    @property
    def names(self) -> list[str]:
        return [lw.name for lw in self.layers]

    @property
    def prior(self) -> float:
        return self.prior_deposits / self.prior_area

    def classify(self, raw: np.ndarray) -> np.ndarray:
        """Raw values ``(n, n_layers)`` (NaN = no data) -> class indices ``(n, n_layers)``."""
        raw = np.asarray(raw, float)
        if raw.ndim != 2 or raw.shape[1] != len(self.layers):
            raise GeoMLError(f"Expected {len(self.layers)} evidence values per cell ({', '.join(self.names)}); "
                             f"got {raw.shape[-1]}.")
        return np.column_stack([lw.classify(raw[:, j]) for j, lw in enumerate(self.layers)])

    def posterior_from_classes(self, cls: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Class indices ``(n, n_layers)`` -> ``(posterior, its sd, sd from missing data only)``, each ``(n,)``."""
        n = len(cls)
        logit = np.full(n, np.log(self.prior / (1 - self.prior)))
        var_w = np.full(n, 1.0 / self.prior_deposits)
        for j, lw in enumerate(self.layers):
            w = np.append(lw.weight, 0.0)       # missing class: weight 0, no weight variance
            v = np.append(lw.variance, 0.0)
            logit += w[cls[:, j]]
            var_w += v[cls[:, j]]
        p = logistic(logit)
        var_m = np.zeros(n)
        for j, lw in enumerate(self.layers):
            miss = cls[:, j] == len(lw.classes)
            if miss.any():
                pk = logistic(logit[miss, None] + lw.weight[None, :])
                var_m[miss] += ((pk - p[miss, None]) ** 2 * lw.share[None, :]).sum(axis=1)
        return p, np.sqrt(p * p * var_w + var_m), np.sqrt(var_m)

    def predict(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Posterior probability and its standard deviation ``(n,)`` for raw values ``(n, n_layers)``."""
        p, sd, _ = self.posterior_from_classes(self.classify(raw))
        return p, sd

    # ---- conditional independence -------------------------------------------------------------
    def agterberg_cheng(self, codes: np.ndarray, areas: np.ndarray) -> dict:
        """Agterberg-Cheng (2002) test from the unique conditions of the map.

        *codes* ``(m, n_layers)`` class indices of each unique condition, *areas* ``(m,)`` their area in
        unit cells. ``T = Σ area·P`` is the number of deposits the model predicts; under conditional
        independence it equals the observed ``n``. ``z = (T − n) / s(T)`` with ``s²(T) = Σ (area·s(P))²``;
        ``p`` is the one-sided probability of a ``T`` this far above ``n`` by chance (small p: the layers
        are not conditionally independent and the posterior is inflated).
        """
        from scipy.stats import norm

        p, sd, _ = self.posterior_from_classes(np.asarray(codes))
        a = np.asarray(areas, float)
        t = float((a * p).sum())
        st = float(np.sqrt(((a * sd) ** 2).sum()))
        n = float(self.prior_deposits)
        z = (t - n) / st if st > 0 else float("nan")
        return {"observed_deposits": n, "predicted_deposits": t, "sd_predicted": st, "ratio": n / t,
                "z": z, "p_value": float(norm.sf(z)) if np.isfinite(z) else float("nan")}

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "prior_area": self.prior_area, "prior_deposits": self.prior_deposits,
                           "unit_cell_area": self.unit_cell_area, "notes": self.notes,
                           "layers": [lw.to_dict() for lw in self.layers]}, indent=1, default=_json_default)

    def save(self, path: str | os.PathLike) -> None:
        write_text_atomic(path, self.to_json())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "WofEModel":
        try:
            with open(path, encoding="utf-8") as f:
                d = json.load(f)
        except (OSError, ValueError) as exc:
            raise GeoMLError(f"Cannot read the weights-of-evidence model '{path}': {exc}") from exc
        if not isinstance(d, dict) or d.get("format") != FORMAT:
            raise GeoMLError(f"'{path}' is not a GeoML weights-of-evidence model.")
        model = cls([LayerWeights.from_dict(lw) for lw in d["layers"]], d["prior_area"], d["prior_deposits"],
                    d.get("unit_cell_area", 1.0))
        model.notes = list(d.get("notes", []))
        return model


def _json_default(v):
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    raise TypeError(type(v))


def pairwise_chi_square(classes: np.ndarray, names: Sequence[str], n_classes: Sequence[int]) -> list[dict]:
    """Chi-square test of independence for every pair of layers, over the deposits.

    *classes* ``(n_deposits, n_layers)``: class index of each deposit (``n_classes[j]`` = no data;
    those deposits are left out of that pair). Conditional independence given a deposit means the
    classes of two layers are unrelated among the deposits; a small p-value says they are not.
    """
    from scipy.stats import chi2

    rows = []
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            ok = (classes[:, i] < n_classes[i]) & (classes[:, j] < n_classes[j])
            obs = np.zeros((n_classes[i], n_classes[j]))
            np.add.at(obs, (classes[ok, i], classes[ok, j]), 1)
            obs = obs[obs.sum(axis=1) > 0][:, obs.sum(axis=0) > 0]
            dof = (obs.shape[0] - 1) * (obs.shape[1] - 1)
            row = {"layer_1": names[i], "layer_2": names[j], "deposits": int(ok.sum()), "dof": dof,
                   "chi_square": float("nan"), "p_value": float("nan"), "min_expected": float("nan")}
            if dof > 0:
                exp = obs.sum(axis=1, keepdims=True) * obs.sum(axis=0, keepdims=True) / obs.sum()
                stat = float(((obs - exp) ** 2 / exp).sum())
                row.update(chi_square=stat, p_value=float(chi2.sf(stat, dof)), min_expected=float(exp.min()))
            rows.append(row)
    return rows


def fit_counts(name: str, kind: str, values_area: np.ndarray, area_weight: np.ndarray, values_dep: np.ndarray,
               criterion: str = "contrast", breaks: Sequence[float] = (), n_thresholds: int = 50,
               edge_sample: np.ndarray | None = None, min_studentised: float = MIN_STUDENTISED) -> LayerWeights:
    """Weights of one layer from raw values standing for the area and at the deposits (NaN = no data).

    *values_area* ``(m,)`` with *area_weight* ``(m,)`` unit cells each (every cell of a raster, or
    background rows of a table), *values_dep* ``(n_deposits,)``. *edge_sample*: values used to place
    candidate thresholds (default *values_area*).
    """
    if kind not in KINDS:
        raise GeoMLError(f"Unknown evidence type '{kind}' for '{name}'; use one of {', '.join(KINDS)}.")
    va, vd = np.asarray(values_area, float), np.asarray(values_dep, float)
    wa = np.asarray(area_weight, float)
    ok_a, ok_d = np.isfinite(va), np.isfinite(vd)
    missing = float(wa[~ok_a].sum())
    if kind in ("binary", "categorical"):
        values = np.unique(np.concatenate([va[ok_a], vd[ok_d]]))
        area = np.array([wa[ok_a & (va == v)].sum() for v in values])
        dep = np.array([(vd[ok_d] == v).sum() for v in values], float)
        return discrete_weights(name, kind, values.tolist(), area, dep, missing)
    edges = user_edges(breaks) if kind == "breaks" or len(breaks) else candidate_edges(
        va[ok_a] if edge_sample is None else edge_sample, n_thresholds, name)
    inner = np.asarray(edges[1:-1])
    k = len(edges) - 1
    area = np.bincount(np.searchsorted(inner, va[ok_a], side="left"), weights=wa[ok_a], minlength=k)
    dep = np.bincount(np.searchsorted(inner, vd[ok_d], side="left"), minlength=k).astype(float)
    return ordered_weights(name, kind, edges, area, dep, criterion, missing, min_studentised)


def fit_table(deposits: np.ndarray, background: np.ndarray, names: Sequence[str], kinds: Sequence[str],
              criterion: str = "contrast", breaks: dict | None = None, background_cells: float | None = None,
              n_thresholds: int = 50, min_studentised: float = MIN_STUDENTISED) -> WofEModel:
    """Weights of evidence from tables: deposit rows ``(n_d, L)`` and background rows ``(n_b, L)``.

    The background rows are a random sample of the study area (e.g. the Yukon ``013_Random.csv``);
    each stands for ``background_cells / n_b`` unit cells without a deposit (one unit cell each by
    default). NaN is missing evidence.
    """
    deposits, background = np.asarray(deposits, float), np.asarray(background, float)
    if len(deposits) < 2:
        raise GeoMLError(f"Weights of evidence needs at least two training deposits; got {len(deposits)}.")
    if len(background) < 10:
        raise GeoMLError("Give at least ten background rows standing for the study area.")
    scale = (background_cells or len(background)) / len(background)
    va = np.vstack([background, deposits])
    wa = np.concatenate([np.full(len(background), scale), np.ones(len(deposits))])
    layers = [fit_counts(n, k, va[:, j], wa, deposits[:, j], criterion, (breaks or {}).get(n, ()), n_thresholds,
                         edge_sample=background[:, j], min_studentised=min_studentised)
              for j, (n, k) in enumerate(zip(names, kinds))]
    return WofEModel(layers, float(wa.sum()), float(len(deposits)))


class PosteriorEstimator:
    """A fitted :class:`WofEModel` seen as an estimator (``predict_proba``), e.g. for partial dependence."""

    def __init__(self, model: WofEModel):
        self.model = model

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)[0]


class WofEClassifier:
    """Weights of evidence as an estimator for :func:`~.evaluation.cross_validate`.

    ``fit(X, y)`` takes the deposits from ``y == 1`` and, as the area sample, *background* rows when
    given (a random sample of the study area) or else the ``y == 0`` rows. ``predict_proba(X)``: the
    posterior ``(n,)``.
    """

    def __init__(self, names: Sequence[str], kinds: Sequence[str] | str = "descending", criterion: str = "contrast",
                 background: np.ndarray | None = None, n_thresholds: int = 20, min_studentised: float = MIN_STUDENTISED,
                 breaks: dict | None = None):
        self.names = list(names)
        self.kinds = [kinds] * len(self.names) if isinstance(kinds, str) else list(kinds)
        self.criterion, self.background, self.n_thresholds = criterion, background, n_thresholds
        self.min_studentised, self.breaks = min_studentised, breaks

    def fit(self, X: np.ndarray, y: np.ndarray) -> "WofEClassifier":
        X, y = np.asarray(X, float), np.asarray(y)
        bg = X[y == 0] if self.background is None else np.asarray(self.background, float)
        self.model_ = fit_table(X[y == 1], bg, self.names, self.kinds, self.criterion, self.breaks,
                                n_thresholds=self.n_thresholds, min_studentised=self.min_studentised)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict(np.asarray(X, float))[0]
