"""Run a computation over a grid block by block, writing each block as it comes."""
from __future__ import annotations

import contextlib
import os
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
from osgeo import gdal

from ..progress import ProgressCallback, report
from ..threads import ordered_map, resolve_workers, single_thread
from .grid import DEFAULT_BLOCK, Grid, Window
from .writer import BlockWriter


#: GDAL block cache while streaming (MB); GDAL's default (5 % of RAM) would let memory grow
#: with the raster up to that size. Override with the environment variable GEOML_GDAL_CACHE_MB.
STREAM_CACHE_MB = int(os.environ.get("GEOML_GDAL_CACHE_MB", "64"))


@contextlib.contextmanager
def bounded_gdal_cache(megabytes: int = STREAM_CACHE_MB) -> Iterator[None]:
    """Cap GDAL's block cache for the duration of a streamed computation, then restore it."""
    before = gdal.GetCacheMax()
    limit = megabytes * 1024 * 1024
    if before > limit:
        gdal.SetCacheMax(limit)
    try:
        yield
    finally:
        if before > limit:
            gdal.SetCacheMax(before)


def process_blocks(
    grid: Grid,
    compute: Callable[[Window], np.ndarray | Sequence[np.ndarray]],
    writers: BlockWriter | Sequence[BlockWriter],
    progress: ProgressCallback | None = None,
    block_size: int = DEFAULT_BLOCK,
    workers: int | None = 1,
    windows: Iterable[Window] | None = None,
) -> None:
    """For every window of *grid*, write ``compute(window)`` into the open *writers*.

    *compute* returns one array per writer (a single array when there is one
    writer), each ``(bands, h, w)`` or ``(h, w)``. Progress is reported after each
    block; a cancelled run raises :class:`~geoml_qgis.core.errors.Cancelled`
    between blocks, and the writers' ``with`` blocks remove their files. GDAL's block
    cache is capped meanwhile (:data:`STREAM_CACHE_MB`), so peak memory does not grow
    with the raster's size.

    *windows* replaces the grid's ``block_size`` squares (e.g. a cube's full-width strips).

    *workers* > 1 (None: every core) computes that many blocks at once in threads; *compute*
    must then be thread-safe, and should read its block itself: reading is then spread over
    the workers too (:meth:`RasterStack.read <.raster.RasterStack.read>` gives each thread its own
    GDAL handle; GDAL, numpy and torch release the GIL in their kernels). Every worker runs BLAS
    and torch on one thread (multi-threaded kernels round differently), and blocks are written
    in order by the calling thread, so the files do not depend on the worker count; at most
    ``2 * workers`` blocks are held at once.
    """
    single = isinstance(writers, BlockWriter)
    outs = [writers] if single else list(writers)
    windows = list(grid.windows(block_size) if windows is None else windows)
    total = len(windows)
    n = resolve_workers(workers)
    report(progress, 0.0)
    with bounded_gdal_cache(), single_thread():
        for i, (window, result) in enumerate(ordered_map(compute, windows, n)):
            for writer, block in zip(outs, [result] if single else result):
                writer.write(window, block)
            report(progress, (i + 1) / total)
