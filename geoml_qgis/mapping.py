"""Turning GeoML outputs into a styled QGIS project and rendered map images.

Used by ``make demo`` and usable from the QGIS Python console:
:func:`build_project` loads output files grouped by capability (GeoTIFFs pick up the
``.qml`` style written beside them, GeoPackages their default style) and saves a
``.qgz``; :func:`render_group_maps` exports one PNG map per group with a title,
legend and scale bar, through a print layout rendered headless.
"""
from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsLayoutExporter,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemScaleBar,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsPrintLayout,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsReferencedRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QFont

from .compat import EXPORT_SUCCESS, LAYOUT_MILLIMETERS

RASTER_SUFFIXES = {".tif", ".tiff"}
VECTOR_SUFFIXES = {".gpkg", ".shp"}


def load_layer(path: str | Path, name: str | None = None):
    """A raster or vector layer for *path*, with its default style; ``None`` if not a map layer
    (not a raster or vector file, unreadable, or a table without geometry)."""
    p = Path(path)
    label = name or p.stem.replace("_", " ")
    if p.suffix.lower() in RASTER_SUFFIXES:
        layer = QgsRasterLayer(str(p), label, "gdal")
    elif p.suffix.lower() in VECTOR_SUFFIXES:
        layer = QgsVectorLayer(str(p), label, "ogr")
    else:
        return None
    if not layer.isValid() or (isinstance(layer, QgsVectorLayer) and not layer.isSpatial()):
        return None  # tables without geometry are not map layers
    return layer


def build_project(groups: Mapping[str, Sequence[str | Path]], path: str | Path, crs: str = "EPSG:28992") -> QgsProject:
    """Save a project at *path* with one layer-tree group per key of *groups*.

    Files are listed main result first. Vector layers are placed above rasters in each
    group and shown with the group's first raster; the others are loaded but hidden. The
    project CRS is *crs*
    (layers in other CRSs are reprojected on the fly). Paths are stored relative.
    """
    project = QgsProject()
    project.setCrs(QgsCoordinateReferenceSystem(crs))
    root = project.layerTreeRoot()
    for group_name, files in groups.items():
        layers = [lyr for lyr in (load_layer(f) for f in files) if lyr is not None]
        if not layers:
            continue
        group = root.addGroup(group_name)
        layers.sort(key=lambda lyr: isinstance(lyr, QgsRasterLayer))  # vectors first = drawn on top
        first_raster = next((lyr for lyr in layers if isinstance(lyr, QgsRasterLayer)), None)
        for layer in layers:
            project.addMapLayer(layer, False)
            node = group.addLayer(layer)
            # the group's map: its point layers over its first raster (the main result)
            node.setItemVisibilityChecked(isinstance(layer, QgsVectorLayer) or layer is first_raster)
    all_layers = list(project.mapLayers().values())
    if all_layers:
        project.viewSettings().setDefaultViewExtent(
            QgsReferencedRectangle(_group_extent(project, all_layers), project.crs()))
    project.writeEntryBool("Paths", "/Absolute", False)
    project.write(str(path))
    return project


def _group_extent(project: QgsProject, layers) -> QgsRectangle:
    extent = QgsRectangle()
    extent.setMinimal()
    for layer in layers:
        tr = QgsCoordinateTransform(layer.crs(), project.crs(), project)
        extent.combineExtentWith(tr.transformBoundingBox(layer.extent()))
    extent.scale(1.05)
    return extent


def render_group_maps(project: QgsProject, out_dir: str | Path, title_prefix: str = "GeoML") -> list[Path]:
    """Export one PNG per top-level group: the group's visible layers, legend, scale bar."""
    out_dir = Path(out_dir)
    images = []
    for group in project.layerTreeRoot().children():
        layers = [n.layer() for n in group.findLayers() if n.isVisible() and n.layer() is not None]
        if not layers:
            continue
        layout = QgsPrintLayout(project)
        layout.initializeDefaults()  # A4 landscape
        title = QgsLayoutItemLabel(layout)
        layout.addLayoutItem(title)
        title.setText(f"{title_prefix} — {group.name()}")
        title.setFont(QFont("DejaVu Sans", 18))
        title.attemptMove(QgsLayoutPoint(10, 6, LAYOUT_MILLIMETERS))
        title.attemptResize(QgsLayoutSize(220, 12, LAYOUT_MILLIMETERS))
        map_item = QgsLayoutItemMap(layout)
        layout.addLayoutItem(map_item)
        map_item.attemptMove(QgsLayoutPoint(10, 20, LAYOUT_MILLIMETERS))
        map_item.attemptResize(QgsLayoutSize(190, 180, LAYOUT_MILLIMETERS))
        map_item.setLayers(layers)
        map_item.setCrs(project.crs())
        map_item.setExtent(QgsRectangle(0, 0, 190, 180))  # item's aspect ratio; zoomToExtent keeps it
        map_item.zoomToExtent(_group_extent(project, layers))
        map_item.setFrameEnabled(True)
        legend = QgsLayoutItemLegend(layout)
        layout.addLayoutItem(legend)
        legend.setLinkedMap(map_item)
        legend.setAutoUpdateModel(False)
        model_root = legend.model().rootGroup()
        model_root.clear()
        for layer in layers:
            model_root.addLayer(layer)
        legend.setTitle("Legend")
        legend.attemptMove(QgsLayoutPoint(205, 20, LAYOUT_MILLIMETERS))
        scale = QgsLayoutItemScaleBar(layout)
        layout.addLayoutItem(scale)
        scale.setLinkedMap(map_item)
        scale.applyDefaultSize()
        scale.attemptMove(QgsLayoutPoint(12, 185, LAYOUT_MILLIMETERS))
        settings = QgsLayoutExporter.ImageExportSettings()
        settings.dpi = 110
        settings.exportMetadata = False  # GDAL cannot update PNG metadata in place
        target = out_dir / f"map_{_slug(group.name())}.png"
        result = QgsLayoutExporter(layout).exportToImage(str(target), settings)
        if result == EXPORT_SUCCESS:
            images.append(target)
    return images


def _slug(text: str) -> str:
    return "".join(c.lower() if c.isalnum() else "_" for c in text).strip("_")
