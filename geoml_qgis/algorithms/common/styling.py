"""Default styles for vector outputs: applied when QGIS loads them, saved into GeoPackages.

Raster outputs need nothing here: the core writes a ``.qml`` beside every GeoTIFF,
which QGIS loads automatically.
"""
from __future__ import annotations

from typing import Callable, Mapping

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsClassificationQuantile,
    QgsGradientColorRamp,
    QgsGraduatedSymbolRenderer,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingUtils,
    QgsRendererCategory,
    QgsSymbol,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor

from ...core.io.style import RAMPS, category_color

RendererFactory = Callable[[QgsVectorLayer], object]


def categorized(field: str, labels: Mapping[int, str]) -> RendererFactory:
    """Categories *labels* (value -> label) of *field*, with the plugin's class palette."""

    def make(layer: QgsVectorLayer):
        cats = []
        for value, label in sorted(labels.items()):
            symbol = QgsSymbol.defaultSymbol(layer.geometryType())
            symbol.setColor(QColor(category_color(int(value))))
            cats.append(QgsRendererCategory(int(value), symbol, str(label)))
        return QgsCategorizedSymbolRenderer(field, cats)

    return make


def graduated(field: str, ramp: str = "viridis", classes: int = 5) -> RendererFactory:
    """Quantile classes of *field* on one of :data:`~geoml_qgis.core.io.style.RAMPS`."""

    def make(layer: QgsVectorLayer):
        colors = RAMPS[ramp]
        color_ramp = QgsGradientColorRamp(QColor(colors[0]), QColor(colors[-1]))
        renderer = QgsGraduatedSymbolRenderer(field)
        renderer.setSourceColorRamp(color_ramp)
        renderer.setClassificationMethod(QgsClassificationQuantile())
        renderer.updateClasses(layer, classes)
        return renderer

    return make


def ranked(field: str = "rank", ramp: str = "spectral_r") -> RendererFactory:
    """One symbol per rank: rank 1 largest and at the hot end of *ramp*, labelled ``#1``, ``#2``..."""

    def make(layer: QgsVectorLayer):
        values = sorted(v for v in layer.uniqueValues(layer.fields().indexOf(field)) if v is not None)
        colors = RAMPS[ramp]
        cats = []
        for i, value in enumerate(values):
            t = i / (len(values) - 1) if len(values) > 1 else 0.0
            symbol = QgsSymbol.defaultSymbol(layer.geometryType())
            symbol.setColor(QColor(colors[round((1 - t) * (len(colors) - 1))]))
            symbol.setSize(5.0 - 2.5 * t)  # millimetres
            cats.append(QgsRendererCategory(value, symbol, f"#{int(value)}"))
        return QgsCategorizedSymbolRenderer(field, cats)

    return make


class _Styler(QgsProcessingLayerPostProcessorInterface):
    def __init__(self, factory: RendererFactory):
        super().__init__()
        self.factory = factory

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 - QGIS API
        if isinstance(layer, QgsVectorLayer):
            layer.setRenderer(self.factory(layer))
            layer.triggerRepaint()


def style_vector_output(alg, context, dest_id: str, factory: RendererFactory) -> None:
    """Style output *dest_id*: on load into the project, and as the GeoPackage's default style."""
    layer = QgsProcessingUtils.mapLayerFromString(dest_id, context)
    if isinstance(layer, QgsVectorLayer) and layer.isValid():
        layer.setRenderer(factory(layer))
        if layer.providerType() == "ogr" and ".gpkg" in layer.source().lower():
            layer.saveStyleToDatabase(layer.name(), "GeoML default style", True, "")
    if context.willLoadLayerOnCompletion(dest_id):
        styler = _Styler(factory)
        alg._stylers = getattr(alg, "_stylers", []) + [styler]  # keep alive until QGIS has used it
        context.layerToLoadOnCompletionDetails(dest_id).setPostProcessor(styler)
