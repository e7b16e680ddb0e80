"""geoml:ordinarykriging — kriging estimate and variance rasters, streamed block by block."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
)

from .base import progress_callback
from .geostats_params import GRID_HELP, MODEL_HELP, NEIGHBOUR_HELP, SAMPLE_HELP, GeostatsAlgorithm, optional_number


class OrdinaryKrigingAlgorithm(GeostatsAlgorithm):
    NAME = "ordinarykriging"
    DISPLAY_NAME = "Ordinary kriging"
    HELP = (
        "Ordinary kriging of a numeric field onto a raster grid, with its kriging variance (the model's own "
        "measure of uncertainty: large far from samples). Fast moving-neighbourhood kriging: cells sharing the "
        "same nearest samples share one kriging system; the raster is written block by block, so large grids "
        "are fine. Estimates agree with PyKrige to 1e-13.<br>" + SAMPLE_HELP + MODEL_HELP + NEIGHBOUR_HELP
        + GRID_HELP +
        "<b>Z level</b> (Z_LEVEL, 3D only): elevation of the horizontal slice kriged (default: mean sample Z).<br>"
        "<b>Outputs</b>: OUTPUT_ESTIMATE and OUTPUT_VARIANCE (styled GeoTIFFs), OUTPUT_REPORT (optional HTML "
        "with the variogram)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params()
        self.add_grid_params()
        self.add_model_params()
        self.add_neighbour_params()
        self.addParameter(QgsProcessingParameterNumber(
            "Z_LEVEL", self.tr("Z level of the slice (3D)"), QgsProcessingParameterNumber.Double, optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_ESTIMATE", self.tr("Kriging estimate")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_VARIANCE", self.tr("Kriging variance")))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_REPORT", self.tr("Report"), "HTML files (*.html)", optional=True, createByDefault=False))

    def execute(self, parameters, context, feedback):
        from ..core.geostats.kriging import OrdinaryKriging
        from ..core.geostats.rasters import check_extent, krige_to_rasters
        from ..core.geostats.report import write_variogram_report
        from ..core.io.provenance import provenance

        samples, crs, crs_wkt, field = self.read_samples(parameters, context, feedback)
        grid = self.read_grid(parameters, context, crs, crs_wkt)
        check_extent(samples.coords, grid)
        choice = self.read_model(parameters, context, samples, feedback)
        neighbours, radius = self.read_neighbours(parameters, context)
        ok = OrdinaryKriging(choice.model, neighbours, radius).fit(samples.coords, samples.values)
        if neighbours > ok.n_samples:
            feedback.pushInfo(f"{neighbours} neighbours asked, {ok.n_samples} samples: all samples are used.")
        z_level = None
        if samples.ndim == 3:
            z_level = optional_number(self, parameters, "Z_LEVEL", context)
            z_level = float(samples.coords[:, 2].mean()) if z_level is None else z_level
            feedback.pushInfo(f"3D kriging onto the horizontal slice at Z = {z_level:g}")
        est_path = self.parameterAsOutputLayer(parameters, "OUTPUT_ESTIMATE", context)
        var_path = self.parameterAsOutputLayer(parameters, "OUTPUT_VARIANCE", context)
        meta = provenance("geoml:ordinarykriging", {"field": field, "model": choice.model.to_dict(),
                                                    "neighbours": neighbours, "search_radius": radius})
        feedback.pushInfo(f"Kriging {grid.width} x {grid.height} cells from {ok.n_samples} samples")
        krige_to_rasters(ok, grid, est_path, var_path, z_level, meta, progress_callback(feedback),
                         self.reference_path(parameters, context))
        if ok.n_singular_:
            feedback.pushWarning(f"{ok.n_singular_} neighbourhood systems were singular and solved by least squares.")
        results = {"OUTPUT_ESTIMATE": est_path, "OUTPUT_VARIANCE": var_path}
        report = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        if report:
            from ..core.geostats.variogram import experimental_variogram

            ev = choice.experimental or experimental_variogram(samples.coords, samples.values)
            write_variogram_report(report, ev, choice.model, choice.errors or {}, field, samples.summary())
            results["OUTPUT_REPORT"] = report
        return results
