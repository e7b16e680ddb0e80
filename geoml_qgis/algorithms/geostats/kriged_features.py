"""geoml:krigedfeatures — kriging estimate, variance, distance and sample density aligned to a feature grid."""
from __future__ import annotations

from qgis.core import QgsProcessingParameterNumber, QgsProcessingParameterRasterDestination

from ...compat import NUMBER_DOUBLE
from ..common.base import progress_callback
from .params import MODEL_HELP, NEIGHBOUR_HELP, SAMPLE_HELP, GeostatsAlgorithm, optional_number


class KrigedFeatures(GeostatsAlgorithm):
    NAME = "krigedfeatures"
    DISPLAY_NAME = "Kriged features"
    HELP = (
        "Kriging-derived features for machine learning, as one 4-band raster on the grid of a reference raster "
        "(for example a feature stack from <i>Align rasters</i>), so they can be stacked with other evidence "
        "layers: band 1 kriging estimate, band 2 kriging variance, band 3 distance from the cell centre to the "
        "nearest sample (map units), band 4 local sample density (samples within DENSITY_RADIUS per km&sup2;, "
        "map units taken as metres).<br>" + SAMPLE_HELP + MODEL_HELP + NEIGHBOUR_HELP +
        "<b>Reference raster</b> (REFERENCE): its grid (extent, cell size, CRS) is used; must be in the points' CRS.<br>"
        "<b>Density radius</b> (DENSITY_RADIUS, optional): default the variogram range.<br>"
        "<b>Z level</b> (Z_LEVEL, 3D only): elevation of the slice (default: mean sample Z).<br>"
        "<b>Output</b>: OUTPUT, a 4-band GeoTIFF with band names."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params()
        self.add_grid_params(reference_required=True)
        self.add_model_params()
        self.add_neighbour_params()
        self.addParameter(QgsProcessingParameterNumber(
            "DENSITY_RADIUS", self.tr("Density radius (map units)"), NUMBER_DOUBLE, optional=True,
            minValue=0.0))
        self.addParameter(QgsProcessingParameterNumber(
            "Z_LEVEL", self.tr("Z of the slice (3D, map units)"), NUMBER_DOUBLE, optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT", self.tr("Kriged features")))

    def execute(self, parameters, context, feedback):
        from ...core.geostats.kriging import OrdinaryKriging
        from ...core.geostats.rasters import check_extent, kriged_features
        from ...core.io.provenance import provenance

        samples, crs, crs_wkt, field = self.read_samples(parameters, context, feedback)
        grid = self.read_grid(parameters, context, crs, crs_wkt)
        check_extent(samples.coords, grid)
        choice = self.read_model(parameters, context, samples, feedback)
        neighbours, radius = self.read_neighbours(parameters, context)
        ok = OrdinaryKriging(choice.model, neighbours, radius).fit(samples.coords, samples.values)
        density_radius = optional_number(self, parameters, "DENSITY_RADIUS", context) or choice.model.range
        z_level = None
        if samples.ndim == 3:
            z_level = optional_number(self, parameters, "Z_LEVEL", context)
            z_level = float(samples.coords[:, 2].mean()) if z_level is None else z_level
        out = self.parameterAsOutputLayer(parameters, "OUTPUT", context)
        meta = provenance("geoml:krigedfeatures", {"field": field, "model": choice.model.to_dict(),
                                                   "neighbours": neighbours, "density_radius": density_radius})
        kriged_features(ok, grid, out, density_radius, z_level, meta, progress_callback(feedback),
                        self.reference_path(parameters, context))
        return {"OUTPUT": out}
