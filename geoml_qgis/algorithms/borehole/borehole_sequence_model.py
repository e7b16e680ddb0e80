"""geoml:boreholesequencemodel — a recurrent network that learns the downhole sequence of clusters."""
from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorDestination,
)

from ...compat import NUMBER_DOUBLE, NUMBER_INTEGER, SOURCE_VECTOR, SOURCE_VECTOR_POINT, set_advanced
from ...core.borehole.transforms import TRANSFORMS
from ...core.errors import GeoMLError
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.fields import field_parameter
from ..common.parameters import enum_choice, enum_parameter
from .io import CLEANING_HELP, add_cleaning_parameters, cleaning_options, downhole_positions, source_frame, write_clusters

CELLS = ["rnn", "gru", "lstm"]


class BoreholeSequenceModel(GeoMLAlgorithm):
    NAME = "boreholesequencemodel"
    DISPLAY_NAME = "Downhole sequence model (recurrent network)"
    PARAMETER_HELP = {
        "CELL": "Recurrent cell of the network: GRU (default), LSTM or a simple RNN.",
        "HIDDEN": "Hidden units of the recurrent layer.",
        "VALIDATION_FRACTION": "Share of the holes held out (whole holes) to measure the accuracy.",
    }
    GROUP = "borehole"
    REQUIRES = ("torch",)
    HELP = (
        "Trains a recurrent neural network to predict each sample's class (e.g. the cluster from "
        "<i>Cluster borehole assays</i>) from the sequence of samples down its hole: each step carries "
        "the sample's element values plus its distance to the previous sample, so the network learns "
        "which units follow which and how thick they are. Holes are split into training and validation "
        "holes (never samples of one hole on both sides), so the validation accuracy tells how well the "
        "model labels a new hole.<br>"
        "<b>Clustered samples</b>: a point layer (3D points, e.g. the clustering output) or table.<br>"
        "<b>Hole id field</b>, <b>Label field</b> (default <i>cluster</i>), <b>Feature fields</b> (the "
        "element assays; detection-limit values are cleaned as in the clustering algorithm).<br>"
        "<b>Depth field</b>: along-hole depth ordering the samples (e.g. <i>depth</i> of the clustering "
        "output); without it samples are ordered by falling Z of the points.<br>"
        "<b>Transform</b>: clr, log or none, then standardised.<br>"
        "<b>Cell</b>: rnn (simple Elman RNN), gru or lstm; the network reads each window in both "
        "directions. <b>Sequence length</b>: samples per training window. <b>Epochs</b>: passes over "
        "the training windows.<br>"
        "Advanced: <b>Hidden units</b>, <b>Validation fraction</b> of the holes, <b>Seed</b>; " + CLEANING_HELP
        + " (the same options as the clustering).<br>"
        "Outputs: <b>Model</b> (tensors and JSON, reloadable), <b>Predicted samples</b> (PointZ "
        "GeoPackage with <i>predicted</i>, <i>probability</i> and <i>split</i> = train/validation; styled "
        "by prediction), <b>Report</b> (HTML: accuracy and loss curves, confusion matrix and per-class "
        "precision/recall on the validation holes)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource("INPUT", self.tr("Clustered samples"), [SOURCE_VECTOR]))
        self.addParameter(field_parameter("HOLE_FIELD", self.tr("Hole id field"), "INPUT", "hole"))
        self.addParameter(field_parameter("LABEL_FIELD", self.tr("Label field"), "INPUT", "cluster", optional=True))
        self.addParameter(field_parameter("FEATURE_FIELDS", self.tr("Feature (element) fields"), "INPUT",
                                          multiple=True))
        self.addParameter(field_parameter("DEPTH_FIELD", self.tr("Depth field"), "INPUT", "depth", optional=True))
        self.addParameter(enum_parameter("TRANSFORM", self.tr("Transform"), TRANSFORMS, "clr"))
        self.addParameter(enum_parameter("CELL", self.tr("Recurrent cell"), CELLS, "gru"))
        self.addParameter(QgsProcessingParameterNumber("SEQUENCE_LENGTH", self.tr("Sequence length (samples)"),
                                                       NUMBER_INTEGER, 32, minValue=2))
        self.addParameter(QgsProcessingParameterNumber("EPOCHS", self.tr("Epochs"), NUMBER_INTEGER,
                                                       30, minValue=1, maxValue=10000))
        advanced = [
            QgsProcessingParameterNumber("HIDDEN", self.tr("Hidden units"), NUMBER_INTEGER, 32, minValue=2),
            QgsProcessingParameterNumber("VALIDATION_FRACTION", self.tr("Validation fraction of holes"),
                                         NUMBER_DOUBLE, 0.25, minValue=0.05, maxValue=0.9),
            QgsProcessingParameterNumber("SEED", self.tr("Random seed"), NUMBER_INTEGER, 0),
        ]
        for p in advanced:
            set_advanced(p)
            self.addParameter(p)
        add_cleaning_parameters(self)
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_MODEL", self.tr("Model"), "GeoML model (*.pt)"))
        self.addParameter(QgsProcessingParameterVectorDestination("OUTPUT", self.tr("Predicted samples"), SOURCE_VECTOR_POINT))
        self.addParameter(QgsProcessingParameterFileDestination("OUTPUT_REPORT", self.tr("Report"), "HTML (*.html)"))
        self.addOutput(QgsProcessingOutputNumber("VALIDATION_ACCURACY", self.tr("Accuracy on validation holes")))

    def execute(self, parameters, context, feedback):
        from ...core.borehole.assays import hole_ids
        from ...core.borehole.report import sequence_report
        from ...core.borehole.samples import build_samples
        from ...core.borehole.sequence import SequenceModel, check_class_labels
        from ...core.borehole.transforms import apply_transform
        from ...core.io.vector import numeric_column

        table, xyz, crs = source_frame(self.parameterAsSource(parameters, "INPUT", context), "input layer", feedback)
        hole_field = self.parameterAsString(parameters, "HOLE_FIELD", context)
        label_field = self.parameterAsString(parameters, "LABEL_FIELD", context) or "cluster"
        depth_field = self.parameterAsString(parameters, "DEPTH_FIELD", context)
        features = self.parameterAsFields(parameters, "FEATURE_FIELDS", context)
        if not hole_field or hole_field not in table.columns:
            raise GeoMLError("Choose the hole id field of the input layer.")
        if label_field not in table.columns:
            raise GeoMLError(f"Label field '{label_field}' not found; run the clustering first or choose the label field.")
        if table[label_field].isna().any():
            raise GeoMLError(f"{int(table[label_field].isna().sum())} sample(s) have no label in '{label_field}'.")
        check_class_labels(table[label_field].to_numpy(), f"label field '{label_field}'")
        depth = numeric_column(table, depth_field) if depth_field else None
        xyz = downhole_positions(xyz, depth, len(table), "input")
        samples = build_samples(table, features, hole_ids(table[hole_field]), xyz=xyz, depth=depth, crs_wkt=crs,
                                carry=[label_field], **cleaning_options(self, parameters, context))
        for note in samples.log.messages:
            feedback.pushInfo(note)
        transform = enum_choice(self, parameters, "TRANSFORM", TRANSFORMS, context)
        X = apply_transform(samples.values.to_numpy(), transform)
        labels = samples.extra[label_field].to_numpy()
        model = SequenceModel(
            CELLS[self.parameterAsEnum(parameters, "CELL", context)],
            seq_len=self.parameterAsInt(parameters, "SEQUENCE_LENGTH", context),
            hidden=self.parameterAsInt(parameters, "HIDDEN", context),
            epochs=self.parameterAsInt(parameters, "EPOCHS", context),
            seed=self.parameterAsInt(parameters, "SEED", context),
        ).fit(X, labels, samples.hole, samples.depth,
              validation_fraction=self.parameterAsDouble(parameters, "VALIDATION_FRACTION", context),
              progress=progress_callback(feedback))
        metrics = model.evaluate(X, labels, samples.hole, samples.depth)
        proba = model.predict_proba(X, samples.hole, samples.depth)
        model_path = self.model_output(parameters, context, feedback)
        model.save(model_path, {"features": samples.elements, "transform": transform, "label_field": label_field,
                                "validation_accuracy": metrics["validation_accuracy"]})
        frame = samples.frame()
        frame["predicted"] = model.classes_[proba.argmax(axis=1)]
        frame["probability"] = proba.max(axis=1)
        frame["split"] = np.where(np.isin(samples.hole, model.validation_holes_), "validation", "train")
        report = self.parameterAsFileOutput(parameters, "OUTPUT_REPORT", context)
        metrics["summary"] = (f"{len(samples)} samples in {samples.n_holes} holes; cell {model.cell}, sequence length "
                              f"{model.seq_len}, {model.epochs} epochs; features: {', '.join(samples.elements)} "
                              f"({transform}) plus the distance to the previous sample.")
        sequence_report(model.history_, metrics, report)
        classes = {int(c): f"{label_field} {c}" for c in model.classes_} if np.issubdtype(model.classes_.dtype, np.integer) else {}
        if not classes:
            frame["predicted"] = np.searchsorted(model.classes_, frame["predicted"].to_numpy()) + 1
            classes = {i + 1: str(c) for i, c in enumerate(model.classes_)}
        layer = write_clusters(self, context, parameters, "OUTPUT", frame, crs, "predicted", classes)
        feedback.pushInfo(f"Accuracy on the validation holes: {metrics['validation_accuracy']:.3f}")
        return {"OUTPUT": layer, "OUTPUT_MODEL": model_path, "OUTPUT_REPORT": report,
                "VALIDATION_ACCURACY": metrics["validation_accuracy"]}
