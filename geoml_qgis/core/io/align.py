"""Align rasters onto one grid and write them as one multi-band GeoTIFF."""
from __future__ import annotations

import os
from typing import Mapping, Sequence

from ..progress import ProgressCallback
from .blocks import process_blocks
from .grid import DEFAULT_BLOCK, Grid
from .provenance import provenance
from .raster import RasterStack
from .style import RasterStyle
from .writer import BlockWriter


def align_rasters(
    paths: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    reference: Grid | str | os.PathLike | None = None,
    resampling: str | Sequence[str] = "bilinear",
    parameters: Mapping | None = None,
    progress: ProgressCallback | None = None,
    block_size: int = DEFAULT_BLOCK,
    algorithm: str = "geoml_qgis.core.io.align_rasters",
) -> list[str]:
    """Warp *paths* onto the *reference* grid and write a float32 stack to *output*.

    Returns the band names (one per input band, from band descriptions or file
    names). Nodata stays nodata; nothing is filled. *algorithm* names the caller in
    the output's provenance metadata.
    """
    with RasterStack(paths, reference, resampling) as stack:
        meta = provenance(algorithm, parameters)
        with BlockWriter(output, stack.grid, stack.count, "float32", band_names=stack.band_names,
                         metadata=meta, style=RasterStyle("continuous")) as writer:
            process_blocks(stack.grid, stack.read, writer, progress, block_size)
        return list(stack.band_names)
