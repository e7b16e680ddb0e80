"""geoml:fuzzymembership — evidence values to 0-1 memberships (continuous functions or a class table)."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterBand,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ...compat import NUMBER_DOUBLE
from ...core.prospectivity.fuzzy import FUNCTIONS
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.parameters import enum_choice, enum_parameter


class FuzzyMembership(GeoMLAlgorithm):
    NAME = "fuzzymembership"
    DISPLAY_NAME = "Fuzzy membership"
    PARAMETER_HELP = {
        "INPUT": "Evidence raster to turn into a membership.",
        "BAND": "Band of the evidence raster.",
        "FUNCTION": "Membership function: linear, power, small, large, gaussian, near (as QGIS's Fuzzify raster) or "
                    "categorical.",
        "LOW": "Value with membership 0 (linear, power); above HIGH for a decreasing set, e.g. distance to a fault.",
        "HIGH": "Value with membership 1 (linear, power).",
        "MIDPOINT": "Value with membership 0.5 (small, large) or the centre (gaussian, near).",
        "SPREAD": "Steepness of the small, large, gaussian and near functions.",
        "EXPONENT": "Exponent of the power function (applied to the linear membership).",
        "CLASS_MEMBERSHIPS": "Membership per class value: '1: 0.9, 2: 0.4, 5: 0.1'; classes not listed get 0.",
    }
    GROUP = "prospectivity"
    HELP = (
        "Turns one evidence band into a fuzzy membership (0 = not favourable, 1 = fully favourable) for "
        "<i>Fuzzy overlay</i>, block by block. The continuous functions are those of QGIS's <i>Fuzzify raster</i> "
        "algorithms (and give the same values):<br>"
        "<i>linear</i>: 0 at LOW, 1 at HIGH (LOW &gt; HIGH for a decreasing set, e.g. distance to a fault); "
        "<i>power</i>: the linear value to the power EXPONENT; <i>small</i>: 1 / (1 + (x / MIDPOINT)^SPREAD), "
        "small values are members; <i>large</i>: 1 / (1 + (x / MIDPOINT)^−SPREAD); <i>gaussian</i>: "
        "exp(−SPREAD·(x − MIDPOINT)²); <i>near</i>: 1 / (1 + SPREAD·(x − MIDPOINT)²); <i>categorical</i>: a "
        "membership per class from CLASS_MEMBERSHIPS ('1: 0.9, 2: 0.4, 5: 0.1'; classes not listed get 0), for "
        "geology or alteration maps.<br>Nodata stays nodata. Output: float 0-1, styled."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterRasterLayer("INPUT", self.tr("Evidence raster")))
        self.addParameter(QgsProcessingParameterBand("BAND", self.tr("Band"), 1, "INPUT", optional=True))
        self.addParameter(enum_parameter("FUNCTION", self.tr("Membership function"), FUNCTIONS, "linear"))
        dbl = NUMBER_DOUBLE
        self.addParameter(QgsProcessingParameterNumber("LOW", self.tr("Low bound (linear, power)"), dbl, 0.0))
        self.addParameter(QgsProcessingParameterNumber("HIGH", self.tr("High bound (linear, power)"), dbl, 1.0))
        self.addParameter(QgsProcessingParameterNumber("MIDPOINT", self.tr("Midpoint (small, large, gaussian, near)"),
                                                       dbl, 1.0))
        self.addParameter(QgsProcessingParameterNumber("SPREAD", self.tr("Spread (small, large, gaussian, near)"), dbl,
                                                       1.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber("EXPONENT", self.tr("Exponent (power)"), dbl, 2.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterString("CLASS_MEMBERSHIPS", self.tr("Class memberships (categorical)"),
                                                       "", optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Membership")))

    def execute(self, parameters, context, feedback):
        from osgeo import gdal

        from ...core.prospectivity.fuzzy import Membership, fuzzy_rasters, parse_classes

        layer = self.parameterAsRasterLayer(parameters, "INPUT", context)
        band = self.parameterAsInt(parameters, "BAND", context) or 1
        fn = enum_choice(self, parameters, "FUNCTION", FUNCTIONS, context)
        num = {k: self.parameterAsDouble(parameters, k, context) for k in ("LOW", "HIGH", "MIDPOINT", "SPREAD", "EXPONENT")}
        m = Membership(fn, num["LOW"], num["HIGH"], num["MIDPOINT"], num["SPREAD"], num["EXPONENT"],
                       parse_classes(self.parameterAsString(parameters, "CLASS_MEMBERSHIPS", context))
                       if fn == "categorical" else {})
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        src = layer.source()
        vrt = None
        ds = gdal.Open(src)
        if ds.RasterCount > 1:  # one band of a multi-band raster: a one-band virtual view
            vrt = f"/vsimem/geoml_fuzzy_{id(self)}.vrt"
            gdal.Translate(vrt, ds, format="VRT", bandList=[band])
            src = vrt
        try:
            fuzzy_rasters([src], [m], membership_path=output, parameters={k: str(v) for k, v in parameters.items()},
                          progress=progress_callback(feedback), algorithm=self.id())
        finally:
            if vrt:
                gdal.Unlink(vrt)
        return {"OUTPUT": output}
