"""geoml:unmixabundances — abundances of library endmembers per pixel (FCLS or NNLS) with an RMSE band."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ...core.hyperspectral.unmix import METHODS
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.parameters import enum_choice, enum_parameter


class UnmixAbundances(GeoMLAlgorithm):
    NAME = "unmixabundances"
    DISPLAY_NAME = "Unmix abundances"
    GROUP = "hyperspectral"
    HELP = (
        "Estimates, in every pixel, the fractions of library minerals whose linear mixture best reproduces the "
        "spectrum (linear spectral unmixing). Spectra of the library with the same name are averaged into one "
        "endmember; the library is resampled onto the cube's bands (Gaussian response from band centre and "
        "FWHM), keeping the bands where every endmember has values.<br>"
        "<b>Input cube</b>: ENVI or GeoTIFF reflectance (0-1, like the library) with band wavelengths.<br>"
        "<b>Spectral library</b>: ENVI .sli (+ .hdr) or CSV, as for <i>Spectral Angle Mapper</i>.<br>"
        "<b>Method</b>: fcls, fully constrained least squares (fractions >= 0 summing to 1: the usual choice when "
        "the library holds every material of the scene and the cube is well calibrated), or nnls, non-negative "
        "least squares (fractions >= 0; their sum absorbs brightness, e.g. shade or topography). Both are exact "
        "solutions.<br>"
        "Output: one band per endmember (abundance) and a last band with the RMS residual in reflectance units: "
        "high where the library misses a material of the pixel."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Input cube")))
        self.addParameter(QgsProcessingParameterFile("LIBRARY", self.tr("Spectral library (.sli or .csv)"),
                                                     fileFilter="Spectral libraries (*.sli *.hdr *.csv);;All files (*.*)"))
        self.addParameter(enum_parameter("METHOD", self.tr("Method"), METHODS, "fcls"))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Abundances")))

    def execute(self, parameters, context, feedback):
        from ...core.hyperspectral.library import read_library
        from ...core.hyperspectral.unmixmap import unmix_cube

        cube = self.parameterAsRasterLayer(parameters, "INPUT", context).source()
        library_path = self.parameterAsFile(parameters, "LIBRARY", context)
        method = enum_choice(self, parameters, "METHOD", METHODS, context)
        out = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        summary = unmix_cube(cube, read_library(library_path), out, method,
                             parameters={"INPUT": cube, "LIBRARY": library_path, "METHOD": method},
                             warn=feedback.pushWarning, progress=progress_callback(feedback))
        feedback.pushInfo("Mean abundance: " + ", ".join(f"{k} {v:.3f}" for k, v in summary["mean_abundance"].items())
                          + f"; median RMSE {summary['median_rmse']:.4f} on {summary['bands_used']} bands")
        return {"OUTPUT": out}
