"""Distance-to-feature evidence: distance from every cell to the nearest fault, contact or occurrence."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from osgeo import gdal, ogr, osr

from ..errors import GeoMLError
from ..io import Grid
from ..io.crs import require_projected

gdal.UseExceptions()
ogr.UseExceptions()


def distance_raster(vector: str | os.PathLike, grid: Grid, output: str) -> str:
    """Write a float32 GeoTIFF on *grid* with the distance (map units) to the nearest feature of *vector*.

    Features are burnt with ``ALL_TOUCHED`` and the distance is measured between cell
    centres (GDAL's proximity algorithm), so it is exact to within half a cell. The layer is
    reprojected to the grid's CRS when they differ.
    """
    require_projected(grid.crs_wkt, "the reference grid (distances are measured on it)")
    try:
        src = ogr.Open(str(vector))
    except RuntimeError as exc:
        raise GeoMLError(f"Cannot open '{vector}' as a vector layer: {exc}") from exc
    layer = src.GetLayer(0)
    if layer.GetFeatureCount() == 0:
        raise GeoMLError(f"'{Path(vector).name}' has no features to measure distances to.")
    mem = gdal.GetDriverByName("MEM").Create("", grid.width, grid.height, 1, gdal.GDT_Byte)
    mem.SetGeoTransform(grid.transform)
    if grid.crs_wkt:
        mem.SetProjection(grid.crs_wkt)
    layer_srs = layer.GetSpatialRef()
    if layer_srs is not None and grid.crs_wkt:
        target = osr.SpatialReference(wkt=grid.crs_wkt)
        if not layer_srs.IsSame(target):  # reproject through an in-memory copy
            mem_vec = ogr.GetDriverByName("Memory").CreateDataSource("")
            target.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            layer_srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
            ct = osr.CoordinateTransformation(layer_srs, target)
            out = mem_vec.CreateLayer("reprojected", target, layer.GetGeomType())
            for feat in layer:
                geom = feat.GetGeometryRef()
                if geom is None:
                    continue
                geom = geom.Clone()
                geom.Transform(ct)
                f = ogr.Feature(out.GetLayerDefn())
                f.SetGeometry(geom)
                out.CreateFeature(f)
            src, layer = mem_vec, out
    gdal.RasterizeLayer(mem, [1], layer, burn_values=[1], options=["ALL_TOUCHED=TRUE"])
    if mem.GetRasterBand(1).ReadAsArray().max() == 0:
        raise GeoMLError(f"No feature of '{Path(vector).name}' falls inside the reference grid; check the layer's CRS and extent.")
    drv = gdal.GetDriverByName("GTiff")
    dst = drv.Create(output, grid.width, grid.height, 1, gdal.GDT_Float32, ["TILED=YES", "COMPRESS=DEFLATE"])
    dst.SetGeoTransform(grid.transform)
    if grid.crs_wkt:
        dst.SetProjection(grid.crs_wkt)
    band = dst.GetRasterBand(1)
    band.SetDescription(f"dist_{Path(vector).stem}")
    gdal.ComputeProximity(mem.GetRasterBand(1), band, ["VALUES=1", "DISTUNITS=GEO"])
    band.FlushCache()
    dst = None  # noqa: F841 - closes the file
    return output


def distance_rasters(vectors: Sequence[str | os.PathLike], grid: Grid, folder: str) -> list[str]:
    """One distance raster per vector layer, written into *folder*; returns their paths."""
    paths = []
    for i, v in enumerate(vectors):
        paths.append(distance_raster(v, grid, os.path.join(folder, f"{i}_dist_{Path(v).stem}.tif")))
    return paths
