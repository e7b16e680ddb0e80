"""Block-wise prospectivity prediction: pixels per second and peak memory vs stack size.

A 10-band float32 feature stack of 2,500 x 2,500 and one of 5,000 x 5,000 cells (4x larger) are
written block by block; two models trained on 400 random labelled samples predict each in a fresh
process through ``ProspectivityModel.predict_stack`` (RasterStack -> process_blocks -> BlockWriter):
a dense network (the ``scratch`` model, same architecture as ``transfer``; one probability raster) and
a 10-member ``vae_ensemble`` (probability + aleatoric, epistemic and total uncertainty rasters).
Peak resident memory (ru_maxrss) is printed with the ratio. Target: the 5,000² stack's peak within
1.5x of the 2,500² stack's, i.e. memory does not grow with the raster. The 2,500² stack is also
predicted with one worker thread and with two (``workers``): the speed-up is printed with the 1-minute
load average and the CPU seconds of each run (target >= 1 Mpx/s for the ensemble with its four outputs,
speed-up >= 1.7x). The 1-worker run is the same-run reference of the 2-worker one, and the machine's own
2-process scaling (``_ceiling.py``: compute-bound and memory-bound jobs) is measured beside it. The parts of the
pipeline are timed apart, one thread each (reading every block; writing the outputs with the final flush),
so the share that the workers cannot split is visible.

Options: ``--device cpu|auto|cuda`` (the ensemble's torch device; default cpu), ``--size N`` (side of
the smaller stack, default 2500), ``--no-memory`` (skip the 4x larger stack and its peak-memory ratio),
``--methods scratch,vae_ensemble``. Needs numpy, GDAL's Python bindings and torch (no QGIS, no venv):
``python3 bench/predict_stack.py`` from the repository's root or anywhere.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _ceiling import ceiling_line

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


def predict(model: str, src: str, dst: str, workers: int = 0, device: str = "cpu") -> dict:
    from geoml_qgis.core.prospectivity.model import ProspectivityModel

    m = ProspectivityModel.load(model)
    unc = {k: dst.replace(".tif", f"_{k}.tif") for k in ("aleatoric", "epistemic", "total")} \
        if m.method == "vae_ensemble" else None
    t0, c0 = time.perf_counter(), time.process_time()
    m.predict_stack(src, dst, uncertainty=unc, workers=workers or None, device=device)
    return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "load": os.getloadavg()[0]}


def parts(src: str, dst: str, outputs: int) -> dict:
    """The block pipeline's parts, one thread, as ``predict_stack`` runs them: reading every block of the
    stack alone, then writing *outputs* float32 rasters of its size (the first band's values) alone, final
    flush included. The prediction is the rest of the 1-worker run."""
    from geoml_qgis.core.io import BlockWriter, RasterStack
    from geoml_qgis.core.io.blocks import bounded_gdal_cache

    with RasterStack([src]) as stack, bounded_gdal_cache():
        windows = list(stack.windows(512))
        read_s, first = 0.0, []
        for win in windows:
            t0 = time.perf_counter()
            block = stack.read(win)
            read_s += time.perf_counter() - t0
            first.append(block[0].copy())  # one band kept
        paths = [dst.replace(".tif", f"_{k}.tif") for k in range(outputs)]
        t0 = time.perf_counter()
        writers = [BlockWriter(p, stack.grid, 1, "float32").__enter__() for p in paths]
        for win, block in zip(windows, first):
            for w in writers:
                w.write(win, block)
        for w in writers:
            w.__exit__(None, None, None)
        write_s = time.perf_counter() - t0
    return {"read_s": read_s, "write_s": write_s}


def child(n: int, workdir: str, model: str, tag: str, workers: int = 0, device: str = "cpu") -> dict:
    src, dst = f"{workdir}/stack_{n}.tif", f"{workdir}/p_{tag}_{n}.tif"
    if not Path(src).exists():
        subprocess.run([sys.executable, __file__, "make", src, str(n)], check=True)
    out = subprocess.run([sys.executable, __file__, "predict", model, src, dst, str(workers), device], check=True,
                         capture_output=True, text=True)
    for p in Path(workdir).glob(f"p_{tag}_{n}*"):
        p.unlink()
    return json.loads(out.stdout.strip().splitlines()[-1])


def _line(n: int, r: dict) -> str:
    return (f"{r['seconds']:6.1f} s  {n * n / r['seconds'] / 1e6:5.2f} Mpx/s  ({r['cpu_s']:.1f} CPU s, "
            f"{n * n / r['cpu_s'] / 1e6:.2f} Mpx per CPU s)  peak {r['peak_mb']:7.1f} MB  load {r['load']:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", help="torch device of the ensemble: cpu (default), auto or cuda")
    ap.add_argument("--size", type=int, default=2500, help="side of the smaller stack (default 2500)")
    ap.add_argument("--no-memory", action="store_true", help="skip the 4x larger stack (peak-memory ratio)")
    ap.add_argument("--methods", default="scratch,vae_ensemble", help="comma-separated: scratch, vae_ensemble")
    args = ap.parse_args()
    n, big = args.size, 2 * args.size
    labels = {"scratch": "dense network, 1 output", "vae_ensemble": "VAE ensemble (10 members), 4 outputs"}
    with tempfile.TemporaryDirectory(dir=ROOT) as workdir:
        for method in args.methods.split(","):
            model = f"{workdir}/{method}.pt"
            make_model(model, method)
            one = child(n, workdir, model, method, 1, args.device)
            two = child(n, workdir, model, method, 2, args.device)
            every = child(n, workdir, model, method, 0, args.device)
            part = json.loads(subprocess.run([sys.executable, __file__, "parts", f"{workdir}/stack_{n}.tif",
                                              f"{workdir}/parts.tif", str(4 if method == "vae_ensemble" else 1)],
                                             check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
            print(f"predict_stack: {labels[method]}, {BANDS}-band float32 stack, block by block, device {args.device}")
            print(f"  {n:,}², 1 worker:       {_line(n, one)}")
            print(f"  {n:,}², 2 workers:      {_line(n, two)}")
            print(f"  {n:,}², every core ({os.cpu_count()}): {_line(n, every)}")
            print(f"  2-worker speed-up over 1 worker: {one['seconds'] / two['seconds']:.2f}x (target >= 1.7 on quiet "
                  f"cores); {n * n / two['seconds'] / 1e6:.2f} Mpx/s with 2 workers", flush=True)
            print(ceiling_line())
            rest = one["seconds"] - part["read_s"] - part["write_s"]
            print(f"  parts of the 1-worker run, one thread each: reading the blocks {part['read_s']:.1f} s, writing the "
                  f"outputs with the final flush {part['write_s']:.1f} s, prediction and the rest {rest:.1f} s; reading "
                  "and predicting run in the workers, writing in the calling thread beside them", flush=True)
            if not args.no_memory:
                large = child(big, workdir, model, method, 0, args.device)
                ratio = large["peak_mb"] / every["peak_mb"]
                print(f"  {big:,}², every core: {_line(big, large)}")
                print(f"  peak ratio {big}/{n} (4x the cells): {ratio:.2f}  (target <= 1.5: {'PASS' if ratio <= 1.5 else 'FAIL'})",
                      flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "make":
        make_stack(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "parts":
        print(json.dumps(parts(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    elif len(sys.argv) > 1 and sys.argv[1] == "predict":
        print(json.dumps(predict(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])))
    else:
        main()
