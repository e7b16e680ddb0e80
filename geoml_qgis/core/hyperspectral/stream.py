"""A cube computed strip by strip in several threads, band by band, each strip's result written in order."""
from __future__ import annotations

from typing import Callable, Iterator, TypeVar

import numpy as np

from ..io.blocks import bounded_gdal_cache
from ..io.writer import TILE, BlockWriter
from ..progress import ProgressCallback, report
from ..threads import ordered_map, resolve_workers, single_thread
from .cube import Cube
from .reflectance import check_reflectance

E = TypeVar("E")
#: ``compute(values (b, n) float32, valid (n,) bool) -> (block (count, n), extra)``
Compute = Callable[[np.ndarray, np.ndarray], "tuple[np.ndarray, E]"]


def stream_strips(cube: Cube, bands: np.ndarray, compute: Compute, writer: BlockWriter, consequence: str,
                  warn: Callable[[str], None] | None = None, progress: ProgressCallback | None = None,
                  max_pixels: int = 65536, workers: int | None = None, share: float = 1.0) -> Iterator[E]:
    """Compute every strip of *cube* on its *bands* and write the blocks into the open *writer*, in order.

    *workers* threads (None: every core) each read a strip (:meth:`Cube.read_bands`) and compute it
    with BLAS on one thread; the calling thread writes, reports progress up to *share* (a cancelled
    run raises between strips) and yields each strip's ``extra`` in order. The first strip with valid
    pixels is checked to hold reflectance (*consequence* completes the warning). The files do not
    depend on the number of workers.

    Strips end on the output's rows of tiles (:meth:`Cube.strips`); each completed row of tiles is
    compressed and stored while the workers go on, not all at the end (a serial tail of the run).
    """
    checked = []  # set once the first strip with valid pixels has been looked at

    def work(window):
        values, valid = cube.read_bands(window, bands)
        notes: list[str] = []
        if not checked and valid.any():
            check_reflectance(values.T, valid, cube.name, consequence, notes.append)
        block, extra = compute(values, valid)
        return bool(valid.any()), notes, block, extra

    report(progress, 0.0)
    with bounded_gdal_cache(), single_thread():
        for window, (any_valid, notes, block, extra) in ordered_map(work, cube.strips(max_pixels),
                                                                    resolve_workers(workers)):
            if any_valid and not checked:
                checked.append(True)
                for note in notes:
                    if warn:
                        warn(note)
            writer.write(window, block.reshape(-1, window.height, window.width))
            end = window.row_off + window.height
            if end % TILE == 0 and end < cube.height:
                writer.flush()
            report(progress, share * (window.row_off + window.height) / cube.height)
            yield extra

