"""How often the number of clusters is right across a FAMILY of synthetic drilling data sets.

Configurations come from :mod:`geoml_qgis.core.borehole.family` (2-8 units of 5-60 % of the
samples, 5-30 elements, log-normal noise 0.2-0.6, censoring up to 40 %, gradational contacts,
holes at 45-90 degrees; every unit with a Bayes error below 5 %). On each, today's vote
(elbow, silhouette, Calinski-Harabasz, Davies-Bouldin), the BIC of tied Gaussian mixtures,
the gap statistic and the separation test (:mod:`~geoml_qgis.core.borehole.kseparation`) choose k in
1..10 (clr features); k-means with the chosen k (n_init = 10) gives the ARI.
Printed: the hit rate (chosen k = number of units) and the share with ARI >= 0.9, overall and
by number of units, and the BIC's hit rate when its evidence is called weak / not weak.

    python bench/borehole_kselect.py [N_CONFIGS=200] [SEED=0]
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402
from sklearn.cluster import KMeans  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

from geoml_qgis.core.borehole.family import family  # noqa: E402
from geoml_qgis.core.borehole.kgap import select_k_gap  # noqa: E402
from geoml_qgis.core.borehole.kmodel import select_k_bic  # noqa: E402
from geoml_qgis.core.borehole.kselect import select_k  # noqa: E402
from geoml_qgis.core.borehole.kseparation import select_k_separation  # noqa: E402
from geoml_qgis.core.borehole.transforms import prepare_features  # noqa: E402


def score(case) -> dict:
    X, _ = prepare_features(case.values, "clr")
    t0 = time.perf_counter()
    vote = select_k(X, 10, n_init=4).k
    t1 = time.perf_counter()
    bic = select_k_bic(case.values, "clr", 10)
    t2 = time.perf_counter()
    gap = select_k_gap(X, 10).k
    t3 = time.perf_counter()
    sep = select_k_separation(case.values, "clr", 10)
    t4 = time.perf_counter()
    row = {"units": case.n_units, "n": len(X), "m": X.shape[1], "noise": case.config.noise,
           "vote_k": vote, "bic_k": bic.k, "gap_k": gap, "sep_k": sep.k, "sep_weak": sep.confidence < 1.2,
           "bic_delta": bic.delta_bic, "vote_s": t1 - t0,
           "bic_s": t2 - t1, "gap_s": t3 - t2, "sep_s": t4 - t3}
    for name, k in (("vote", vote), ("bic", bic.k), ("gap", gap), ("sep", sep.k)):
        labels = KMeans(k, n_init=10, random_state=0).fit_predict(X)
        row[f"{name}_ari"] = adjusted_rand_score(case.truth, labels)
    return row


def main(n: int, seed: int) -> None:
    rows = []
    for i, case in enumerate(family(n, seed)):
        rows.append(score(case))
        r = rows[-1]
        print(f"{i:4d} units {r['units']} n {r['n']:5d} m {r['m']:2d}: vote {r['vote_k']} (ARI {r['vote_ari']:.2f}), "
              f"bic {r['bic_k']} (ARI {r['bic_ari']:.2f}, dBIC {r['bic_delta']:.1f}), gap {r['gap_k']} (ARI {r['gap_ari']:.2f}), "
              f"sep {r['sep_k']} (ARI {r['sep_ari']:.2f})",
              flush=True)
        if (i + 1) % 25 == 0 and i + 1 < n:
            summary(pd.DataFrame(rows), seed)
    summary(pd.DataFrame(rows), seed)


def summary(df: pd.DataFrame, seed: int) -> None:
    print(f"\n{len(df)} configurations (seed {seed}); load {os.getloadavg()[0]:.1f}")
    for name in ("vote", "bic", "gap", "sep"):
        hit = (df[f"{name}_k"] == df["units"]).mean()
        ari = (df[f"{name}_ari"] >= 0.9).mean()
        print(f"  {name:5s}: right k {100 * hit:5.1f} %, ARI >= 0.9 {100 * ari:5.1f} %, "
              f"median time {df[f'{name}_s'].median():.2f} s")
    by = df.assign(vote=df["vote_k"] == df["units"], bic=df["bic_k"] == df["units"],
                   gap=df["gap_k"] == df["units"], sep=df["sep_k"] == df["units"]).groupby("units")
    by = by[["vote", "bic", "gap", "sep"]]
    print("  right k by number of units:\n" + by.mean().round(2).assign(n=by.size()).to_string())
    weak = df["bic_delta"] < 2
    for label, sel in (("weak", weak), ("not weak", ~weak)):
        if sel.any():
            print(f"  bic right when evidence {label}: {100 * (df.loc[sel, 'bic_k'] == df.loc[sel, 'units']).mean():.1f} % "
                  f"of {int(sel.sum())}", flush=True)
    for label, sel in (("weak", df["sep_weak"]), ("not weak", ~df["sep_weak"])):
        if sel.any():
            print(f"  sep right when evidence {label}: {100 * (df.loc[sel, 'sep_k'] == df.loc[sel, 'units']).mean():.1f} % "
                  f"of {int(sel.sum())}", flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200, int(sys.argv[2]) if len(sys.argv) > 2 else 0)
