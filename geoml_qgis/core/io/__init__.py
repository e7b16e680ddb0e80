"""GDAL-based raster, vector and table I/O: block-wise, atomic, styled."""
from .atomic import atomic_path, write_text_atomic
from .crs import require_projected, same_crs, to_wkt
from .grid import DEFAULT_BLOCK, Grid, Window
from .provenance import file_sha256, provenance
from .raster import RasterStack, dataset_grid, open_raster, raster_grid, read_window
from .style import RasterStyle
from .vector import PointTable, numeric_column, points_from_fields, read_points, read_table, write_points
from .writer import BlockWriter

__all__ = [
    "atomic_path", "write_text_atomic", "require_projected", "same_crs", "to_wkt", "DEFAULT_BLOCK",
    "Grid", "Window", "file_sha256", "provenance", "RasterStack", "dataset_grid", "open_raster",
    "raster_grid", "read_window", "RasterStyle", "PointTable", "numeric_column", "points_from_fields",
    "read_points", "read_table", "write_points", "BlockWriter",
]
