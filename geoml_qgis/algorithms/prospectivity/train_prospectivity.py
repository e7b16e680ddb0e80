"""geoml:trainprospectivity — deposit / non-deposit model with cross-validation and a comparison report."""
from __future__ import annotations

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ...compat import FIELD_NUMERIC, NUMBER_INTEGER, SOURCE_VECTOR
from ...core.errors import GeoMLError
from ...core.prospectivity.model import METHODS
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.choices import OneOf
from ..common.fields import field_parameter
from ..common.parameters import enum_choice, enum_parameter


def parse_class_weights(text: str):
    """``auto``, ``none`` or ``w0,w1`` (non-deposit weight, deposit weight)."""
    t = (text or "auto").strip().lower()
    if t in ("auto", "none"):
        return t if t == "auto" else None
    try:
        w = [float(v) for v in t.replace(";", ",").split(",")]
    except ValueError:
        w = []
    if len(w) != 2 or min(w) <= 0:
        raise GeoMLError("Class weights are 'auto', 'none', or two positive numbers 'w0,w1' "
                         "(weight of non-deposits, weight of deposits), e.g. '1,5'.")
    return tuple(w)


class TrainProspectivity(GeoMLAlgorithm):
    NAME = "trainprospectivity"
    DISPLAY_NAME = "Train prospectivity model"
    PARAMETER_HELP = {
        "INPUT": "Known occurrences, as points or as a table without geometry, with a label field.",
        "PRETEXT": "Points or table with a class field (rock type) and the same features, for the transfer method's "
                   "pretext task.",
        "PRETEXT_FIELD": "Class field of the pretext table (class, mineral... found by name).",
        "PRETEXT_SAMPLES": "Random cells at which the pretext raster is sampled.",
        "SPATIAL_FOLDS": "Cross-validate in spatial blocks (a tenth of the points' extent), so neighbouring points "
                         "are not split between training and test.",
        "COMPARE": "Also cross-validate every other method on the same folds and add them to the report.",
    }
    GROUP = "prospectivity"
    HELP = (
        "Trains a model of the probability that a place holds a deposit, scores it by cross-validation "
        "(only ever on held-out data) and saves it for <i>Predict prospectivity</i>.<br>"
        "<b>Input</b>: known occurrences, as points or as a table without geometry; <b>Label field</b>: 1 = "
        "deposit, 0 = not a deposit.<br>"
        "<b>Feature stack</b> (FEATURES): a stack from <i>Build prospectivity feature stack</i>, sampled at the "
        "points (reprojected if their CRS differs; points outside or on nodata are dropped and counted). Or "
        "<b>Feature fields</b> (FEATURE_FIELDS): fields of the input that already hold the features.<br>"
        "<b>Background non-deposits</b>: when only deposits are known, this many random cells of the stack with "
        "data, at least two cells from any deposit, are added as non-deposits (0 = use the labelled ones).<br>"
        "<b>Method</b> (default <i>random forest</i>, which needs nothing more): <i>transfer</i> pretrains a "
        "small dense network on a pretext task with abundant labels "
        "(the rock class at points, or of a categorical raster at random cells) and fine-tunes it on the "
        "deposits; <i>scratch</i> is the same network without pretraining; <i>random_forest</i>, <i>svm</i> "
        "(Platt-scaled probabilities) and <i>logistic_regression</i> are the classical baselines; "
        "<i>vae_ensemble</i> trains MEMBERS variational autoencoders with a classifier head (latent size "
        "LATENT_DIM) together, each on a bootstrap resample, also learning from UNLABELLED random cells of the "
        "stack; its models give aleatoric, epistemic and total uncertainty in <i>Predict prospectivity</i>.<br>"
        "<b>Pretext</b>: points or table with a class field (PRETEXT_FIELD) and the same features, or "
        "<b>Pretext raster</b>: a categorical raster (geology) sampled at PRETEXT_SAMPLES random cells.<br>"
        "<b>Class weights</b>: <i>auto</i> makes both classes weigh the same in the loss (deposits are rare), "
        "<i>none</i>, or 'w0,w1'.<br><b>Epochs</b>, <b>Seed</b>: network training length; the seed makes the run "
        "repeatable.<br><b>Folds</b>, <b>Spatial folds</b>: k-fold cross-validation, stratified, or in spatial "
        "blocks (a tenth of the points' extent) so neighbouring points are not split between training and "
        "test.<br><b>Compare</b>: also cross-validate every other method on the same folds.<br>"
        "Outputs: the model file and an HTML report (CV table of ROC and PR AUC mean ± sd, ROC and "
        "success-rate curves, and which evidence drove the chosen method: permutation importance on the "
        "held-out folds, mean ± sd over 5 shuffles per fold, and partial-dependence curves of its four most "
        "important features). <b>Explanations</b> (OUTPUT_EXPLANATIONS): the same importance and curves as CSV."
    )
    REQUIRES = ("torch",)
    ONE_OF = (OneOf("the features", (("FEATURES",), ("FEATURE_FIELDS",))),)

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        any_layer = [SOURCE_VECTOR]
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", self.tr("Occurrences (points or table)"), any_layer))
        self.addParameter(field_parameter("LABEL_FIELD", self.tr("Label field (1 deposit / 0 not)"), "INPUT", "label"))
        self.addParameter(QgsProcessingParameterRasterLayer("FEATURES", self.tr("Feature stack (or feature fields)"), optional=True))
        self.addParameter(field_parameter("FEATURE_FIELDS", self.tr("Feature fields (or feature stack)"), "INPUT", kind=FIELD_NUMERIC,
                                          multiple=True, optional=True))
        self.addParameter(QgsProcessingParameterNumber("BACKGROUND", self.tr("Background non-deposits (0 = none)"),
                                                       NUMBER_INTEGER, 0, minValue=0))
        self.addParameter(enum_parameter("METHOD", self.tr("Method"), METHODS, "random_forest"))
        self.addParameter(QgsProcessingParameterFeatureSource("PRETEXT", self.tr("Pretext table (transfer only)"), any_layer, optional=True))
        self.addParameter(field_parameter("PRETEXT_FIELD", self.tr("Pretext class field"), "PRETEXT", "class",
                                          optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer("PRETEXT_RASTER", self.tr("Pretext raster (transfer only)"), optional=True))
        self.addParameter(QgsProcessingParameterNumber("PRETEXT_SAMPLES", self.tr("Pretext raster samples"),
                                                       NUMBER_INTEGER, 1000, minValue=20))
        self.addParameter(QgsProcessingParameterString("CLASS_WEIGHTS", self.tr("Class weights"), "auto"))
        self.addParameter(QgsProcessingParameterNumber("EPOCHS", self.tr("Epochs"), NUMBER_INTEGER, 200, minValue=1))
        self.addParameter(QgsProcessingParameterNumber("SEED", self.tr("Random seed"), NUMBER_INTEGER, 0))
        self.addParameter(QgsProcessingParameterNumber("FOLDS", self.tr("Cross-validation folds"),
                                                       NUMBER_INTEGER, 5, minValue=2))
        self.addParameter(QgsProcessingParameterBoolean("SPATIAL_FOLDS", self.tr("Spatially blocked folds"), False))
        self.addParameter(QgsProcessingParameterBoolean("COMPARE", self.tr("Compare all methods"), False))
        self.addParameter(QgsProcessingParameterNumber("MEMBERS", self.tr("Ensemble members (vae_ensemble)"),
                                                       NUMBER_INTEGER, 10, minValue=2))
        self.addParameter(QgsProcessingParameterNumber("LATENT_DIM", self.tr("Latent dimensions (VAE ensemble)"),
                                                       NUMBER_INTEGER, 4, minValue=1))
        self.addParameter(QgsProcessingParameterNumber("UNLABELLED", self.tr("Unlabelled cells (VAE ensemble)"),
                                                       NUMBER_INTEGER, 2000, minValue=0))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_MODEL", self.tr("Model"), "GeoML model (*.pt)"))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Report"), "HTML (*.html)", optional=True))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_EXPLANATIONS", self.tr("Explanations (CSV)"),
                                                                "CSV (*.csv)", optional=True))
        self.addOutput(QgsProcessingOutputNumber("CV_ROC_AUC", self.tr("Cross-validated ROC AUC of the chosen method")))

    def execute(self, parameters, context, feedback):
        from ...core.prospectivity import workflow
        from ..common.parameters import core_arguments
        from .io import read_layer

        points = read_layer(self.parameterAsSource(parameters, "INPUT", context), feedback)
        label = self.parameterAsString(parameters, "LABEL_FIELD", context)
        stack = self.parameterAsRasterLayer(parameters, "FEATURES", context)
        stack_path = stack.source() if stack else None
        fields = self.parameterAsFields(parameters, "FEATURE_FIELDS", context)
        method = enum_choice(self, parameters, "METHOD", METHODS, context)
        seed = self.parameterAsInt(parameters, "SEED", context)
        weights = parse_class_weights(self.parameterAsString(parameters, "CLASS_WEIGHTS", context))
        compare = self.parameterAsBool(parameters, "COMPARE", context)
        names = {"stack_path": "FEATURES", "feature_fields": "FEATURE_FIELDS", "background": "BACKGROUND",
                 "points": "PRETEXT", "class_field": "PRETEXT_FIELD", "raster": "PRETEXT_RASTER"}
        with core_arguments(**names):
            data = workflow.training_data(points, label_field=label, stack_path=stack_path, feature_fields=fields,
                                          background=self.parameterAsInt(parameters, "BACKGROUND", context), seed=seed)
        pretext = None
        pre_src = self.parameterAsSource(parameters, "PRETEXT", context)
        pre_raster = self.parameterAsRasterLayer(parameters, "PRETEXT_RASTER", context)
        if method == "transfer" or (compare and (pre_src is not None or pre_raster is not None)):
            with core_arguments(**names):
                pretext = workflow.pretext_data(
                    data.names, stack_path=stack_path,
                    points=read_layer(pre_src, feedback) if pre_src is not None else None,
                    class_field=self.parameterAsString(parameters, "PRETEXT_FIELD", context),
                    raster=pre_raster.source() if pre_raster else None,
                    samples=self.parameterAsInt(parameters, "PRETEXT_SAMPLES", context), seed=seed)
        n_unl = self.parameterAsInt(parameters, "UNLABELLED", context)
        unlabelled = (workflow.background_rows(stack_path, n=n_unl, seed=seed)
                      if stack_path and n_unl and (method == "vae_ensemble" or compare) else None)
        model_path = self.model_output(parameters, context, feedback)
        report_path = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context) or None
        explain_path = self.parameterAsFileOutput(parameters, "OUTPUT_EXPLANATIONS", context) or None
        with core_arguments(**names):
            res = workflow.train(
                data, method=method, model_path=model_path, report_path=report_path, pretext=pretext,
                class_weight=weights, epochs=self.parameterAsInt(parameters, "EPOCHS", context), seed=seed,
                folds=self.parameterAsInt(parameters, "FOLDS", context),
                spatial=self.parameterAsBool(parameters, "SPATIAL_FOLDS", context), compare=compare,
                progress=progress_callback(feedback), members=self.parameterAsInt(parameters, "MEMBERS", context),
                latent_dim=self.parameterAsInt(parameters, "LATENT_DIM", context), unlabelled=unlabelled,
                explain_csv=explain_path)
        for note in res.notes:
            feedback.pushInfo(note)
        for s in res.cv:
            feedback.pushInfo(f"{s['method']}: ROC AUC {s['roc_auc_mean']:.3f} ± {s['roc_auc_sd']:.3f}, "
                              f"PR AUC {s['pr_auc_mean']:.3f} ± {s['pr_auc_sd']:.3f}")
        out = {"OUTPUT_MODEL": model_path, "CV_ROC_AUC": res.chosen["roc_auc_mean"]}
        if report_path:
            out["OUTPUT_REPORT"] = report_path
        if explain_path:
            out["OUTPUT_EXPLANATIONS"] = explain_path
        for r in res.importance[:5]:
            feedback.pushInfo(f"importance of {r['feature']}: {r['importance_mean']:.3f} ± {r['importance_sd']:.3f}")
        return out
