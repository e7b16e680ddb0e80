"""Pixels of a grid under labelled points or polygons (for training from a cube)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from osgeo import gdal, ogr

from ..errors import GeoMLError
from ..io.grid import Grid

gdal.UseExceptions()
ogr.UseExceptions()


def label_pixels(grid: Grid, geometries_wkt: Sequence[str], labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows, columns and class names of the cells under each geometry (in the grid's CRS).

    Points give the cell that contains them; polygons the cells whose centres
    they contain. Geometries outside the grid give nothing. Returns
    ``(rows (n,), cols (n,), labels (n,))``; a cell under two geometries appears twice.
    """
    rows, cols, out = [], [], []
    x0, dx, _, y0, _, dy = grid.transform
    for wkt, label in zip(geometries_wkt, labels):
        if wkt is None or label is None or str(label).strip() == "":
            continue
        geom = ogr.CreateGeometryFromWkt(wkt)
        if geom is None or geom.IsEmpty():
            continue
        kind = ogr.GT_Flatten(geom.GetGeometryType())
        if kind in (ogr.wkbPoint, ogr.wkbMultiPoint):
            pts = [geom] if kind == ogr.wkbPoint else [geom.GetGeometryRef(i) for i in range(geom.GetGeometryCount())]
            for p in pts:
                r, c, inside = grid.rowcol(np.array([p.GetX()]), np.array([p.GetY()]))
                if inside[0]:
                    rows.append(int(r[0])), cols.append(int(c[0])), out.append(str(label))
            continue
        if kind not in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
            raise GeoMLError("Training labels must be points or polygons.")
        xmin, xmax, ymin, ymax = geom.GetEnvelope()
        c0 = max(int(np.floor((xmin - x0) / dx)), 0)
        c1 = min(int(np.ceil((xmax - x0) / dx)), grid.width)
        r0 = max(int(np.floor((y0 - ymax) / -dy)), 0)
        r1 = min(int(np.ceil((y0 - ymin) / -dy)), grid.height)
        if c1 <= c0 or r1 <= r0:
            continue
        mem = gdal.GetDriverByName("MEM").Create("", c1 - c0, r1 - r0, 1, gdal.GDT_Byte)
        mem.SetGeoTransform((x0 + c0 * dx, dx, 0.0, y0 + r0 * dy, 0.0, dy))
        src = ogr.GetDriverByName("Memory").CreateDataSource("")
        layer = src.CreateLayer("g")
        feat = ogr.Feature(layer.GetLayerDefn())
        feat.SetGeometry(geom)
        layer.CreateFeature(feat)
        gdal.RasterizeLayer(mem, [1], layer, burn_values=[1])
        rr, cc = np.nonzero(mem.GetRasterBand(1).ReadAsArray())
        rows.extend((rr + r0).tolist()), cols.extend((cc + c0).tolist()), out.extend([str(label)] * rr.size)
    if not rows:
        raise GeoMLError("No training point or polygon falls on the training cube (check that they overlap and share a CRS).")
    return np.asarray(rows), np.asarray(cols), out
