"""Parameter helpers shared by the algorithms: enums whose options and default come from core by name."""
from __future__ import annotations

from typing import Sequence

from qgis.core import QgsProcessingParameterEnum


def enum_parameter(name: str, label: str, options: Sequence[str], default: str, **kwargs) -> QgsProcessingParameterEnum:
    """An enum parameter over *options* (a tuple defined once in core) whose default is the option
    named *default*, so reordering the tuple never changes a default silently."""
    return QgsProcessingParameterEnum(name, label, list(options), defaultValue=list(options).index(default), **kwargs)


def enum_choice(alg, parameters: dict, name: str, options: Sequence[str], context) -> str:
    """The option name chosen for enum parameter *name*."""
    return options[alg.parameterAsEnum(parameters, name, context)]
