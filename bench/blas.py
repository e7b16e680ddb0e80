"""What the system's BLAS costs: the same jobs on the reference BLAS/LAPACK and on OpenBLAS.

Debian's numpy runs on whichever ``libblas.so.3`` / ``liblapack.so.3`` the system provides: the
reference (netlib) libraries that ``apt install qgis`` brings, or OpenBLAS once
``libopenblas0-pthread`` is installed (see :mod:`geoml_qgis.core.blas`). Each job runs in a fresh
process with ``LD_LIBRARY_PATH`` pointing at one of Debian's library folders (``blas/`` + ``lapack/``,
or ``openblas-pthread/``), runs interleaved, and the process reports the BLAS it really loaded.
Only the job is timed, not the making of its synthetic data:

* ``kriging``: ``bench/kriging.py``'s GeoML job (ordinary kriging, 5,000 points onto 1,000 x 1,000
  cells, k = 32, two GeoTIFFs), with 2 workers;
* ``sam``: Spectral Angle Mapper on 400,000 synthetic 224-band pixels against 77 references;
* ``kmeans``: scikit-learn k-means (6 clusters, 4 starts) and PCA on 200,000 x 12 synthetic values.

Printed: each job's median wall time over ``--runs`` (default 3) with its spread, per BLAS, and the
ratio reference / OpenBLAS; the 1-minute load average before each round. Needs Debian's library
layout (both libraries installed: ``libblas3 liblapack3 libopenblas0-pthread``); elsewhere it says so
and skips.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from geoml_qgis.core.blas import DEBIAN_FOLDERS, debian_folders  # noqa: E402

FOLDERS = {family: debian_folders(family) for family in DEBIAN_FOLDERS}


def job_kriging() -> Callable[[], None]:
    sys.path.insert(0, str(ROOT / "bench"))
    from kriging import run_ours

    def run() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            run_ours(1000, tmp, 2)
    return run


def job_sam() -> Callable[[], None]:
    from geoml_qgis.core.hyperspectral.sam import SpectralAngleMapper

    rng = np.random.default_rng(0)
    refs = rng.uniform(0.05, 0.9, (77, 224))
    sam = SpectralAngleMapper(refs, np.arange(77) % 12, [f"c{i}" for i in range(12)])
    pixels = (refs[rng.integers(0, 77, 400_000)] * rng.uniform(0.5, 1.5, (400_000, 1))).astype(np.float32)
    pixels += rng.normal(0, 0.01, pixels.shape).astype(np.float32)
    return lambda: [sam.predict(pixels[s:s + 65536]) for s in range(0, len(pixels), 65536)]


def job_kmeans() -> Callable[[], None]:
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 3, (6, 12))
    X = centres[rng.integers(0, 6, 200_000)] + rng.normal(size=(200_000, 12))
    return lambda: (KMeans(6, n_init=4, random_state=0).fit(X), PCA(5).fit_transform(X))


JOBS = {"kriging": job_kriging, "sam": job_sam, "kmeans": job_kmeans}


def run_job(name: str) -> None:
    """Child process: prepare the job's data, time the job, report it and the BLAS actually loaded."""
    from geoml_qgis.core.blas import numpy_blas

    run = JOBS[name]()
    t0 = time.perf_counter()
    run()
    print(json.dumps({"seconds": time.perf_counter() - t0, "blas": numpy_blas()}))


def measure(name: str, blas: str) -> dict:
    env = dict(os.environ, LD_LIBRARY_PATH=":".join(map(str, FOLDERS[blas])))
    out = subprocess.run([sys.executable, __file__, "job", name], env=env, capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main(runs: int) -> None:
    present = [b for b, folders in FOLDERS.items() if all(f.is_dir() for f in folders)]
    if len(present) < 2:  # e.g. not Debian, or libblas3 / libopenblas0-pthread not installed
        print(f"skipped: this bench needs both Debian BLAS layouts {FOLDERS}; found: {present or 'none'}")
        return
    times = {(j, b): [] for j in JOBS for b in present}
    for r in range(runs):
        print(f"round {r + 1}: load {os.getloadavg()[0]:.2f}", flush=True)
        for name in JOBS:
            for blas in present:
                res = measure(name, blas)
                if res["blas"] != blas:
                    sys.exit(f"asked for {blas}, the process loaded {res['blas']}")
                times[name, blas].append(res["seconds"])
    print(f"\nmedian of {runs} (range), seconds")
    for name in JOBS:
        med = {b: statistics.median(times[name, b]) for b in present}
        spread = "  ".join(f"{b} {med[b]:6.2f} ({min(times[name, b]):.2f}-{max(times[name, b]):.2f})"
                           for b in present)
        print(f"{name:8s} {spread}  reference / openblas {med['reference'] / med['openblas']:.2f}x")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "job":
        run_job(sys.argv[2])
    else:
        main(int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 3)
