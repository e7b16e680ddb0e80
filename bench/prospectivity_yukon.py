"""Yukon porphyry Cu (Mantilla-Dulcey et al. 2024): every method cross-validated on identical folds.

Table 1: 5-fold stratified CV (seed 0) on ``02_Train_PCA.csv`` (95 deposits / 218 non-deposits,
PC1-PC7), ROC AUC and PR AUC mean ± sd over folds, scored on held-out folds only. ``transfer``
is pretrained once on the rock class (ETIQUETA) of ``03_Train_Pretext.csv`` (550 random points; the
pretext labels are not deposit labels, so one pretraining serves every fold), then fully fine-tuned;
``transfer (linear probe)`` freezes the pretrained body. Table 2: the imbalance experiments
``05_exp1``..``012_exp8`` (218 non-deposits, 85 down to 15 deposits), ROC AUC mean ± sd.
Class weights 'auto' everywhere; networks 200 epochs. ``vae_ensemble``: 10 members, 100 epochs, latent 4,
with the 3,000 unlabelled rows of ``013_Random.csv``. ``weights_of_evidence``: each PC generalised to a
binary pattern at the cumulative threshold of maximum contrast (studentised contrast >= 2; direction
from the data, 20 quantile thresholds), ``013_Random.csv`` as the sample of the study area.
``fuzzy_gamma``: memberships set from the training fold (linear between the area's 5th and 95th
percentiles towards the deposits, scaled by each PC's own |2 AUC - 1|), gamma 0.9.
``--only m1,m2`` runs a subset of methods (same folds), ``--no-imbalance`` skips table 2.
ECE (10 bins) and NLL are computed per held-out
fold and averaged. Class weighting shifts probabilities upwards on purpose (deposits weigh as much
as non-deposits), which costs calibration; the table shows how much.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geoml_qgis.core.prospectivity.calibration import calibration_metrics  # noqa: E402
from geoml_qgis.core.prospectivity.evaluation import cross_validate, stratified_folds  # noqa: E402
from geoml_qgis.core.prospectivity.fuzzy import FuzzyClassifier  # noqa: E402
from geoml_qgis.core.prospectivity.model import ProspectivityModel  # noqa: E402
from geoml_qgis.core.prospectivity.wofe_model import WofEClassifier  # noqa: E402

DATA = ROOT / "geoml_qgis" / "sample_data" / "yukon_porphyry"
NAMES = [f"PC{i}" for i in range(1, 8)]
EXPERIMENTS = ["05_exp1", "06_exp2", "07_exp3", "08_exp4", "09_exp5", "010_exp6", "011_exp7", "012_exp8"]


def makers(epochs: int = 200, seed: int = 0, only: set | None = None):
    unl = pd.read_csv(DATA / "013_Random.csv")[NAMES].to_numpy(float)
    classics = {"weights_of_evidence": lambda: WofEClassifier(NAMES, "ordered", "contrast", unl, 20),
                "fuzzy_gamma": lambda: FuzzyClassifier("gamma", 0.9, unl)}
    if only and not only & {"transfer", "transfer (linear probe)"}:
        out = {m: (lambda m=m: ProspectivityModel(m, NAMES, epochs=epochs, seed=seed))
               for m in ("scratch", "random_forest", "svm", "logistic_regression") if m in only}
        return {**out, **{k: v for k, v in classics.items() if k in only}}, float("nan")
    pre = pd.read_csv(DATA / "03_Train_Pretext.csv")
    full = ProspectivityModel("transfer", NAMES, epochs=epochs, seed=seed)
    full.pretrain(pre[NAMES].to_numpy(), pre["ETIQUETA"].to_numpy().astype(int))
    linear = ProspectivityModel("transfer", NAMES, epochs=epochs, seed=seed, finetune="linear")
    linear.pretext_, linear.pretext_scale_ = full.pretext_, full.pretext_scale_
    out = {"transfer": full.clone, "transfer (linear probe)": linear.clone}
    for m in ("scratch", "random_forest", "svm", "logistic_regression"):
        out[m] = (lambda m=m: ProspectivityModel(m, NAMES, epochs=epochs, seed=seed))

    def ensemble():
        m = ProspectivityModel("vae_ensemble", NAMES, epochs=100, seed=seed, members=10)
        m.unlabelled_ = unl
        return m

    out["vae_ensemble"] = ensemble
    out.update(classics)
    if only:
        out = {k: v for k, v in out.items() if k in only}
    return out, full.pretext_.accuracy


def run(table: pd.DataFrame, make: dict) -> dict:
    X, y = table[NAMES].to_numpy(float), table["DEP"].to_numpy().astype(int)
    folds = stratified_folds(y, 5, 0)
    return {name: cross_validate(fn, X, y, folds, name, extra_metrics=calibration_metrics)
            for name, fn in make.items()}, int(y.sum())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="comma-separated methods (default: all)")
    ap.add_argument("--no-imbalance", action="store_true", help="skip the imbalance experiments")
    args = ap.parse_args()
    t0 = time.time()
    make, acc = makers(only={m.strip() for m in args.only.split(",") if m.strip()} or None)
    if np.isfinite(acc):
        print(f"pretext network (rock class, 5 classes): training accuracy {acc:.2f}")
    res, npos = run(pd.read_csv(DATA / "02_Train_PCA.csv"), make)
    print(f"\n02_Train_PCA.csv: {npos} deposits, 5-fold stratified CV, identical folds\n")
    print("| method | ROC AUC | PR AUC | ECE | NLL |\n|---|---|---|---|---|")
    for name, r in res.items():
        s = r.summary()
        ece, nll = np.mean([e["ece"] for e in r.extra]), np.mean([e["nll"] for e in r.extra])
        print(f"| {name} | {s['roc_auc_mean']:.3f} ± {s['roc_auc_sd']:.3f} | {s['pr_auc_mean']:.3f} ± {s['pr_auc_sd']:.3f} "
              f"| {ece:.3f} | {nll:.3f} |", flush=True)
    if args.no_imbalance:
        print(f"\nwall time {time.time() - t0:.0f} s")
        return
    print("\nImbalance experiments: ROC AUC (mean ± sd, 5-fold CV), 218 non-deposits\n")
    print("| file | deposits | " + " | ".join(make) + " |")
    print("|---|---|" + "---|" * len(make))
    for exp in EXPERIMENTS:
        res, npos = run(pd.read_csv(DATA / f"{exp}.csv", sep=";"), make)
        cells = [f"{np.mean(r.roc_auc):.3f} ± {np.std(r.roc_auc, ddof=1):.3f}" for r in res.values()]
        print(f"| {exp} | {npos} | " + " | ".join(cells) + " |", flush=True)
    print(f"\nwall time {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
