"""Clustering of samples (k-means or a Gaussian mixture), the 2D PCA view and cluster summaries."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture

from ..errors import GeoMLError

METHODS = ("kmeans", "gmm")


@dataclass
class ClusterResult:
    """Labels 1..k (1 = the largest cluster), their centres in feature space and the 2D PCA view.

    labels : (n,) int; centres : (k, m); pca : (n, 2); explained : (2,) variance ratios
    """

    labels: np.ndarray
    centres: np.ndarray
    pca: np.ndarray
    explained: np.ndarray
    method: str


def cluster(X: np.ndarray, k: int, method: str = "kmeans", seed: int = 0,
            init: np.ndarray | None = None) -> ClusterResult:
    """Cluster features X (n, m) into k groups; *init* (k, m) starts k-means or the mixture's means
    (one run) from given centres, e.g. the partition that chose k."""
    X = np.asarray(X, float)
    if k < 1:
        raise GeoMLError("The number of clusters must be at least 1.")
    if len(X) < k:
        raise GeoMLError(f"{len(X)} sample(s) cannot form {k} clusters; lower the number of clusters.")
    if len(np.unique(X.round(12), axis=0)) < k:
        raise GeoMLError(f"The samples have fewer than {k} distinct compositions; lower the number of clusters.")
    if init is not None and np.shape(init) != (k, X.shape[1]):
        init = None  # centres of another k (k given by the user) or space
    if method == "kmeans":
        raw = KMeans(n_clusters=k, init="k-means++" if init is None else init, n_init=10 if init is None else 1,
                     random_state=seed).fit_predict(X)
    elif method == "gmm":
        raw = GaussianMixture(n_components=k, covariance_type="full", n_init=3 if init is None else 1,
                              means_init=init, random_state=seed, reg_covar=1e-4).fit_predict(X)
    else:
        raise GeoMLError(f"Unknown clustering method '{method}'; choose one of {', '.join(METHODS)}.")
    return cluster_result(X, raw, method, seed)


def cluster_result(X: np.ndarray, raw: np.ndarray, method: str, seed: int = 0) -> ClusterResult:
    """The :class:`ClusterResult` of labels *raw* (n,) of features X (n, m): clusters numbered by size."""
    present = np.unique(raw)
    sizes = np.array([(raw == c).sum() for c in present])
    order = present[np.argsort(-sizes, kind="stable")]
    labels = np.empty(len(X), int)
    for new, old in enumerate(order, start=1):
        labels[raw == old] = new
    centres = np.array([X[labels == c].mean(axis=0) for c in range(1, len(order) + 1)])
    n_comp = min(2, X.shape[1], len(X))
    pca = PCA(n_components=n_comp, random_state=seed).fit(X)
    view = np.zeros((len(X), 2))
    view[:, :n_comp] = pca.transform(X)
    explained = np.zeros(2)
    explained[:n_comp] = pca.explained_variance_ratio_
    return ClusterResult(labels, centres, view, explained, method)


def cluster_summary(values: pd.DataFrame, labels: np.ndarray) -> pd.DataFrame:
    """Per cluster and element: count, geometric mean, median, min, max of the cleaned values."""
    rows = []
    for c in np.unique(labels):
        sub = values[labels == c]
        for el in values.columns:
            v = sub[el].to_numpy(float)
            rows.append({"cluster": int(c), "element": el, "n_samples": len(v),
                         "geometric_mean": float(np.exp(np.log(v).mean())), "median": float(np.median(v)),
                         "min": float(v.min()), "max": float(v.max())})
    return pd.DataFrame(rows)
