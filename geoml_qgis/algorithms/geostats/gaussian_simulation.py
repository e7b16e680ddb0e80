"""geoml:gaussiansimulation — sequential Gaussian simulation: realisations, E-type, standard deviation, P(> cut-off)."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER
from ...core.errors import GeoMLError
from ..common.base import progress_callback
from .indicator_kriging import parse_cutoffs
from .params import GRID, GRID_HELP, MODEL_HELP, SAMPLE_HELP, GeostatsAlgorithm, optional_number


class GaussianSimulation(GeostatsAlgorithm):
    NAME = "gaussiansimulation"
    DISPLAY_NAME = "Sequential Gaussian simulation"
    PARAMETER_HELP = {
        "MULTIGRID": "Coarse-to-fine grid levels simulated in turn, so long ranges are reproduced with few "
                     "neighbours.",
        "ZMAX": "Upper bound of the values' distribution tail for back-transforming (empty: the largest sample).",
        "OUTPUT_SD": "Standard deviation of the realisations per cell (GeoTIFF).",
    }
    ONE_OF = (GRID,)
    HELP = (
        "Conditional simulation: equally probable maps (realisations) that honour the samples at their cells and "
        "reproduce the data's histogram and variogram, for risk questions kriging cannot answer (the probability "
        "that a block exceeds a grade, the spread of a tonnage). The values are normal-score transformed, each "
        "realisation visits the cells on a random path (coarse grids first, so long ranges are reproduced) and "
        "draws each cell from its simple-kriging distribution given the nearest data and previously simulated "
        "cells; the results are back-transformed.<br>" + SAMPLE_HELP.split("<b>Z field</b>")[0] +
        MODEL_HELP.replace("<b>Variogram model</b>", "<b>Variogram model</b> of the normal scores (fitted to the "
                           "normal scores when not given; total sill about 1)") +
        "<b>Realisations</b> (REALISATIONS) and <b>Seed</b> (SEED): the same seed gives the same realisations.<br>"
        "<b>Neighbours</b> (NEIGHBOURS): nearest data per cell (default 16); <b>Simulated neighbours</b> "
        "(NODE_NEIGHBOURS): nearest previously simulated cells (default 16); <b>Search radius</b> "
        "(SEARCH_RADIUS, default the variogram range); <b>Multigrid levels</b> (MULTIGRID, default 3).<br>"
        "<b>Tails</b> (ZMIN, ZMAX, optional): bounds for values beyond the data (default: the data's minimum and "
        "maximum; set ZMAX above the largest datum to let the upper tail extend).<br>"
        "<b>Cut-offs</b> (CUTOFFS): values for the probability-of-exceedance output.<br>" + GRID_HELP +
        "Samples in the same cell: the one nearest the cell centre is kept (the others are counted in the log).<br>"
        "<b>Outputs</b>: OUTPUT_REALISATIONS (one band per realisation, written one realisation at a time), "
        "OUTPUT_ETYPE (mean), OUTPUT_SD (standard deviation), OUTPUT_EXCEEDANCE (fraction of realisations above "
        "each cut-off, styled 0 to 1)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.add_sample_params(z=False)
        self.add_grid_params()
        self.add_model_params()
        num = QgsProcessingParameterNumber
        self.addParameter(num("REALISATIONS", self.tr("Realisations"), NUMBER_INTEGER, defaultValue=20, minValue=1))
        self.addParameter(num("SEED", self.tr("Random seed"), NUMBER_INTEGER, defaultValue=0))
        self.addParameter(num("NEIGHBOURS", self.tr("Neighbours (data)"), NUMBER_INTEGER, defaultValue=16, minValue=0))
        self.addParameter(num("NODE_NEIGHBOURS", self.tr("Simulated neighbours (cells)"), NUMBER_INTEGER,
                              defaultValue=16, minValue=0))
        self.addParameter(num("SEARCH_RADIUS", self.tr("Search radius"), NUMBER_DOUBLE, optional=True, minValue=0.0))
        self.addParameter(num("MULTIGRID", self.tr("Multigrid levels"), NUMBER_INTEGER, defaultValue=3, minValue=0,
                              maxValue=8))
        self.addParameter(num("ZMIN", self.tr("Lower tail bound"), NUMBER_DOUBLE, optional=True))
        self.addParameter(num("ZMAX", self.tr("Upper tail bound"), NUMBER_DOUBLE, optional=True))
        self.addParameter(QgsProcessingParameterString("CUTOFFS", self.tr("Cut-offs for P(value > cut-off)"),
                                                       defaultValue="", optional=True))
        for name, label in (("OUTPUT_REALISATIONS", "Realisations"), ("OUTPUT_ETYPE", "E-type (mean of realisations)"),
                            ("OUTPUT_SD", "Standard deviation"),
                            ("OUTPUT_EXCEEDANCE", "Exceedance probabilities")):
            self.addParameter(QgsProcessingParameterRasterDestination(name, self.tr(label), optional=True,
                                                                      createByDefault=name != "OUTPUT_EXCEEDANCE"))

    def execute(self, parameters, context, feedback):
        from dataclasses import replace

        from ...core.geostats.normalscore import NormalScore
        from ...core.geostats.rasters import check_extent
        from ...core.geostats.simulation import SequentialGaussianSimulation
        from ...core.geostats.simulation_rasters import simulate_to_rasters
        from ...core.io.provenance import provenance

        samples, crs, crs_wkt, field = self.read_samples(parameters, context, feedback)
        grid = self.read_grid(parameters, context, crs, crs_wkt)
        check_extent(samples.coords, grid)
        zmin = optional_number(self, parameters, "ZMIN", context)
        zmax = optional_number(self, parameters, "ZMAX", context)
        scores = NormalScore.fit(samples.values, zmin, zmax).transform(samples.values)
        choice = self.read_model(parameters, context, replace(samples, values=scores), feedback)
        cutoffs = parse_cutoffs(self.parameterAsString(parameters, "CUTOFFS", context) or "") or []
        paths = {k: self.parameterAsOutputLayer(parameters, k, context) or None
                 for k in ("OUTPUT_REALISATIONS", "OUTPUT_ETYPE", "OUTPUT_SD", "OUTPUT_EXCEEDANCE")}
        if paths["OUTPUT_EXCEEDANCE"] and not cutoffs:
            raise GeoMLError("Give cut-offs (CUTOFFS) for the probability-of-exceedance output.")
        if not any(paths.values()):
            raise GeoMLError("Choose at least one output.")
        n = self.parameterAsInt(parameters, "REALISATIONS", context)
        sgs = SequentialGaussianSimulation(
            choice.model, self.parameterAsInt(parameters, "NEIGHBOURS", context),
            self.parameterAsInt(parameters, "NODE_NEIGHBOURS", context),
            optional_number(self, parameters, "SEARCH_RADIUS", context) or None,
            self.parameterAsInt(parameters, "MULTIGRID", context), zmin, zmax).fit(samples.coords, samples.values)
        meta = provenance("geoml:gaussiansimulation", {
            "field": field, "model": choice.model.to_dict(), "realisations": n,
            "seed": self.parameterAsInt(parameters, "SEED", context), "cutoffs": cutoffs})
        feedback.pushInfo(f"Simulating {n} realisations of {grid.width} x {grid.height} cells")
        info = simulate_to_rasters(
            sgs, grid, n, self.parameterAsInt(parameters, "SEED", context), paths["OUTPUT_REALISATIONS"],
            paths["OUTPUT_ETYPE"], paths["OUTPUT_SD"], paths["OUTPUT_EXCEEDANCE"], cutoffs, meta,
            progress_callback(feedback), self.reference_path(parameters, context))
        if info["dropped"]:
            feedback.pushInfo(f"{info['dropped']} samples share a cell with a sample nearer its centre and were "
                              "not used; use a finer grid to honour them all.")
        results = {"OUTPUT_REALISATIONS": paths["OUTPUT_REALISATIONS"], "OUTPUT_ETYPE": paths["OUTPUT_ETYPE"],
                   "OUTPUT_SD": paths["OUTPUT_SD"], "OUTPUT_EXCEEDANCE": paths["OUTPUT_EXCEEDANCE"]}
        for key in [k for k, v in results.items() if not v]:
            del results[key]  # outputs not asked for
        return results
