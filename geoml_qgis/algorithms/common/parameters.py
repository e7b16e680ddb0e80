"""Parameter helpers shared by the algorithms: enums whose options and default come from core by name,
core argument errors told in parameter ids.

The dialog shows each option by its readable label (:data:`OPTION_LABELS`); scripts pass the
option's index, or its core name (``METHOD=random_forest``), which :func:`enum_indices` turns into
the index before QGIS checks the value (QGIS 3.22 takes only indices).
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

from qgis.core import QgsProcessingParameterEnum

from ...core.errors import ArgumentError, GeoMLError

NAMES_KEY = "geoml_option_names"
# core option name -> what the dialog shows; names that read well as they are keep themselves
OPTION_LABELS = {
    "transfer": "transfer learning (needs a pretext)",
    "scratch": "network trained from scratch",
    "random_forest": "random forest",
    "svm": "support vector machine",
    "logistic_regression": "logistic regression",
    "vae_ensemble": "VAE ensemble (with uncertainty)",
    "mse": "mean squared error",
    "huber": "Huber (robust to outliers)",
    "negative_down": "negative downward (-90 = down)",
    "positive_down": "positive downward (+90 = down)",
    "kmeans": "k-means",
    "gmm": "Gaussian mixture",
    "rnn": "simple RNN",
    "gru": "GRU",
    "lstm": "LSTM",
    "minimum_curvature": "minimum curvature",
    "tangential": "tangential",
    "mutual_information": "mutual information",
    "epistemic": "epistemic uncertainty",
    "local": "this computer",
    "aws_batch": "AWS Batch",
    "fcls": "fully constrained least squares",
    "nnls": "non-negative least squares",
    "alr": "additive log-ratio (alr)",
    "clr": "centred log-ratio (clr)",
    "ilr": "isometric log-ratio (ilr)",
    "gauss": "Gauss points",
    "regular": "regular grid",
    "brightness": "brightness normalisation",
    "continuum": "continuum removal",
    "derivative": "first derivative",
    "gap": "gap statistic",
    "vote": "vote of elbow and indices",
    "bic": "BIC of Gaussian mixtures",
    "separation": "separation of distinct units",
    "detection_limit": "below-detection flags: -0.01 = below 0.01",
    "error": "an error",
}


def option_label(name: str) -> str:
    """What the dialog shows for core option *name*."""
    return OPTION_LABELS.get(name, name)


def enum_parameter(name: str, label: str, options: Sequence[str], default: str, **kwargs) -> QgsProcessingParameterEnum:
    """An enum parameter over *options* (a tuple defined once in core) shown by their readable labels,
    whose default is the option named *default*, so reordering the tuple never changes a default silently."""
    options = list(options)
    param = QgsProcessingParameterEnum(name, label, [option_label(o) for o in options],
                                       defaultValue=options.index(default), **kwargs)
    param.setMetadata({**param.metadata(), NAMES_KEY: options})
    return param


def enum_choice(alg, parameters: dict, name: str, options: Sequence[str], context) -> str:
    """The option name chosen for enum parameter *name*."""
    return options[alg.parameterAsEnum(parameters, name, context)]


def enum_indices(alg, parameters: dict) -> dict:
    """*parameters* with enum values given by core name or label (``"random_forest"``, ``"random forest"``)
    replaced by their index."""
    out = dict(parameters)
    for param in alg.parameterDefinitions():
        value = out.get(param.name())
        names = param.metadata().get(NAMES_KEY) if param.type() == "enum" else None
        if not names or not isinstance(value, str) or value.strip().lstrip("-").isdigit():
            continue
        for i, (n, shown) in enumerate(zip(names, param.options())):
            if value.strip().lower() in (n.lower(), shown.lower()):
                out[param.name()] = i
                break
    return out


@contextmanager
def core_arguments(**names: str) -> Iterator[None]:
    """Core calls inside whose :class:`ArgumentError` names this algorithm's parameters: *names* maps
    each core argument to its parameter id, e.g. ``core_arguments(stack_path="FEATURES")``."""
    try:
        yield
    except ArgumentError as exc:
        raise GeoMLError(exc.renamed(names)) from exc
