"""geoml:weightsofevidence — weights, posterior probability and its standard deviation, CI checks."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_RASTER, SOURCE_VECTOR_ANY_GEOMETRY, SOURCE_VECTOR_POINT
from ...core.errors import GeoMLError
from ...core.prospectivity.wofe import CRITERIA
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.parameters import enum_choice, enum_parameter



class WeightsOfEvidence(GeoMLAlgorithm):
    NAME = "weightsofevidence"
    DISPLAY_NAME = "Weights of evidence"
    GROUP = "prospectivity"
    HELP = (
        "Weights of evidence (Bonham-Carter 1994): how much each evidence class raises or lowers the odds of a "
        "deposit, learnt from known deposits, and the posterior probability map they give together.<br>"
        "<b>Evidence rasters</b> (EVIDENCE): every band is one evidence layer; they are put on the grid of the "
        "first (nearest neighbour). <b>Evidence types</b> (EVIDENCE_TYPES): one per band, comma-separated, or one "
        "for all: <i>binary</i> (two values, the larger is the pattern), <i>categorical</i> (a weight per class, "
        "e.g. geology), <i>ascending</i> (ordered, low values favourable, e.g. distance to a fault: cumulative "
        "patterns v &le; t), <i>descending</i> (high values favourable, e.g. Cu ppm: v &gt; t), <i>ordered</i> "
        "(direction unknown, e.g. a principal component: both are tried, the larger contrast is kept), <i>breaks</i> "
        "(a weight per class between the CLASS_BREAKS you give).<br>"
        "Ascending and descending layers are cut into a binary pattern at the threshold with the largest "
        "<b>contrast</b> among those whose studentised contrast reaches MIN_STUDENTISED (2 by default, about 95 % "
        "confidence), or the largest <b>studentised</b> contrast (THRESHOLD_CRITERION); candidate thresholds are the distinct "
        "values (up to 256) or THRESHOLDS quantiles, or the CLASS_BREAKS given for that layer "
        "('cu: 20,50,100; dist_faults: 500,1000').<br>"
        "<b>Vector evidence</b> (VECTORS): faults, contacts (lines), intrusions (polygons): each gives a distance "
        "band (0 inside polygons), treated as ascending.<br>"
        "<b>Training deposits</b> (DEPOSITS): points; at most one per unit cell (two closer than the side of a "
        "unit cell are refused). <b>Unit cell area</b> (UNIT_CELL_AREA, km²): the area that holds one deposit; "
        "areas are counted in unit cells.<br>"
        "Missing evidence (nodata) is its own case: a layer's weights use the area where it has data, a cell "
        "without data in a layer keeps the prior odds for it, and the posterior's standard deviation gets that "
        "layer's missing-data variance.<br>"
        "Outputs: posterior probability and its standard deviation (weights and missing-data variance), styled; "
        "weights table (CSV: W+, W−, contrast, their standard deviations, studentised contrast, unit cells and "
        "deposits per class, and every threshold tried); an HTML report with the generalisation curves, the "
        "Agterberg-Cheng conditional-independence test (predicted vs observed deposits; ratio below about 0.85 "
        "or small p warns of inflated probabilities) and pairwise chi-square tests between layers over the "
        "deposits, and the layers' permutation importance (weights refitted on the deposits and 2,000 random "
        "cells of each training fold, scored on the held-out fold; mean ± sd) with partial-dependence curves; the "
        "weights as a JSON model; the importance and curves as CSV (OUTPUT_EXPLANATIONS)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterMultipleLayers("EVIDENCE", self.tr("Evidence rasters"),
                                                               SOURCE_RASTER, optional=True))
        self.addParameter(QgsProcessingParameterString("EVIDENCE_TYPES", self.tr("Evidence types (one per band)"), "descending"))
        self.addParameter(QgsProcessingParameterMultipleLayers("VECTORS", self.tr("Vector evidence (distance to)"),
                                                               SOURCE_VECTOR_ANY_GEOMETRY,
                                                               optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer("REFERENCE", self.tr("Reference grid (vectors only)"),
                                                            optional=True))
        self.addParameter(QgsProcessingParameterFeatureSource("DEPOSITS", self.tr("Training deposits"),
                                                              [SOURCE_VECTOR_POINT]))
        self.addParameter(QgsProcessingParameterNumber("UNIT_CELL_AREA", self.tr("Unit cell area (km²)"),
                                                       NUMBER_DOUBLE, 1.0, minValue=1e-9))
        self.addParameter(enum_parameter("THRESHOLD_CRITERION", self.tr("Cut ordered layers at maximum"), CRITERIA,
                                         "contrast"))
        self.addParameter(QgsProcessingParameterNumber("MIN_STUDENTISED", self.tr("Minimum studentised contrast"),
                                                       NUMBER_DOUBLE, 2.0, minValue=0))
        self.addParameter(QgsProcessingParameterNumber("THRESHOLDS", self.tr("Candidate thresholds (quantiles)"),
                                                       NUMBER_INTEGER, 50, minValue=2))
        self.addParameter(QgsProcessingParameterString("CLASS_BREAKS", self.tr("Class breaks (breaks layers)"),
                                                       "", optional=True))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_POSTERIOR", self.tr("Posterior probability")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_SD", self.tr("Posterior standard deviation"),
                                                                  optional=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_WEIGHTS", self.tr("Weights table"), "CSV (*.csv)",
                                                                optional=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Report"), "HTML (*.html)",
                                                                optional=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_MODEL", self.tr("Weights model"), "JSON (*.json)",
                                                                optional=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_EXPLANATIONS", self.tr("Explanations (CSV)"),
                                                                "CSV (*.csv)", optional=True))
        self.addOutput(QgsProcessingOutputNumber("CI_RATIO", self.tr("Conditional independence ratio n/T")))
        self.addOutput(QgsProcessingOutputNumber("CI_P_VALUE", self.tr("Agterberg-Cheng p-value")))

    def execute(self, parameters, context, feedback):
        from ...core.prospectivity.wofe import parse_breaks, parse_kinds
        from ...core.prospectivity.wofe_raster import run_weights_of_evidence, unit_cell_map_area
        from ...core.io import RasterStack
        from .io import read_layer

        rasters = [lyr.source() for lyr in self.parameterAsLayerList(parameters, "EVIDENCE", context)]
        vectors = [lyr.source().split("|")[0] for lyr in self.parameterAsLayerList(parameters, "VECTORS", context)]
        ref = self.parameterAsRasterLayer(parameters, "REFERENCE", context)
        reference = ref.source() if ref else None
        if not rasters and not vectors:
            raise GeoMLError("Choose at least one evidence raster or vector layer.")
        if not rasters and reference is None:
            raise GeoMLError("With vector evidence only, choose a reference grid (REFERENCE).")
        kinds = parse_kinds(self.parameterAsString(parameters, "EVIDENCE_TYPES", context)) if rasters else []
        with RasterStack([reference or rasters[0]]) as r:
            crs = r.grid.crs_wkt
        deposits = read_layer(self.parameterAsSource(parameters, "DEPOSITS", context), feedback)
        outs = {k: (self.parameterAsFileOutput(parameters, k, context) or None)
                for k in ("OUTPUT_WEIGHTS", "OUTPUT_REPORT", "OUTPUT_EXPLANATIONS")}
        outs["OUTPUT_MODEL"] = self.model_output(parameters, context, feedback) or None
        post = self.parameterAsOutputLayer(parameters, "OUTPUT_POSTERIOR", context)
        sd = self.parameterAsOutputLayer(parameters, "OUTPUT_SD", context) or None
        res = run_weights_of_evidence(
            rasters, kinds[0] if len(kinds) == 1 else kinds, deposits,
            unit_cell_map_area(self.parameterAsDouble(parameters, "UNIT_CELL_AREA", context), crs), post, sd,
            outs["OUTPUT_WEIGHTS"], outs["OUTPUT_REPORT"], outs["OUTPUT_MODEL"],
            enum_choice(self, parameters, "THRESHOLD_CRITERION", CRITERIA, context),
            parse_breaks(self.parameterAsString(parameters, "CLASS_BREAKS", context)),
            self.parameterAsInt(parameters, "THRESHOLDS", context),
            parameters={k: str(v) for k, v in parameters.items()}, progress=progress_callback(feedback),
            vectors=vectors, reference=reference,
            min_studentised=self.parameterAsDouble(parameters, "MIN_STUDENTISED", context),
            explain_csv=outs["OUTPUT_EXPLANATIONS"], algorithm=self.id())
        m = res.model
        for note in m.notes:
            feedback.pushInfo(note)
        feedback.pushInfo(f"Prior probability {m.prior:.4g} ({m.prior_deposits:g} deposits on {m.prior_area:.6g} unit cells).")
        for lw in m.layers:
            cut = f", threshold {lw.threshold:.6g}" if lw.threshold is not None else ""
            feedback.pushInfo(f"{lw.name} ({lw.kind}{cut}): " + "; ".join(
                f"{c.label}: W {c.weight:+.3f} ± {c.s_weight:.3f}" for c in lw.classes))
        ac = res.agterberg_cheng
        feedback.pushInfo(f"Agterberg-Cheng: predicted {ac['predicted_deposits']:.2f} ± {ac['sd_predicted']:.2f} deposits, "
                          f"observed {ac['observed_deposits']:g}, ratio {ac['ratio']:.3f}, p = {ac['p_value']:.3g}")
        if ac["p_value"] < 0.05 or ac["ratio"] < 0.85:
            feedback.reportError("The evidence layers are not conditionally independent given the deposits: the "
                                 "posterior probabilities are inflated. See the report's pairwise tests.", False)
        out = {"OUTPUT_POSTERIOR": post, "CI_RATIO": ac["ratio"], "CI_P_VALUE": ac["p_value"]}
        if sd:
            out["OUTPUT_SD"] = sd
        out.update({k: v for k, v in outs.items() if v})
        return out
