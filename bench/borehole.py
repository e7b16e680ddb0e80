"""Borehole clustering and downhole sequence model at scale: 200 holes x 500 samples x 30 elements.

A SYNTHETIC set (``geoml_qgis.core.borehole.synthetic``, 5 units) is generated in each child
process. Printed per stage: wall time and peak resident memory (ru_maxrss), the memory held by the
data alone, and the ratio of the full clustering workflow (cleaning, clr, k selection over
k = 1..10 by separation, the default, for all holes and for each hole, k-means, PCA, continuity) to its reference, one bare
scikit-learn KMeans fit (n_init=10) at the same k on the same features. The sequence model
(GRU, 32 hidden units, windows of 32 samples, 5 epochs) is timed per epoch.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
N_HOLES, PER_HOLE, N_ELEMENTS, N_UNITS = 200, 500, 30, 5


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _data():
    from geoml_qgis.core.borehole.samples import build_samples, collar_frame
    from geoml_qgis.core.borehole.synthetic import make_boreholes

    synth = make_boreholes(n_holes=N_HOLES, n_units=N_UNITS, n_elements=N_ELEMENTS, samples_per_hole=PER_HOLE,
                           interval=1.0, seed=0)
    a = synth.assays
    t0 = time.perf_counter()
    samples = build_samples(a, synth.elements, a["hole"].to_numpy(), intervals=(a["from"].to_numpy(), a["to"].to_numpy()),
                            collars=collar_frame(synth.collars, "hole", "x", "y", "z", "azimuth", "dip"))
    return synth, samples, time.perf_counter() - t0


def cluster_stage() -> dict:
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    from geoml_qgis.core.borehole.pipeline import run_clustering

    synth, samples, t_clean = _data()
    data_mb = _peak_mb()
    t0, c0 = time.perf_counter(), _cpu_s()
    out = run_clustering(samples, "clr", k_max=10)
    t_cluster, c_cluster = time.perf_counter() - t0, _cpu_s() - c0
    t0 = time.perf_counter()
    KMeans(n_clusters=out.k, n_init=10, random_state=0).fit(out.features)
    t_ref = time.perf_counter() - t0
    key = {(h, f): u for h, f, u in zip(synth.assays["hole"], synth.assays["from"], synth.truth)}
    truth = np.array([key[(h, f)] for h, f in zip(samples.hole, samples.extra["from"])])
    return {"n": len(samples), "clean_s": t_clean, "cluster_s": t_cluster, "cluster_cpu": c_cluster,
            "stages": out.timings, "ref_s": t_ref, "k": out.k,
            "ari": adjusted_rand_score(truth, out.result.labels), "data_mb": data_mb, "peak_mb": _peak_mb()}


def sequence_stage() -> dict:
    from geoml_qgis.core.borehole.sequence import SequenceModel
    from geoml_qgis.core.borehole.transforms import apply_transform

    synth, samples, _ = _data()
    key = {(h, f): u for h, f, u in zip(synth.assays["hole"], synth.assays["from"], synth.truth)}
    labels = np.array([key[(h, f)] for h, f in zip(samples.hole, samples.extra["from"])])
    X = apply_transform(samples.values.to_numpy(), "clr")
    data_mb = _peak_mb()
    t0, c0 = time.perf_counter(), _cpu_s()
    model = SequenceModel("gru", seq_len=32, hidden=32, epochs=5).fit(X, labels, samples.hole, samples.depth)
    t_fit, c_fit = time.perf_counter() - t0, _cpu_s() - c0
    acc = model.evaluate(X, labels, samples.hole, samples.depth)["validation_accuracy"]
    return {"fit_s": t_fit, "fit_cpu": c_fit, "epochs": 5, "val_acc": acc, "data_mb": data_mb, "peak_mb": _peak_mb()}


def main() -> None:
    res = {}
    for stage in ("cluster", "sequence"):
        out = subprocess.run([sys.executable, __file__, stage], check=True, capture_output=True, text=True)
        res[stage] = json.loads(out.stdout.strip().splitlines()[-1])
    c, s = res["cluster"], res["sequence"]
    print(f"borehole: {N_HOLES} holes x {PER_HOLE} samples x {N_ELEMENTS} elements (synthetic, {N_UNITS} units)")
    print(f"  cleaning + desurvey ({c['n']} samples): {c['clean_s']:6.1f} s")
    print(f"  clustering workflow: {c['cluster_s']:6.1f} s wall, {c['cluster_cpu']:.1f} s CPU; k = {c['k']} "
          f"(true {N_UNITS}), ARI {c['ari']:.3f}; data {c['data_mb']:.0f} MB, peak {c['peak_mb']:.0f} MB")
    print("    stages (wall): " + ", ".join(f"{k} {v:.1f} s" for k, v in c["stages"].items()))
    print(f"  reference, one KMeans(k, n_init=10) fit: {c['ref_s']:6.1f} s  ratio workflow/reference {c['cluster_s'] / c['ref_s']:.1f}")
    print(f"  sequence model (GRU, 5 epochs): {s['fit_s']:6.1f} s wall ({s['fit_s'] / s['epochs']:.1f} s/epoch), "
          f"{s['fit_cpu']:.1f} s CPU, "
          f"held-out-hole accuracy {s['val_acc']:.3f}; data {s['data_mb']:.0f} MB, peak {s['peak_mb']:.0f} MB")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print(json.dumps(cluster_stage() if sys.argv[1] == "cluster" else sequence_stage()))
    else:
        main()
