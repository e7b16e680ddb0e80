"""geoml:trainensembleremote — train a VAE prospectivity ensemble member by member, locally or on AWS Batch."""
from __future__ import annotations

import numpy as np
from qgis.core import (
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from ...compat import FIELD_NUMERIC, NUMBER_INTEGER, SOURCE_VECTOR, SOURCE_VECTOR_POINT, WKB_NO_GEOMETRY, set_advanced
from ...core.errors import Cancelled, GeoMLError
from ...core.io.vector import numeric_column
from ..common.base import GeoMLAlgorithm, progress_callback
from ..common.choices import OneOf
from ..common.fields import field_parameter
from ..common.parameters import enum_parameter

BACKENDS = ["local", "aws_batch"]
TRAINER = "vae_ensemble"


class TrainEnsembleRemote(GeoMLAlgorithm):
    NAME = "trainensembleremote"
    DISPLAY_NAME = "Train prospectivity ensemble (local or AWS Batch)"
    PARAMETER_HELP = {
        "INPUT": "Training points (features sampled from the stack) or a table holding the feature fields, with a "
                 "label field.",
        "BACKEND": "Where the members train: on this computer, or as an AWS Batch array job (settings under "
                   "Advanced).",
        "BUCKET": "S3 bucket the training data and members go through (AWS Batch only).",
        "PREFIX": "Key prefix in the bucket for this run's files (AWS Batch only).",
        "JOB_QUEUE": "AWS Batch job queue the members are submitted to.",
        "JOB_DEFINITION": "AWS Batch job definition that runs the GeoML worker image.",
        "REGION": "AWS region of the bucket and the queue (empty: the default of your AWS configuration).",
        "MIN_MEMBERS": "The run succeeds when at least this many members finish (0 = all must); failed members are "
                       "listed.",
    }
    GROUP = "prospectivity"
    REQUIRES = ("torch",)
    ONE_OF = (OneOf("the features", (("FEATURES",), ("FEATURE_FIELDS",))),)
    HELP = (
        "Trains the VAE ensemble of <i>Train prospectivity model</i> (method vae_ensemble) one member per job, "
        "so that large ensembles (10-100 members) can run on many machines. Each member is trained by the same "
        "worker program, on its own bootstrap resample and seed; the same inputs give the same members on "
        "either backend.<br>"
        "<b>Input</b>: known deposits and non-deposits, as points or as a table without geometry.<br>"
        "<b>Label field</b>: 1 = deposit, 0 = not a deposit; rows without a label are used as unlabelled "
        "background.<br>"
        "<b>Feature stack</b>: a multi-band raster sampled at the points (and at random background cells); or "
        "<b>Feature fields</b>: numeric fields of the input (for tables).<br>"
        "<b>Members</b>, <b>Latent dimensions</b>, <b>Epochs</b>, <b>Seed</b>: the ensemble's settings.<br>"
        "<b>Unlabelled samples</b>: number of background pixels (or unlabelled rows) that regularise the VAE.<br>"
        "<b>Backend</b>: <i>local</i> runs the members in parallel processes on this computer (no cloud "
        "account needed); <i>aws_batch</i> uploads the data to S3 and submits one AWS Batch array job (needs "
        "boto3 and the stack of infra/aws/geoml-batch.yaml; see docs/aws.md). AWS credentials are taken from "
        "the standard places (aws configure, AWS_PROFILE, an instance role) and never stored.<br>"
        "<b>Bucket</b>, <b>Prefix</b>: where runs are kept on S3. <b>Job queue</b>, <b>Job definition</b>: the "
        "AWS Batch names shown in the CloudFormation stack's outputs. <b>Region</b>: e.g. eu-west-1 (default: "
        "your AWS configuration's).<br>"
        "<b>Minimum members</b>: the model is built if at least this many members succeed (0 = all of them); "
        "members that failed are named in the log.<br>"
        "Cancelling stops the local workers, or terminates the AWS Batch jobs."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API
        self.addParameter(QgsProcessingParameterFeatureSource(
            "INPUT", self.tr("Training points or table"), [SOURCE_VECTOR_POINT, SOURCE_VECTOR]))
        self.addParameter(field_parameter("LABEL_FIELD", self.tr("Label field (1 deposit / 0 not)"), "INPUT", "label",
                                          kind=FIELD_NUMERIC))
        self.addParameter(field_parameter("FEATURE_FIELDS", self.tr("Feature fields (or feature stack)"), "INPUT",
                                          kind=FIELD_NUMERIC, multiple=True, optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(
            "FEATURES", self.tr("Feature stack (or feature fields)"), optional=True))
        for name, label, default, minimum in (("MEMBERS", "Members", 10, 1), ("LATENT_DIM", "Latent dimensions", 4, 1),
                                              ("EPOCHS", "Epochs", 200, 1), ("SEED", "Random seed", 0, 0),
                                              ("UNLABELLED", "Unlabelled background samples", 2000, 0)):
            self.addParameter(QgsProcessingParameterNumber(name, self.tr(label), NUMBER_INTEGER,
                                                           default, minValue=minimum))
        self.addParameter(enum_parameter("BACKEND", self.tr("Where to train"), BACKENDS, "local"))
        for name, label, default in (("BUCKET", "S3 bucket", None), ("PREFIX", "S3 prefix", "geoml"),
                                     ("JOB_QUEUE", "AWS Batch job queue", None),
                                     ("JOB_DEFINITION", "AWS Batch job definition", None),
                                     ("REGION", "AWS region", None)):
            # AWS settings matter only with the aws_batch backend: under Advanced
            self.addParameter(set_advanced(QgsProcessingParameterString(name, self.tr(label), default, optional=True)))
        self.addParameter(QgsProcessingParameterNumber(
            "MIN_MEMBERS", self.tr("Members that must succeed (0 = all)"),
            NUMBER_INTEGER, 0, minValue=0))
        self.addParameter(QgsProcessingParameterFileDestination(
            "OUTPUT_MODEL", self.tr("Ensemble model"), "GeoML model (*.pt)"))

    def execute(self, parameters, context, feedback):
        from ...core.deps import require
        from ...core.scaleout import local

        backend = BACKENDS[self.parameterAsEnum(parameters, "BACKEND", context)]
        if backend == "aws_batch":
            require("boto3", "training on AWS Batch")
        ints = {k: self.parameterAsInt(parameters, k, context)
                for k in ("MEMBERS", "LATENT_DIM", "EPOCHS", "SEED", "UNLABELLED", "MIN_MEMBERS")}
        members = ints["MEMBERS"]
        min_members = ints["MIN_MEMBERS"] or members
        if min_members > members:
            raise GeoMLError(f"Minimum members ({min_members}) is more than the number of members ({members}).")
        data, names = self._training_data(parameters, context, feedback, ints["UNLABELLED"], ints["SEED"])
        feedback.pushInfo(f"{len(data['y'])} labelled rows ({int(data['y'].sum())} deposits), "
                          f"{len(data['X_unlabelled'])} unlabelled, features: {', '.join(names)}")
        config = {"members": members, "latent_dim": ints["LATENT_DIM"], "epochs": ints["EPOCHS"],
                  "seed": ints["SEED"], "features": names}
        progress = progress_callback(feedback)
        output = self.model_output(parameters, context, feedback)
        if backend == "local":
            model, collected = local.train_local(data, TRAINER, config, members, min_members, progress)
        else:
            model, collected = self._train_batch(parameters, context, feedback, data, config, members, min_members)
        if feedback.isCanceled():
            raise Cancelled("Cancelled by the user")
        if collected.missing:
            from ...core.scaleout.members import describe_missing

            feedback.reportError(f"Built from {len(collected.succeeded)} of {members} members; missing: "
                                 f"{describe_missing(collected.missing)}", fatalError=False)
        model.save(output)
        feedback.pushInfo(f"Ensemble of {len(collected.succeeded)} members written to {output}")
        return {"OUTPUT_MODEL": output}

    def _train_batch(self, parameters, context, feedback, data, config, members, min_members):
        from ...core.scaleout.batch import BatchSettings, train_batch

        text = {k: (self.parameterAsString(parameters, k, context) or "").strip()
                for k in ("BUCKET", "PREFIX", "JOB_QUEUE", "JOB_DEFINITION", "REGION")}
        settings = BatchSettings(bucket=text["BUCKET"], job_queue=text["JOB_QUEUE"],
                                 job_definition=text["JOB_DEFINITION"], prefix=text["PREFIX"],
                                 region=text["REGION"] or None)
        model, collected, run = train_batch(data, TRAINER, config, members, min_members, settings,
                                            progress_callback(feedback), log=feedback.pushInfo)
        feedback.pushInfo(f"Run files kept on S3 under {run}/")
        return model, collected

    def _training_data(self, parameters, context, feedback, n_unlabelled: int, seed: int):
        from ...core.prospectivity.sampling import random_pixels
        from ...core.scaleout.dataset import labelled_arrays, subsample_rows

        source = self.parameterAsSource(parameters, "INPUT", context)
        if source is None:
            raise GeoMLError("The training layer could not be read.")
        label = self.parameterAsString(parameters, "LABEL_FIELD", context)
        fields = self.parameterAsFields(parameters, "FEATURE_FIELDS", context)
        stack_layer = self.parameterAsRasterLayer(parameters, "FEATURES", context)
        if stack_layer is not None:
            from ...core.io.raster import RasterStack
            from ...core.prospectivity.sampling import sample_stack
            from ..common.qgisio import source_to_points

            if source.wkbType() == WKB_NO_GEOMETRY:
                raise GeoMLError("A feature stack is sampled at points: the input must be a point layer.")
            points = source_to_points(source, [label], feedback=feedback)
            with RasterStack([stack_layer.source()]) as stack:
                sampled = sample_stack(stack, points)  # reprojected to the stack's CRS when they differ
                features = np.full((len(points), stack.count), np.nan)
                features[sampled.kept] = sampled.X
                background = (random_pixels(stack, n_unlabelled, seed, allow_fewer=True)[1]
                              if n_unlabelled else None)
                names = list(stack.band_names)
            labels = numeric_column(points.attributes, label)
        else:
            if not fields:
                raise GeoMLError("Choose the feature fields of the table, or a feature stack raster.")
            from ..common.qgisio import source_to_points

            table = source_to_points(source, [label, *fields], feedback=feedback, require_coordinates=False).attributes
            labels = numeric_column(table, label)
            features = np.column_stack([numeric_column(table, f) for f in fields])
            background, names = None, list(fields)
        data, dropped = labelled_arrays(features, labels)
        if dropped:
            feedback.pushWarning(f"{dropped} labelled rows were left out: a feature has no value there.")
        if background is None:  # a table: its rows (unlabelled first) are the background
            order = np.argsort(np.isfinite(labels), kind="stable")
            background = subsample_rows(features[order], n_unlabelled, seed) if n_unlabelled else None
        data["X_unlabelled"] = (background if background is not None
                                else np.zeros((0, data["X"].shape[1]), np.float32)).astype(np.float32)
        return data, names
