"""geoml:blockkriging — estimates and variances of cell averages (block support), ordinary or with a trend."""
from __future__ import annotations

from qgis.core import QgsProcessingParameterNumber

from ...compat import NUMBER_INTEGER
from ...core.geostats.block import DISCRETISATIONS
from ..common.parameters import enum_parameter
from .params import GRID_HELP, MODEL_HELP, NEIGHBOUR_HELP, SAMPLE_HELP
from .trend_kriging import TrendKriging



class BlockKrigingAlgorithm(TrendKriging):
    NAME = "blockkriging"
    DISPLAY_NAME = "Block kriging (cell averages)"
    PARAMETER_HELP = {
        "DISCRETISATION_KIND": "Where a block's points sit: Gauss points (accurate with few points) or a regular "
                               "grid.",
    }
    NEEDS_TREND = False
    HELP = (
        "Kriging of the <i>average</i> value over each output cell (block support) rather than the value at its "
        "centre: what a mining block model or a remediation unit needs. Block estimates are smoother and their "
        "kriging variances smaller than point kriging's (the nugget averages out within a block). Equal to R "
        "gstat 2.1's <i>krige(..., block = c(cell, cell))</i> to 1e-6 of the data's standard deviation (tested on "
        "Meuse), ordinary or with a drift.<br>" + SAMPLE_HELP.split("<b>Z field</b>")[0] +
        "<b>Drift</b> (DRIFT): constant (ordinary block kriging), linear or quadratic in the coordinates; "
        "<b>Covariates</b> (COVARIATES, optional): rasters used as external drift, taken constant over each cell.<br>"
        "<b>Block discretisation</b> (DISCRETISATION, DISCRETISATION_KIND): each cell is represented by n x n "
        "points (default 4 x 4), at Gauss-Legendre positions with their weights (gstat's default) or on a regular "
        "grid.<br>" + MODEL_HELP + NEIGHBOUR_HELP + GRID_HELP +
        "The block is the output cell: choose the pixel size (or a reference raster) to set the block size.<br>"
        "<b>Outputs</b>: OUTPUT_ESTIMATE and OUTPUT_VARIANCE (styled GeoTIFFs of block averages and their kriging "
        "variance), OUTPUT_REPORT (optional HTML with the variogram). Check the variogram and neighbourhood with "
        "<i>Kriging cross-validation</i> or <i>Kriging with a trend</i> (point support)."
    )

    def execute(self, parameters, context, feedback):
        results = {"OUTPUT_ESTIMATE": None, "OUTPUT_VARIANCE": None}
        results.update(super().execute(parameters, context, feedback))  # the trend-kriging plumbing, block estimator
        return results

    def add_type_params(self) -> None:
        self.addParameter(QgsProcessingParameterNumber(
            "DISCRETISATION", self.tr("Block discretisation (points per side)"),
            NUMBER_INTEGER, defaultValue=4, minValue=1, maxValue=20))
        self.addParameter(enum_parameter(
            "DISCRETISATION_KIND", self.tr("Discretisation points"), DISCRETISATIONS, "gauss"))

    def make_estimator(self, parameters, context, grid, model, drift, neighbours, radius, names):
        from ...core.geostats.block import BlockKriging

        dx, dy = grid.res
        return BlockKriging(model, (abs(dx), abs(dy)), drift, neighbours, radius, tuple(names),
                            self.parameterAsInt(parameters, "DISCRETISATION", context),
                            DISCRETISATIONS[self.parameterAsEnum(parameters, "DISCRETISATION_KIND", context)])
