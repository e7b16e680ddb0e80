"""Build graphical-modeler models in code: shared by ``make_models.py`` (the workflows shipped in
``geoml_qgis/models/``) and the modeler tests (``tests/qgis/test_modeler_chains.py``).

A child's parameter is a static value, a model input or a child's output
(``QgsProcessingModelChildParameterSource``); :func:`static`, :func:`model_param` and :func:`child_output`
say which without the long class name.
"""
from __future__ import annotations

from qgis.core import (
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
)
from qgis.core import (
    QgsProcessingModelChildParameterSource as Src,
)
from qgis.PyQt.QtCore import QPointF

#: the static value of a destination parameter that QGIS writes to a temporary file
TEMPORARY = "TEMPORARY_OUTPUT"


def static(value) -> Src:
    return Src.fromStaticValue(value)


def model_param(name: str) -> Src:
    return Src.fromModelParameter(name)


def child_output(child_id: str, output: str) -> Src:
    return Src.fromChildOutput(child_id, output)


def model_input(model: QgsProcessingModelAlgorithm, parameter, x: float) -> None:
    """Add *parameter* (a QgsProcessingParameter*) as an input of *model*."""
    component = QgsProcessingModelParameter(parameter.name())
    component.setPosition(QPointF(x, 60))
    model.addModelParameter(parameter, component)


def step(model: QgsProcessingModelAlgorithm, child_id: str, alg_id: str, description: str, sources: dict,
         outputs: dict, x: float) -> None:
    """Add child algorithm *alg_id*; *sources* maps its parameters to sources (or lists of them, or plain
    values taken as static), *outputs* maps its output names to the model's output names (final results)."""
    child = QgsProcessingModelChildAlgorithm(alg_id)
    child.setChildId(child_id)
    child.setDescription(description)
    child.setPosition(QPointF(x, 200))
    for name, source in sources.items():
        items = source if isinstance(source, list) else [source]
        child.addParameterSources(name, [s if isinstance(s, Src) else static(s) for s in items])
    model_outputs = {}
    for out_name, model_name in outputs.items():
        output = QgsProcessingModelOutput(model_name, model_name)
        output.setChildId(child_id)
        output.setChildOutputName(out_name)
        output.setPosition(QPointF(x + 40, 330))
        model_outputs[model_name] = output
    child.setModelOutputs(model_outputs)
    model.addChildAlgorithm(child)
