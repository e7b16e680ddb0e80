"""geoml:fuzzyoverlay — AND, OR, algebraic product, algebraic sum or gamma of membership rasters."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from ...compat import NUMBER_DOUBLE, SOURCE_RASTER
from ...core.prospectivity.fuzzy import OPERATORS
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.parameters import enum_choice, enum_parameter


class FuzzyOverlay(GeoMLAlgorithm):
    NAME = "fuzzyoverlay"
    DISPLAY_NAME = "Fuzzy overlay"
    PARAMETER_HELP = {
        "INPUTS": "Fuzzy membership rasters (0-1) on one grid.",
        "OPERATOR": "How memberships combine: gamma (between product and sum), and (minimum), or (maximum), product, "
                    "sum.",
        "GAMMA": "Gamma of the gamma operator: 0 = product, 1 = sum.",
    }
    GROUP = "prospectivity"
    HELP = (
        "Combines fuzzy memberships (from <i>Fuzzy membership</i> or QGIS's <i>Fuzzify raster</i>; every band of "
        "every input, values 0-1) cell by cell, block by block, on the grid of the first:<br>"
        "<i>and</i>: minimum (every layer must be favourable); <i>or</i>: maximum (any one suffices); "
        "<i>product</i>: Π μ (decreasive: lower than the smallest); <i>sum</i>: 1 − Π (1 − μ) (increasive: "
        "higher than the largest); <i>gamma</i>: sum^GAMMA · product^(1 − GAMMA), between the two (GAMMA 0.8-0.95 "
        "is usual).<br>A cell where any input has no data has no data; inputs with values outside 0-1 are "
        "refused. Output: float 0-1, styled; score it with <i>Evaluate prospectivity</i>."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterMultipleLayers("INPUTS", self.tr("Membership rasters"),
                                                               SOURCE_RASTER))
        self.addParameter(enum_parameter("OPERATOR", self.tr("Operator"), OPERATORS, "gamma"))
        self.addParameter(QgsProcessingParameterNumber("GAMMA", self.tr("Gamma"), NUMBER_DOUBLE,
                                                       0.9, minValue=0.0, maxValue=1.0))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Fuzzy overlay")))

    def execute(self, parameters, context, feedback):
        from ...core.prospectivity.fuzzy import overlay_rasters

        inputs = [lyr.source() for lyr in self.parameterAsLayerList(parameters, "INPUTS", context)]
        output = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        overlay_rasters(inputs, output, enum_choice(self, parameters, "OPERATOR", OPERATORS, context),
                        self.parameterAsDouble(parameters, "GAMMA", context),
                        parameters={k: str(v) for k, v in parameters.items()}, progress=progress_callback(feedback),
                        algorithm=self.id())
        return {"OUTPUT": output}
