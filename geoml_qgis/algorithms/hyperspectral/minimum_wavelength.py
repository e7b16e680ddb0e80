"""geoml:minimumwavelength — absorption-feature position, depth and width per spectral window, block by block."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER
from ...core.hyperspectral.features import DEFAULT_WINDOWS_TEXT, FIT_METHODS
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.parameters import enum_choice, enum_parameter


class MinimumWavelength(GeoMLAlgorithm):
    NAME = "minimumwavelength"
    DISPLAY_NAME = "Minimum wavelength mapping"
    PARAMETER_HELP = {
        "FIT_BANDS": "Number of bands (odd) around the deepest band that the Gaussian or parabola is fitted to.",
        "MIN_DEPTH": "Features shallower than this band depth (1 - continuum-removed reflectance) are left out.",
    }
    GROUP = "hyperspectral"
    HELP = (
        "Maps absorption features the way mineral maps are read from hyperspectral data: in each spectral window "
        "the spectrum is divided by its continuum (upper convex hull over the window), the deepest band is found "
        "and a Gaussian (or a parabola) is fitted to the band depths around it. The position of the Al-OH feature "
        "near 2,200 nm separates paragonitic (short), muscovitic and phengitic (long) white micas; its depth tracks "
        "abundance.<br>"
        "<b>Input cube</b>: ENVI or GeoTIFF reflectance with band wavelengths in its metadata (radiance is warned "
        "about).<br>"
        "<b>Windows</b>: 'name=start-end' in nm, separated by ';'. The defaults (Al-OH 2120-2245, Mg-OH/CO3 "
        "2295-2370, Fe3+ 900-1000) are used where the cube covers them; a window you type must be covered.<br>"
        "<b>Fit</b>: Gaussian (a parabola in log band depth; width = FWHM) or parabola (width at half depth of the "
        "parabola) over <b>Bands fitted</b> bands around the deepest one.<br>"
        "<b>Minimum depth</b>: shallower features are left out (no data), as are pixels without a minimum inside "
        "the window.<br>"
        "Outputs: <b>features</b> (4 bands per window: position nm, depth, width nm, fit R²; no data where no "
        "feature), <b>position map</b> (first window's position on a rainbow over the window, transparency from "
        "depth) and a <b>report</b> with histograms."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Input cube")))
        self.addParameter(QgsProcessingParameterString("WINDOWS", self.tr("Windows (name=start-end nm; ...)"),
                                                       DEFAULT_WINDOWS_TEXT))
        self.addParameter(enum_parameter("FIT", self.tr("Fit"), FIT_METHODS, "gaussian"))
        self.addParameter(QgsProcessingParameterNumber("FIT_BANDS", self.tr("Bands fitted around the minimum (odd)"),
                                                       NUMBER_INTEGER, 5, minValue=3,
                                                       maxValue=31))
        self.addParameter(QgsProcessingParameterNumber("MIN_DEPTH", self.tr("Minimum band depth"),
                                                       NUMBER_DOUBLE, 0.01, minValue=0.0,
                                                       maxValue=1.0))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Features")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_POSITION", self.tr("Position map"),
                                                                  optional=True, createByDefault=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Report"), "HTML (*.html)",
                                                                optional=True))
        self.addOutput(QgsProcessingOutputNumber("FEATURE_PIXELS", self.tr("Pixels with a feature in the first window")))

    def execute(self, parameters, context, feedback):
        from ...core.errors import GeoMLError
        from ...core.hyperspectral.featuremap import map_minimum_wavelength
        from ...core.hyperspectral.features import parse_windows

        cube = self.parameterAsRasterLayer(parameters, "INPUT", context).source()
        text = self.parameterAsString(parameters, "WINDOWS", context)
        method = enum_choice(self, parameters, "FIT", FIT_METHODS, context)
        fit_bands = self.parameterAsInt(parameters, "FIT_BANDS", context)
        if fit_bands % 2 == 0:
            raise GeoMLError("The number of bands fitted around the minimum must be odd (3, 5, 7, ...).")
        min_depth = self.parameterAsDouble(parameters, "MIN_DEPTH", context)
        out = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        out_position = self.parameterAsOutputLayer(parameters, "OUTPUT_POSITION", context) or None
        out_report = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context) or None
        windows = None if " ".join(text.split()) == DEFAULT_WINDOWS_TEXT else parse_windows(text)
        summary = map_minimum_wavelength(
            cube, out, windows, out_position, out_report, min_depth, fit_bands, method,
            parameters={"INPUT": cube, "WINDOWS": text, "FIT": method, "FIT_BANDS": fit_bands, "MIN_DEPTH": min_depth},
            warn=feedback.pushWarning, progress=progress_callback(feedback), algorithm=self.id())
        for name, s in summary.items():
            feedback.pushInfo(f"{name}: {s['pixels']} pixels with a feature, median position "
                              f"{s['position_median']:.1f} nm, median depth {s['depth_median']:.3f}")
        first = next(iter(summary.values()))
        return {"OUTPUT": out, "OUTPUT_POSITION": out_position, "OUTPUT_REPORT": out_report,
                "FEATURE_PIXELS": first["pixels"]}
