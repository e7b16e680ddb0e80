"""geoml:spectralanglemapper — the Spectral Angle Mapper baseline, block by block."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ...compat import NUMBER_DOUBLE
from ..common.base import GeoMLAlgorithm, progress_callback


class SpectralAngleMapper(GeoMLAlgorithm):
    NAME = "spectralanglemapper"
    DISPLAY_NAME = "Spectral Angle Mapper"
    PARAMETER_HELP = {
        "OUTPUT_ANGLE": "Spectral angle (radians) to the best-matching library spectrum per pixel.",
    }
    GROUP = "hyperspectral"
    HELP = (
        "Classifies every pixel of a cube as the library spectrum with the smallest spectral angle "
        "(arccos of the normalised dot product), the classic baseline of mineral mapping; the angle ignores "
        "brightness. The library is resampled onto the cube's bands (Gaussian response from band centre and "
        "FWHM), keeping the bands where every library spectrum has values.<br>"
        "<b>Input cube</b>: ENVI or GeoTIFF with band wavelengths in its metadata.<br>"
        "<b>Spectral library</b>: ENVI .sli (+ .hdr) or CSV, as for <i>Train spectral classifier</i>; several "
        "spectra with the same name form one class.<br>"
        "<b>Maximum angle</b> (radians; 0.1 rad = 5.7°): pixels farther from every library spectrum are "
        "unclassified (0).<br>"
        "Outputs: <b>classes</b> (byte GeoTIFF, 1 = first class of the library, 0 = unclassified, 255 = no data, "
        "with class names and colours) and <b>angle</b> (radians to the best match)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Input cube")))
        self.addParameter(QgsProcessingParameterFile("LIBRARY", self.tr("Spectral library (.sli or .csv)"),
                                                     fileFilter="Spectral libraries (*.sli *.hdr *.csv);;All files (*.*)"))
        self.addParameter(QgsProcessingParameterNumber("MAX_ANGLE", self.tr("Maximum angle (radians)"),
                                                       NUMBER_DOUBLE, 0.1, minValue=0.0001, maxValue=3.1416))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_CLASSES", self.tr("Classes")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_ANGLE", self.tr("Spectral angle"), optional=True))

    def execute(self, parameters, context, feedback):
        from ...core.hyperspectral.classify import classify_sam
        from ...core.hyperspectral.library import read_library

        cube = self.parameterAsRasterLayer(parameters, "INPUT", context).source()
        library_path = self.parameterAsFile(parameters, "LIBRARY", context)
        max_angle = self.parameterAsDouble(parameters, "MAX_ANGLE", context)
        out_classes = self.parameterAsOutputLayer(parameters, "OUTPUT_CLASSES", context)
        out_angle = self.parameterAsOutputLayer(parameters, "OUTPUT_ANGLE", context) or None
        counts = classify_sam(cube, read_library(library_path), out_classes, out_angle, max_angle,
                              parameters={"INPUT": cube, "LIBRARY": library_path, "MAX_ANGLE": max_angle},
                              warn=feedback.pushWarning, progress=progress_callback(feedback), algorithm=self.id())
        feedback.pushInfo("Pixels per class: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return {"OUTPUT_CLASSES": out_classes, "OUTPUT_ANGLE": out_angle}
