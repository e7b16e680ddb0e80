"""geoml:classifyhyperspectral — a class map of a cube from a trained spectral CNN, block by block."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ...compat import NUMBER_DOUBLE
from ..common.base import GeoMLAlgorithm, progress_callback


class ClassifyHyperspectral(GeoMLAlgorithm):
    NAME = "classifyhyperspectral"
    DISPLAY_NAME = "Classify hyperspectral cube (1D CNN)"
    GROUP = "hyperspectral"
    REQUIRES = ("torch",)
    HELP = (
        "Maps minerals in a hyperspectral cube with a model from <i>Train spectral classifier</i>, pixel by "
        "pixel from the spectrum alone. The cube is read in strips of rows, so cubes larger than memory work.<br>"
        "<b>Input cube</b>: ENVI (.hdr + data) or GeoTIFF with band wavelengths (and FWHM if known) in its "
        "metadata; bands flagged bad (ENVI 'bbl') or holding no data are left out; NaN or nodata pixels stay "
        "no data. If the cube's bands differ from the model's, the cube is resampled onto them (a warning says "
        "so); a cube covering less than 90 % of the model's spectral range is refused.<br>"
        "<b>Model</b>: the model file.<br>"
        "<b>Minimum confidence</b>: pixels whose top class probability is lower are left unclassified (0).<br>"
        "Outputs: <b>classes</b> (byte GeoTIFF: 1 = first class of the training library, 0 = unclassified, 255 = "
        "no data; class names and colours are stored in the file) and <b>confidence</b> (the top probability, 0-1)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Input cube")))
        self.addParameter(QgsProcessingParameterFile("MODEL", self.tr("Model file"), fileFilter="GeoML model (*.pt)"))
        self.addParameter(QgsProcessingParameterNumber("MIN_CONFIDENCE", self.tr("Minimum confidence"),
                                                       NUMBER_DOUBLE, 0.0, minValue=0.0, maxValue=1.0))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_CLASSES", self.tr("Classes")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_CONFIDENCE", self.tr("Confidence"), optional=True))

    def execute(self, parameters, context, feedback):
        from ...core.hyperspectral.classify import classify_cnn
        from ...core.hyperspectral.cnn import SpectralCNN
        from ...core.io.provenance import file_sha256

        cube = self.parameterAsRasterLayer(parameters, "INPUT", context).source()
        model_path = self.parameterAsFile(parameters, "MODEL", context)
        model = SpectralCNN.load(model_path)
        min_conf = self.parameterAsDouble(parameters, "MIN_CONFIDENCE", context)
        out_classes = self.parameterAsOutputLayer(parameters, "OUTPUT_CLASSES", context)
        out_conf = self.parameterAsOutputLayer(parameters, "OUTPUT_CONFIDENCE", context) or None
        counts = classify_cnn(cube, model, out_classes, out_conf, min_conf,
                              parameters={"INPUT": cube, "MODEL": model_path, "MIN_CONFIDENCE": min_conf},
                              model_hash=file_sha256(model_path), warn=feedback.pushWarning, algorithm=self.id(),
                              progress=progress_callback(feedback))
        feedback.pushInfo("Pixels per class: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return {"OUTPUT_CLASSES": out_classes, "OUTPUT_CONFIDENCE": out_conf}
