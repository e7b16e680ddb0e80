"""Hybrid predictor: training time and prediction throughput.

Training: Meuse zinc (155 samples, TRANSFORM=log, covariates dist and elevation, k = 16,
up to 200 epochs with early stopping, ensemble of 3), the final model as `geoml:trainhybridpredictor`
fits it (its blocked cross-validation repeats this once per fold).
Prediction: the full pipeline of `geoml:predicthybrid` (neighbour sequences, kriging features,
covariates warped on the fly, 3 networks, two GeoTIFFs) on the whole 1,000 x 1,000 grid over the
Meuse extent (4.2 m cells), with one worker thread and with two (``workers``; the 1-worker run is the
2-worker run's reference). Only cells inside the covariates' coverage (about 287,000 of the million)
are predicted; the others are nodata and cost almost nothing, so the headline figure is *predicted*
cells per second, with the all-cells rate beside it, labelled. The whole grid keeps fixed costs
(opening files, the first blocks) small against the work, so the speed-up is the work's. Each run also
prints the 1-minute load average and its CPU seconds (predicted cells per CPU second tells the work's
cost on a busy machine). The machine's own 2-process scaling (``_ceiling.py``) is printed beside the
speed-up. It took 22-47 s on this round's loaded 2-core machine (load 5-8).

Options: ``--device cpu|auto|cuda`` (the networks' torch device, training and prediction;
default cpu), ``--rows N`` (predict only a 1,000 x N strip through the middle of the grid instead,
for a quick look while developing). Needs numpy, pandas, scipy, GDAL's Python bindings and torch
(no QGIS, no venv).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _ceiling import ceiling_line
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MEUSE = ROOT / "geoml_qgis" / "sample_data" / "meuse"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--device", default="cpu", help="torch device of the networks: cpu (default), auto or cuda")
    ap.add_argument("--rows", type=int, default=1000,
                    help="height of the predicted strip through the grid's middle (default 1000: the whole grid)")
    args = ap.parse_args()
    from geoml_qgis.core.geostats.variogram import experimental_variogram, fit_variogram
    from geoml_qgis.core.hybrid.features import check_covariates
    from geoml_qgis.core.hybrid.predictor import HybridPredictor
    from geoml_qgis.core.hybrid.rasters import predict_to_rasters
    from geoml_qgis.core.io import Grid, RasterStack
    from osgeo import gdal

    d = pd.read_csv(MEUSE / "meuse.txt")
    coords, zinc = d[["x", "y"]].to_numpy(float), d["zinc"].to_numpy(float)
    covs = [str(MEUSE / "grids" / "dist.tif"), str(MEUSE / "grids" / "dem.tif")]
    with RasterStack(covs) as stack:
        cov = check_covariates(stack.sample(coords[:, 0], coords[:, 1]), stack.band_names)
        xmin, ymin, xmax, ymax = stack.grid.bounds
        crs = stack.grid.crs_wkt
    model, _ = fit_variogram(experimental_variogram(coords, np.log(zinc)), "spherical")
    t0 = time.perf_counter()
    hp = HybridPredictor(model, neighbours=16, transform="log", epochs=200, ensemble=3).fit(coords, zinc, cov,
                                                                                           device=args.device)
    train_s = time.perf_counter() - t0
    pixel = max(xmax - xmin, ymax - ymin) / 1000
    rows = min(max(1, args.rows), 1000)
    top = (1000 - rows) // 2 if rows < 1000 else 0
    strip = Grid(1000, rows, (xmin, pixel, 0.0, ymax - top * pixel, 0.0, -pixel), crs)
    what = ("the whole 1,000 x 1,000 grid (long enough that fixed costs do not set the speed-up)" if rows == 1000
            else f"a 1,000 x {rows} strip of the 1,000 x 1,000 grid (a quick look: fixed costs weigh more)")
    times = {}
    with tempfile.TemporaryDirectory(dir=ROOT) as tmp:
        for workers in (1, 2):
            t0, c0 = time.perf_counter(), time.process_time()
            predict_to_rasters(hp, strip, f"{tmp}/p.tif", f"{tmp}/u.tif", covs, workers=workers, device=args.device)
            times[workers] = (time.perf_counter() - t0, os.getloadavg()[0], time.process_time() - c0)
        ds = gdal.Open(f"{tmp}/p.tif")
        band = ds.GetRasterBand(1)
        predicted = int((band.ReadAsArray() != band.GetNoDataValue()).sum())
        ds = None
    cells = strip.width * strip.height
    print(f"hybrid: Meuse zinc, 155 samples, log transform, covariates dist + elevation, k = 16, ensemble 3, "
          f"device {args.device}")
    print(f"  training (up to 200 epochs, early stopping): {train_s:6.1f} s; best epochs {hp.log_.best_epoch}")
    print(f"  prediction of {what}, {pixel:.1f} m cells: {predicted:,} of its {cells:,} cells inside the "
          "covariates' coverage are predicted, the others are nodata")
    for workers, (pred_s, load, cpu_s) in times.items():
        print(f"  prediction, {workers} worker(s): {pred_s:6.1f} s, {predicted / pred_s:,.0f} predicted cells/s "
              f"(target >= 100,000); all cells incl. nodata {cells / pred_s:,.0f} cells/s; load {load:.1f}; "
              f"{cpu_s:.1f} CPU s ({predicted / cpu_s:,.0f} predicted cells per CPU s)")
    print(f"  2-worker speed-up: {times[1][0] / times[2][0]:.2f}x (target >= 1.7 on quiet cores)")
    print(ceiling_line())


if __name__ == "__main__":
    main()
