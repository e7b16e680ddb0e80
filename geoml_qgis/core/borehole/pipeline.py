"""The clustering workflow on cleaned samples: transform, choose k, cluster, continuity."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ArgumentError, GeoMLError
from ..progress import ProgressCallback, report, scaled
from .clustering import ClusterResult, cluster, cluster_result, cluster_summary
from .continuity import ContinuityCurves, downhole_continuity, spatial_continuity
from .kgap import select_k_gap
from .kmodel import select_k_bic
from .krefine import refine_labels
from .kselect import KSelection, select_k
from .kseparation import clustering_coordinates, select_k_per_hole_separation, select_k_separation
from .samples import Samples
from .transforms import prepare_features

K_METHODS = ("gap", "vote", "bic", "separation")  # the order of the K_METHOD option; separation is the default


@dataclass
class ClusteringOutcome:
    """Everything the layer, the workbook and the report are made of."""

    samples: Samples
    transform: str
    features: np.ndarray
    selection: KSelection | None
    per_hole: pd.DataFrame
    result: ClusterResult
    summary: pd.DataFrame
    continuity: list[ContinuityCurves]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(self.result.labels.max())

    def sample_frame(self) -> pd.DataFrame:
        """The samples with their cluster and PCA coordinates (the layer's attribute table)."""
        df = self.samples.frame()
        df["cluster"] = self.result.labels.astype(int)
        df["pc1"], df["pc2"] = self.result.pca[:, 0], self.result.pca[:, 1]
        return df


def run_clustering(samples: Samples, transform: str = "clr", n_clusters: int = 0, k_max: int = 10,
                   method: str = "kmeans", max_lag: float = 0.0, seed: int = 0, k_method: str = "separation",
                   progress: ProgressCallback | None = None) -> ClusteringOutcome:
    """Cluster *samples*; ``n_clusters = 0`` chooses k automatically within 2..k_max, by *k_method*:
    ``vote`` (elbow and indices, :mod:`.kselect`), ``bic`` (Gaussian mixtures, :mod:`.kmodel`) or
    ``gap`` (gap statistic, :mod:`.kgap`) or ``separation`` (the most clusters that are all distinct units,
    :mod:`.kseparation`)."""
    if k_method not in K_METHODS:
        raise GeoMLError(f"Unknown way of choosing k '{k_method}'; choose one of {', '.join(K_METHODS)}.")
    if k_max < 2:
        raise ArgumentError("The largest number of clusters to try ({k_max}) must be at least 2.")
    if n_clusters and len(samples) < n_clusters:
        raise GeoMLError(f"{len(samples)} sample(s) cannot form {n_clusters} clusters; lower the number of clusters.")
    if len(samples) < 3:
        raise GeoMLError(f"Only {len(samples)} usable sample(s): at least 3 are needed to cluster.")
    notes = list(samples.log.messages)
    clock = [time.perf_counter()]
    timings: dict[str, float] = {}

    def lap(name: str) -> None:
        clock.append(time.perf_counter())
        timings[name] = clock[-1] - clock[-2]

    X, _ = prepare_features(samples.values.to_numpy(), transform)
    report(progress, 0.05)
    if k_method == "bic":
        selection = select_k_bic(samples.values.to_numpy(), transform, k_max, seed,
                                 progress=scaled(progress, 0.05, 0.45))
    elif k_method == "separation":
        selection = select_k_separation(samples.values.to_numpy(), transform, k_max, seed, k_min=2,
                                        progress=scaled(progress, 0.05, 0.45))
    elif k_method == "gap":
        selection = select_k_gap(X, k_max, seed, k_min=2, progress=scaled(progress, 0.05, 0.45))
    else:
        selection = select_k(X, k_max, seed, progress=scaled(progress, 0.05, 0.45))
    lap("k_selection")
    per_hole = (select_k_per_hole_separation(samples.values.to_numpy(), samples.hole, transform, k_max, seed,
                                             progress=scaled(progress, 0.45, 0.7))
                if samples.n_holes < len(samples) else pd.DataFrame())
    lap("k_per_hole")
    k = int(n_clusters) if n_clusters else selection.k
    notes.append(f"k = {k} given; automatic choice: {selection.evidence}" if n_clusters else selection.evidence)
    coords = clustering_coordinates(samples.values.to_numpy(), transform, seed)
    result = cluster(coords, k, method, seed, init=selection.centres)
    if method == "kmeans" and transform in ("log", "clr") and k > 1:
        refined = refine_labels(samples.values.to_numpy(), result.labels - 1, transform)
        result = cluster_result(coords, refined, method, seed)
        notes.append("k-means labels refined by the assay noise model (log-normal noise, cells below detection as "
                     "censored, cluster shares as priors).")
    lap("clustering")
    report(progress, 0.8)
    curves = []
    if samples.n_holes < len(samples):
        curves.append(downhole_continuity(result.labels, samples.hole, samples.depth, max_lag or None))
    else:
        notes.append("Every sample is its own hole: no downhole continuity.")
    try:
        curves.append(spatial_continuity(result.labels, samples.xyz, max_lag or None, seed))
    except GeoMLError as exc:
        notes.append(f"No 3D continuity: {exc}")
    lap("continuity")
    report(progress, 1.0)
    return ClusteringOutcome(samples, transform, X, selection, per_hole, result,
                             cluster_summary(samples.values, result.labels), curves, notes, timings)
