"""geoml:spectralfeaturefitting — absorption features compared in diagnostic windows: class and fit score."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ...compat import NUMBER_DOUBLE
from ...core.hyperspectral.features import DEFAULT_SFF_WINDOWS_TEXT
from ..common.base import GeoMLAlgorithm, progress_callback


class SpectralFeatureFittingAlgorithm(GeoMLAlgorithm):
    NAME = "spectralfeaturefitting"
    DISPLAY_NAME = "Spectral feature fitting"
    PARAMETER_HELP = {
        "OUTPUT_SCORE": "Fit score (0-1) of the best-matching library spectrum per pixel.",
    }
    GROUP = "hyperspectral"
    HELP = (
        "Classifies every pixel by comparing the shapes of its absorption features with those of library spectra, "
        "window by window (the feature-fitting baseline of mineral mapping, as in Tetracorder). In each window the "
        "pixel and every library spectrum are divided by their own continuum; the fit is the share of the pixel's "
        "band depths explained by a positive scaling of the library's. A library spectrum's score is the mean of "
        "its window fits weighted by the deeper feature of the two, so windows where neither has a feature do not "
        "count. Brightness does not matter.<br>"
        "<b>Input cube</b>: ENVI or GeoTIFF reflectance with band wavelengths.<br>"
        "<b>Spectral library</b>: ENVI .sli (+ .hdr) or CSV; spectra with the same name form one class.<br>"
        "<b>Windows</b>: 'name=start-end' in nm separated by ';' (default: the SWIR feature regions of OH/H2O "
        "near 1,400 nm, alunite/pyrophyllite near 1,760 nm, Al-OH/Fe-OH 2,160-2,270 nm and Mg-OH/CO3 near "
        "2,330 nm); narrow windows focus on one diagnostic feature, one window over the whole range compares "
        "whole spectra. Windows with fewer than 3 bands shared by cube and library are left out with a warning."
        "<br>"
        "<b>Minimum fit score</b> (0-1): pixels whose best score is lower are unclassified (0).<br>"
        "Outputs: <b>classes</b> (byte GeoTIFF, 1 = first class, 0 = unclassified, 255 = no data, with names and "
        "colours) and <b>fit score</b> of the best class."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Input cube")))
        self.addParameter(QgsProcessingParameterFile("LIBRARY", self.tr("Spectral library (.sli or .csv)"),
                                                     fileFilter="Spectral libraries (*.sli *.hdr *.csv);;All files (*.*)"))
        self.addParameter(QgsProcessingParameterString("WINDOWS", self.tr("Windows (name=start-end nm; ...)"),
                                                       DEFAULT_SFF_WINDOWS_TEXT))
        self.addParameter(QgsProcessingParameterNumber("MIN_SCORE", self.tr("Minimum fit score"),
                                                       NUMBER_DOUBLE, 0.5, minValue=0.0,
                                                       maxValue=1.0))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_CLASSES", self.tr("Classes")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_SCORE", self.tr("Fit score"), optional=True,
                                                                  createByDefault=True))

    def execute(self, parameters, context, feedback):
        from ...core.hyperspectral.featurefit import classify_feature_fitting
        from ...core.hyperspectral.features import parse_windows
        from ...core.hyperspectral.library import read_library

        cube = self.parameterAsRasterLayer(parameters, "INPUT", context).source()
        library_path = self.parameterAsFile(parameters, "LIBRARY", context)
        text = self.parameterAsString(parameters, "WINDOWS", context)
        min_score = self.parameterAsDouble(parameters, "MIN_SCORE", context)
        out_classes = self.parameterAsOutputLayer(parameters, "OUTPUT_CLASSES", context)
        out_score = self.parameterAsOutputLayer(parameters, "OUTPUT_SCORE", context) or None
        counts = classify_feature_fitting(
            cube, read_library(library_path), out_classes, out_score, parse_windows(text), min_score,
            parameters={"INPUT": cube, "LIBRARY": library_path, "WINDOWS": text, "MIN_SCORE": min_score},
            warn=feedback.pushWarning, progress=progress_callback(feedback), algorithm=self.id())
        feedback.pushInfo("Pixels per class: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        return {"OUTPUT_CLASSES": out_classes, "OUTPUT_SCORE": out_score}
