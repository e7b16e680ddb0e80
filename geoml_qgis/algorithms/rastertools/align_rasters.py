"""geoml:alignrasters — several rasters onto one grid, as one multi-band GeoTIFF."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterEnum,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ...compat import SOURCE_RASTER
from ...core.errors import GeoMLError
from ..common.base import GeoMLAlgorithm, progress_callback

METHODS = ["nearest", "bilinear", "cubic", "average", "mode"]


class AlignRasters(GeoMLAlgorithm):
    NAME = "alignrasters"
    DISPLAY_NAME = "Align rasters into a stack"
    PARAMETER_HELP = {
        "INPUTS": "Rasters to put on one grid as the bands of one stack; each is resampled onto the reference grid.",
    }
    GROUP = "rastertools"
    HELP = (
        "Warps every input raster onto one reference grid (its CRS, cell size and extent) and writes "
        "them as one multi-band GeoTIFF whose band names are the input names. Inputs are read block by "
        "block, so rasters larger than memory are fine. Nodata stays nodata.<br>"
        "<b>Reference</b>: the grid to align to (default: the first input).<br>"
        "<b>Resampling</b>: use <i>nearest</i> or <i>mode</i> for categorical rasters (geology, soil classes)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterMultipleLayers("INPUTS", self.tr("Input rasters"), SOURCE_RASTER))
        self.addParameter(QgsProcessingParameterRasterLayer("REFERENCE", self.tr("Reference grid"), optional=True))
        self.addParameter(QgsProcessingParameterEnum("RESAMPLING", self.tr("Resampling"), METHODS, defaultValue=1))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Aligned stack")))

    def execute(self, parameters, context, feedback):
        from ...core.io.align import align_rasters

        layers = self.parameterAsLayerList(parameters, "INPUTS", context)
        if not layers:
            raise GeoMLError("Choose at least one input raster.")
        reference = self.parameterAsRasterLayer(parameters, "REFERENCE", context)
        method = METHODS[self.parameterAsEnum(parameters, "RESAMPLING", context)]
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        paths = [lyr.source() for lyr in layers]
        names = align_rasters(
            paths, output, reference.source() if reference else None, method,
            parameters={"INPUTS": paths, "RESAMPLING": method}, progress=progress_callback(feedback),
            algorithm=self.id(),
        )
        feedback.pushInfo(f"Wrote {len(names)} bands: {', '.join(names)}")
        return {"OUTPUT": output}
