"""geoml:weightsofevidencetable — weights of evidence from tables: deposit rows and a sample of the area."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ...compat import FIELD_NUMERIC, NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_VECTOR
from ...core.errors import GeoMLError
from ...core.prospectivity.wofe import CRITERIA
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.fields import field_parameter
from ..common.parameters import enum_choice, enum_parameter


class WeightsOfEvidenceTable(GeoMLAlgorithm):
    NAME = "weightsofevidencetable"
    DISPLAY_NAME = "Weights of evidence (tables)"
    PARAMETER_HELP = {
        "AREA_UNIT_CELLS": "Size of the study area in unit cells, for the prior; 0 = one unit cell per row of the "
                           "area sample.",
        "EVIDENCE_TYPES": "One type per evidence field, separated by commas (one value applies to all): binary, "
                          "categorical, ascending, descending, ordered, breaks.",
        "CLASS_BREAKS": "Class breaks of 'breaks' fields, per field: 'field: 10,50,100; other: 1'.",
    }
    GROUP = "prospectivity"
    HELP = (
        "Weights of evidence for evidence already sampled at points, e.g. the Yukon tables: the same weights, "
        "generalisation, posterior and checks as <i>Weights of evidence</i>, with areas counted from a random "
        "sample of the study area instead of a raster.<br>"
        "<b>Input</b> (INPUT): points or a table with the evidence in FEATURE_FIELDS; <b>Label field</b> "
        "(LABEL_FIELD, optional): 1 = deposit, 0 = not; without it every row is a deposit.<br>"
        "<b>Area sample</b> (AREA_SAMPLE): rows sampled at random over the study area (e.g. <i>013_Random.csv</i>) "
        "with the same fields; each stands for AREA_UNIT_CELLS / rows unit cells (0: one unit cell each, which "
        "changes the prior but not the ranking). Without it, the rows labelled 0 are the area sample.<br>"
        "<b>Evidence types</b>, <b>criterion</b>, <b>minimum studentised contrast</b>, <b>thresholds</b>, "
        "<b>class breaks</b>: as in <i>Weights of evidence</i>; <i>ordered</i> suits principal components.<br>"
        "<b>Folds</b> (0 = none): with labels of both classes, stratified cross-validation (weights refitted on "
        "each training fold) gives the ROC AUC on held-out rows and the layers' permutation importance.<br>"
        "Outputs: the input rows with <i>posterior</i> and <i>posterior_sd</i>; weights CSV; HTML report "
        "(weights, generalisation curves, Agterberg-Cheng test over the area sample, pairwise chi-square, "
        "importance and partial dependence); weights model (JSON); explanations CSV."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", self.tr("Deposits (points or table)"), [SOURCE_VECTOR]))
        self.addParameter(field_parameter("LABEL_FIELD", self.tr("Label field (1 deposit / 0 not)"), "INPUT",
                                          "label", optional=True))
        self.addParameter(field_parameter("FEATURE_FIELDS", self.tr("Evidence fields"), "INPUT", kind=FIELD_NUMERIC,
                                          multiple=True))
        self.addParameter(QgsProcessingParameterFeatureSource("AREA_SAMPLE", self.tr("Area sample (random rows)"),
                                                              [SOURCE_VECTOR], optional=True))
        self.addParameter(QgsProcessingParameterNumber("AREA_UNIT_CELLS", self.tr("Study area in unit cells (0 = one per row)"),
                                                       NUMBER_DOUBLE, 0.0, minValue=0.0))
        self.addParameter(QgsProcessingParameterString("EVIDENCE_TYPES", self.tr("Evidence types (one per field)"), "ordered"))
        self.addParameter(enum_parameter("THRESHOLD_CRITERION", self.tr("Cut ordered layers at maximum"), CRITERIA,
                                         "contrast"))
        self.addParameter(QgsProcessingParameterNumber("MIN_STUDENTISED", self.tr("Minimum studentised contrast"),
                                                       NUMBER_DOUBLE, 2.0, minValue=0))
        self.addParameter(QgsProcessingParameterNumber("THRESHOLDS", self.tr("Candidate thresholds (quantiles)"),
                                                       NUMBER_INTEGER, 20, minValue=2))
        self.addParameter(QgsProcessingParameterString("CLASS_BREAKS", self.tr("Class breaks (breaks fields)"),
                                                       "", optional=True))
        self.addParameter(QgsProcessingParameterNumber("FOLDS", self.tr("Cross-validation folds (0 = none)"),
                                                       NUMBER_INTEGER, 5, minValue=0))
        self.addParameter(QgsProcessingParameterNumber("SEED", self.tr("Seed"), NUMBER_INTEGER, 0))
        self.addParameter(QgsProcessingParameterFeatureSink("OUTPUT", self.tr("Scored rows"), optional=True,
                                                            createByDefault=False))
        for name, label, ext in (("OUTPUT_WEIGHTS", "Weights table", "CSV (*.csv)"), ("OUTPUT_REPORT", "Report", "HTML (*.html)"),
                                 ("OUTPUT_MODEL", "Weights model", "JSON (*.json)"),
                                 ("OUTPUT_EXPLANATIONS", "Explanations (CSV)", "CSV (*.csv)")):
            self.addParameter(QgsProcessingParameterFileDestination(name, self.tr(label), ext, optional=True))
        self.addOutput(QgsProcessingOutputNumber("CV_ROC_AUC", self.tr("Cross-validated ROC AUC")))
        self.addOutput(QgsProcessingOutputNumber("CI_RATIO", self.tr("Conditional independence ratio n/T")))

    def execute(self, parameters, context, feedback):
        import numpy as np

        from ...core.prospectivity.sampling import labels
        from ...core.prospectivity.wofe import parse_breaks, parse_kinds
        from ...core.prospectivity.wofe_table import run_table
        from ...core.prospectivity.workflow import table_features
        from ..common.parameters import core_arguments
        from .io import read_layer, write_scored

        source = self.parameterAsSource(parameters, "INPUT", context)
        points = read_layer(source, feedback)
        fields = self.parameterAsFields(parameters, "FEATURE_FIELDS", context)
        if not fields:
            raise GeoMLError("Choose the evidence fields (FEATURE_FIELDS).")
        X = table_features(points.attributes, fields)
        label = self.parameterAsString(parameters, "LABEL_FIELD", context)
        y = labels(points.attributes, label) if label else None
        bsrc = self.parameterAsSource(parameters, "AREA_SAMPLE", context)
        bg = table_features(read_layer(bsrc, feedback).attributes, fields) if bsrc is not None else None
        outs = {k: (self.parameterAsFileOutput(parameters, k, context) or None)
                for k in ("OUTPUT_WEIGHTS", "OUTPUT_REPORT", "OUTPUT_EXPLANATIONS")}
        outs["OUTPUT_MODEL"] = self.model_output(parameters, context, feedback) or None
        kinds = parse_kinds(self.parameterAsString(parameters, "EVIDENCE_TYPES", context))
        with core_arguments(background="AREA_SAMPLE"):
            res = run_table(X, y, fields, kinds[0] if len(kinds) == 1 else kinds, bg,
                            self.parameterAsDouble(parameters, "AREA_UNIT_CELLS", context),
                            enum_choice(self, parameters, "THRESHOLD_CRITERION", CRITERIA, context),
                            parse_breaks(self.parameterAsString(parameters, "CLASS_BREAKS", context)),
                            self.parameterAsInt(parameters, "THRESHOLDS", context),
                            self.parameterAsDouble(parameters, "MIN_STUDENTISED", context),
                            self.parameterAsInt(parameters, "FOLDS", context), self.parameterAsInt(parameters, "SEED", context),
                            outs["OUTPUT_WEIGHTS"], outs["OUTPUT_REPORT"], outs["OUTPUT_MODEL"], outs["OUTPUT_EXPLANATIONS"],
                            progress_callback(feedback))
        for note in res.result.model.notes:
            feedback.pushInfo(note)
        ac = res.result.agterberg_cheng
        out = {k: v for k, v in outs.items() if v}
        out["CI_RATIO"] = ac["ratio"]
        out["CV_ROC_AUC"] = float(np.mean(res.cv.roc_auc)) if res.cv is not None else float("nan")
        if parameters.get("OUTPUT"):
            points.attributes = points.attributes.assign(posterior=res.posterior, posterior_sd=res.sd)
            out["OUTPUT"] = write_scored(self, parameters, context, "OUTPUT", points, source, feedback)
        return out
