"""Peak memory of block-wise raster processing must not grow with the raster's size.

For a 2,000 x 2,000 and an 8,000 x 8,000 single-band float32 raster (written block by
block first), a fresh process reads it block by block, computes sqrt(|v|) + 1 and writes the
result block by block; its peak resident memory (ru_maxrss) is printed with the ratio.
Target: the larger raster's peak within 1.5x of the smaller's.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_input(path: str, n: int) -> None:
    from geoml_qgis.core.io import BlockWriter, Grid

    grid = Grid.from_bounds(0, 0, n * 10.0, n * 10.0, 10.0)
    rng = np.random.default_rng(0)
    with BlockWriter(path, grid) as w:
        for win in grid.windows():
            w.write(win, rng.normal(size=(win.height, win.width)).astype(np.float32))


def process(src: str, dst: str) -> dict:
    from geoml_qgis.core.io import BlockWriter, RasterStack
    from geoml_qgis.core.io.blocks import process_blocks

    t0 = time.perf_counter()
    with RasterStack([src]) as stack, BlockWriter(dst, stack.grid) as w:
        process_blocks(stack.grid, lambda win: np.sqrt(np.abs(stack.read(win))) + 1, w)
    return {"seconds": time.perf_counter() - t0, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def child(n: int, workdir: str) -> dict:
    src, dst = f"{workdir}/in_{n}.tif", f"{workdir}/out_{n}.tif"
    subprocess.run([sys.executable, __file__, "make", src, str(n)], check=True)
    out = subprocess.run([sys.executable, __file__, "process", src, dst], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    with tempfile.TemporaryDirectory(dir=ROOT) as workdir:
        small, large = child(2000, workdir), child(8000, workdir)
    ratio = large["peak_mb"] / small["peak_mb"]
    print("raster_io: block-wise read -> compute -> write, single band float32")
    print(f"  2,000 x 2,000: {small['seconds']:6.2f} s  peak {small['peak_mb']:7.1f} MB")
    print(f"  8,000 x 8,000: {large['seconds']:6.2f} s  peak {large['peak_mb']:7.1f} MB  ({64e6 / large['seconds'] / 1e6:.1f} Mpx/s)")
    print(f"  peak ratio 8000/2000: {ratio:.2f}  (target <= 1.5: {'PASS' if ratio <= 1.5 else 'FAIL'})")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "make":
        make_input(sys.argv[2], int(sys.argv[3]))
    elif len(sys.argv) > 1 and sys.argv[1] == "process":
        print(json.dumps(process(sys.argv[2], sys.argv[3])))
    else:
        main()
