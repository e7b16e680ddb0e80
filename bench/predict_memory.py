"""Prediction throughput in memory (no GDAL, no disk): the VAE ensemble and the hyperspectral CNN's
network, on the CPU and on a torch device (a GPU where there is one).

- VAE ensemble: 10 members trained briefly on 400 synthetic rows of 10 features; probability and
  the three uncertainty outputs of 2,000,000 cells (``VAEEnsemble.predict_uncertainty``).
- CNN: a :class:`SpectralCNN` trained briefly on synthetic smooth spectra (224 bands, 400-2500 nm,
  64 network inputs); 1,000,000 spectra already resampled and preprocessed go through the network
  (``SpectralCNN.predictor``), top class and its probability kept, as ``classify_cnn`` does.

Reference in the same run: one CPU core (one torch thread, as each worker of the block-wise
predictors runs). The device's figures and the largest difference from the CPU's
outputs are printed beside it. This is the compute only: the raster benches (``predict_stack.py``,
``hyperspectral.py``) add reading and writing GeoTIFFs.

Usage: ``python3 bench/predict_memory.py [--device auto|cuda|cpu] [--cells N]``. Needs numpy and torch
only (run from anywhere; the repository's root is put on the path).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(func, sync):
    func()  # warm-up (first call of a traced network, device transfer)
    sync()
    t0, c0 = time.perf_counter(), time.process_time()
    out = func()
    sync()
    return time.perf_counter() - t0, time.process_time() - c0, out


def ensemble(device, n: int, sync) -> None:
    from geoml_qgis.core.prospectivity.ensemble import VAEEnsemble

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 10)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] + rng.normal(size=400) > 1.5).astype(int)
    ens = VAEEnsemble({"members": 10, "epochs": 30}).fit(X, y)
    cells = np.round(rng.normal(size=(n, 10)), 1).astype(np.float32)
    res = {}
    for dev in dict.fromkeys(("cpu", device)):
        dt, cpu, res[dev] = _timed(lambda: ens.predict_uncertainty(cells, device=dev, mutual_information=False), sync)
        print(f"  VAE ensemble (10 members, 4 outputs), {dev}: {dt:6.2f} s  {n / dt / 1e6:6.2f} Mpx/s  "
              f"({n / cpu / 1e6:.2f} Mpx per CPU s)", flush=True)
    if device != "cpu":
        diff = max(float(np.abs(res["cpu"][k] - res[device][k]).max()) for k in res["cpu"])
        print(f"  largest |CPU - {device}| over the four outputs: {diff:.1e}")


def cnn(device, n: int, sync) -> None:
    import torch

    from geoml_qgis.core.device import resolve_device
    from geoml_qgis.core.hyperspectral.cnn import SpectralCNN

    rng = np.random.default_rng(1)
    wl = np.linspace(400.0, 2500.0, 224)
    centres = rng.uniform(500, 2400, size=(8, 3))
    basis = np.stack([1 - 0.3 * np.exp(-((wl[None, :] - c[:, None]) / 40.0) ** 2).sum(0) for c in centres])
    labels = rng.integers(0, 8, 4000)
    X = (basis[labels] * rng.uniform(0.5, 1.0, (4000, 1)) + rng.normal(0, 0.01, (4000, 224))).astype(np.float32)
    model = SpectralCNN(epochs=3).fit(X, labels, wl, np.full(224, 10.0), [f"c{i}" for i in range(8)])
    Z = model._features(X[rng.integers(0, 4000, n)], wl, np.full(224, 10.0))
    res = {}
    for name in dict.fromkeys(("cpu", device)):
        dev = resolve_device(name)
        net = model.predictor(dev)
        step = 1024 if dev.type == "cpu" else 1 << 16

        def run():
            prob, arg = np.empty(n, np.float32), np.empty(n, np.int64)
            with torch.inference_mode():
                for s in range(0, n, step):
                    p, a = torch.softmax(net(torch.from_numpy(Z[s:s + step]).to(dev)), 1).max(1)
                    prob[s:s + step], arg[s:s + step] = p.cpu().numpy(), a.cpu().numpy()
            return prob, arg

        dt, cpu, res[name] = _timed(run, sync)
        print(f"  CNN network (64 inputs, 8 classes), {name}: {dt:6.2f} s  {n / dt / 1e6:6.2f} Mpx/s  "
              f"({n / cpu / 1e6:.2f} Mpx per CPU s)", flush=True)
    if device != "cpu":
        print(f"  CPU vs {device}: largest confidence difference {np.abs(res['cpu'][0] - res[device][0]).max():.1e}, "
              f"{int((res['cpu'][1] != res[device][1]).sum())} of {n:,} top classes differ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="auto", help="device measured beside the CPU: auto (default), cuda or cpu")
    ap.add_argument("--cells", type=int, default=2_000_000, help="cells for the ensemble (the CNN gets half)")
    args = ap.parse_args()
    import torch

    from geoml_qgis.core.device import resolve_device

    torch.set_num_threads(1)
    device = resolve_device(args.device).type
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    print(f"predict_memory: torch {torch.__version__}, device {device}, {os.cpu_count()} CPU cores, load "
          f"{os.getloadavg()[0]:.1f}")
    ensemble(device, args.cells, sync)
    cnn(device, args.cells // 2, sync)


if __name__ == "__main__":
    main()
