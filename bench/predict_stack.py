"""Block-wise prospectivity prediction: pixels per second and peak memory vs stack size.

A 10-band float32 feature stack of 2,500 x 2,500 and one of 5,000 x 5,000 cells (4x larger) are
written block by block; two models trained on 400 random labelled samples predict each in a fresh
process through ``ProspectivityModel.predict_stack`` (RasterStack -> process_blocks -> BlockWriter):
a dense network (the ``scratch`` model, same architecture as ``transfer``; one probability raster) and
a 10-member ``vae_ensemble`` (probability + aleatoric, epistemic and total uncertainty rasters).
Peak resident memory (ru_maxrss) is printed with the ratio. Target: the 5,000² stack's peak within
1.5x of the 2,500² stack's, i.e. memory does not grow with the raster. The 2,500² stack is also
predicted with one worker thread and with two (``workers``): the speed-up is printed with the 1-minute
load average of each run (target >= 1 Mpx/s for the ensemble with its four outputs).
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BANDS = 10
NAMES = [f"f{i}" for i in range(BANDS)]


def make_stack(path: str, n: int) -> None:
    from geoml_qgis.core.io import BlockWriter, Grid

    grid = Grid.from_bounds(0, 0, n * 10.0, n * 10.0, 10.0)
    rng = np.random.default_rng(0)
    with BlockWriter(path, grid, BANDS, band_names=NAMES) as w:
        for win in grid.windows():
            w.write(win, np.round(rng.normal(size=(BANDS, win.height, win.width)), 1).astype(np.float32))


def make_model(path: str, method: str) -> None:
    from geoml_qgis.core.prospectivity.model import ProspectivityModel

    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, BANDS))
    y = (X[:, 0] + X[:, 1] + rng.normal(size=400) > 1.5).astype(int)
    ProspectivityModel(method, NAMES, epochs=30, members=10).fit(X, y).save(path)


def predict(model: str, src: str, dst: str, workers: int = 0) -> dict:
    from geoml_qgis.core.prospectivity.model import ProspectivityModel

    m = ProspectivityModel.load(model)
    unc = {k: dst.replace(".tif", f"_{k}.tif") for k in ("aleatoric", "epistemic", "total")} \
        if m.method == "vae_ensemble" else None
    t0 = time.perf_counter()
    m.predict_stack(src, dst, uncertainty=unc, workers=workers or None)
    return {"seconds": time.perf_counter() - t0, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "load": os.getloadavg()[0]}


def child(n: int, workdir: str, model: str, tag: str, workers: int = 0) -> dict:
    src, dst = f"{workdir}/stack_{n}.tif", f"{workdir}/p_{tag}_{n}.tif"
    if not Path(src).exists():
        subprocess.run([sys.executable, __file__, "make", src, str(n)], check=True)
    out = subprocess.run([sys.executable, __file__, "predict", model, src, dst, str(workers)], check=True,
                         capture_output=True, text=True)
    for p in Path(workdir).glob(f"p_{tag}_{n}*"):
        p.unlink()
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    with tempfile.TemporaryDirectory(dir=ROOT) as workdir:
        for method, label in (("scratch", "dense network, 1 output"), ("vae_ensemble", "VAE ensemble (10 members), 4 outputs")):
            model = f"{workdir}/{method}.pt"
            make_model(model, method)
            one, two = child(2500, workdir, model, method, 1), child(2500, workdir, model, method, 2)
            small, large = child(2500, workdir, model, method), child(5000, workdir, model, method)
            ratio = large["peak_mb"] / small["peak_mb"]
            print(f"predict_stack: {label}, {BANDS}-band float32 stack, block by block")
            for n, r in ((2500, small), (5000, large)):
                print(f"  {n:,} x {n:,}: {r['seconds']:6.1f} s  {n * n / r['seconds'] / 1e6:5.2f} Mpx/s  "
                      f"peak {r['peak_mb']:7.1f} MB")
            print(f"  peak ratio 5000/2500 (4x the cells): {ratio:.2f}  "
                  f"(target <= 1.5: {'PASS' if ratio <= 1.5 else 'FAIL'})")
            print(f"  2,500²: 1 worker {one['seconds']:.1f} s (load {one['load']:.1f}), 2 workers {two['seconds']:.1f} s "
                  f"(load {two['load']:.1f}): speed-up {one['seconds'] / two['seconds']:.2f}x; "
                  f"{2500 ** 2 / two['seconds'] / 1e6:.2f} Mpx/s with 2 workers", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "make":
        make_stack(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "predict":
        print(json.dumps(predict(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 0)))
    else:
        main()
