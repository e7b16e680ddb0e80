"""geoml:rankdrilltargets — risk-return categories and ranked drill targets from probability + uncertainty."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER
from ..common.base import GeoMLAlgorithm, progress_callback


class RankDrillTargets(GeoMLAlgorithm):
    NAME = "rankdrilltargets"
    DISPLAY_NAME = "Rank drill targets (risk-return)"
    GROUP = "prospectivity"
    HELP = (
        "Turns a prospectivity map and its uncertainty into exploration decisions.<br>"
        "<b>Probability</b> and <b>Uncertainty</b>: rasters from <i>Predict prospectivity</i> with a vae_ensemble "
        "model (use the total uncertainty).<br><b>Cost</b> (COST): cost of testing one target; <b>Value</b> "
        "(VALUE): value of a discovery, in the same currency.<br><b>Confidence</b>: level of the lower bound "
        "of the probability, p - z u (0.9: z = 1.28).<br>"
        "Per cell: expected return p x VALUE - COST; risk-adjusted return (p - z u) x VALUE - COST.<br>"
        "<b>Categories</b> (OUTPUT_CATEGORIES): 1 high return, low risk (even the lower bound pays); 2 high "
        "return, high risk (expected to pay, but the lower bound does not); 3 low return, high risk (not "
        "expected to pay, but the upper bound would); 4 low return, low risk.<br>"
        "<b>Targets</b> (OUTPUT_TARGETS): the N_TARGETS best local maxima of the risk-adjusted return, at least "
        "MIN_SPACING map units apart, with rank, probability, uncertainty, expected and risk-adjusted return.<br>"
        "<b>Report</b>: the share of the area in each category and the target table."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterRasterLayer("PROBABILITY", self.tr("Probability")))
        self.addParameter(QgsProcessingParameterRasterLayer("UNCERTAINTY", self.tr("Uncertainty (total)")))
        self.addParameter(QgsProcessingParameterNumber("COST", self.tr("Cost per target (money units)"),
                                                       NUMBER_DOUBLE, 1.0, minValue=0))
        self.addParameter(QgsProcessingParameterNumber("VALUE", self.tr("Value of a discovery (same units as cost)"),
                                                       NUMBER_DOUBLE, 10.0, minValue=0))
        self.addParameter(QgsProcessingParameterNumber("CONFIDENCE", self.tr("Confidence"),
                                                       NUMBER_DOUBLE, 0.9, minValue=0.5, maxValue=0.999))
        self.addParameter(QgsProcessingParameterNumber("N_TARGETS", self.tr("Number of targets"),
                                                       NUMBER_INTEGER, 10, minValue=1))
        self.addParameter(QgsProcessingParameterNumber("MIN_SPACING", self.tr("Minimum spacing (map units)"),
                                                       NUMBER_DOUBLE, 0.0, minValue=0))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT_TARGETS", self.tr("Targets")))
        self.addParameter(QgsProcessingParameterRasterDestination("OUTPUT_CATEGORIES", self.tr("Risk-return categories")))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Report"), "HTML (*.html)",
                                                                optional=True))
        self.addOutput(QgsProcessingOutputNumber("N_FOUND", self.tr("Number of targets found")))

    def execute(self, parameters, context, feedback):
        import numpy as np
        import pandas as pd

        from ...core.io import PointTable, write_text_atomic
        from ...core.prospectivity.report import table_html
        from ...core.prospectivity.riskreturn import CATEGORIES, rank_targets
        from ..common.qgisio import points_to_sink
        from ..common.styling import ranked, style_vector_output

        prob = self.parameterAsRasterLayer(parameters, "PROBABILITY", context)
        unc = self.parameterAsRasterLayer(parameters, "UNCERTAINTY", context)
        cost = self.parameterAsDouble(parameters, "COST", context)
        value = self.parameterAsDouble(parameters, "VALUE", context)
        conf = self.parameterAsDouble(parameters, "CONFIDENCE", context)
        cats = self.parameterAsOutputLayer(parameters, "OUTPUT_CATEGORIES", context)
        targets, shares = rank_targets(
            prob.source(), unc.source(), cost, value, conf, self.parameterAsInt(parameters, "N_TARGETS", context),
            self.parameterAsDouble(parameters, "MIN_SPACING", context), cats,
            {"COST": cost, "VALUE": value, "CONFIDENCE": conf}, progress_callback(feedback),
            algorithm=self.id())
        df = pd.DataFrame({"rank": np.arange(1, len(targets) + 1, dtype=np.int64),
                           "probability": [t.values[0] for t in targets], "uncertainty": [t.values[1] for t in targets],
                           "expected_return": [t.values[2] for t in targets],
                           "risk_adjusted_return": [t.score for t in targets]})
        pts = PointTable(np.array([t.x for t in targets]), np.array([t.y for t in targets]), None, df)
        dest = points_to_sink(self, parameters, context, "OUTPUT_TARGETS", pts, prob.crs(), feedback=feedback)
        style_vector_output(self, context, dest, ranked("rank"))
        for k, lbl in CATEGORIES.items():
            feedback.pushInfo(f"{lbl}: {100 * shares[k]:.1f} % of the area")
        out = {"OUTPUT_TARGETS": dest, "OUTPUT_CATEGORIES": cats, "N_FOUND": len(targets)}
        report = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        if report:
            rows = [{"category": f"{k}: {v}", "share of area": shares[k]} for k, v in CATEGORIES.items()]
            write_text_atomic(report, "<html><head><meta charset='utf-8'><title>Drill targets</title></head><body>"
                              f"<h1>Risk-return (cost {cost:g}, value {value:g}, confidence {conf:g})</h1>"
                              + table_html(rows, ["category", "share of area"]) + "<h2>Targets</h2>"
                              + table_html(df.assign(x=pts.x, y=pts.y).to_dict("records"),
                                           ["rank", "x", "y", "probability", "uncertainty", "expected_return",
                                            "risk_adjusted_return"]) + "</body></html>")
            out["OUTPUT_REPORT"] = report
        return out
