"""Parameter helpers shared by the algorithms: enums whose options and default come from core by name,
core argument errors told in parameter ids."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, Sequence

from qgis.core import QgsProcessingParameterEnum

from ...core.errors import ArgumentError, GeoMLError


def enum_parameter(name: str, label: str, options: Sequence[str], default: str, **kwargs) -> QgsProcessingParameterEnum:
    """An enum parameter over *options* (a tuple defined once in core) whose default is the option
    named *default*, so reordering the tuple never changes a default silently."""
    return QgsProcessingParameterEnum(name, label, list(options), defaultValue=list(options).index(default), **kwargs)


def enum_choice(alg, parameters: dict, name: str, options: Sequence[str], context) -> str:
    """The option name chosen for enum parameter *name*."""
    return options[alg.parameterAsEnum(parameters, name, context)]


@contextmanager
def core_arguments(**names: str) -> Iterator[None]:
    """Core calls inside whose :class:`ArgumentError` names this algorithm's parameters: *names* maps
    each core argument to its parameter id, e.g. ``core_arguments(stack_path="FEATURES")``."""
    try:
        yield
    except ArgumentError as exc:
        raise GeoMLError(exc.renamed(names)) from exc
