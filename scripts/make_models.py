"""Write the graphical-modeler workflows shipped in geoml_qgis/models/ (``.model3``).

The models are built here from code so they stay in step with the algorithms' parameter
names; run ``.venv/bin/python scripts/make_models.py`` after changing an algorithm's
parameters and commit the ``.model3`` files. The provider registers every file in that
folder, so the workflows appear in the toolbox under GeoML > Workflows.
"""
from __future__ import annotations

import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource as Src,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
)
from qgis.PyQt.QtCore import QPointF

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "geoml_qgis" / "models"


def model_input(model, parameter, x: float) -> None:
    """Add *parameter* (a QgsProcessingParameter*) as an input of *model*."""
    component = QgsProcessingModelParameter(parameter.name())
    component.setPosition(QPointF(x, 60))
    model.addModelParameter(parameter, component)


def step(model, child_id: str, alg_id: str, description: str, sources: dict, outputs: dict, x: float):
    """Add child algorithm *alg_id*; *sources* maps its parameters to Src objects,
    *outputs* maps its output names to the model's output names (final results)."""
    child = QgsProcessingModelChildAlgorithm(alg_id)
    child.setChildId(child_id)
    child.setDescription(description)
    child.setPosition(QPointF(x, 200))
    for name, source in sources.items():
        child.addParameterSources(name, [source])
    model_outputs = {}
    for out_name, model_name in outputs.items():
        output = QgsProcessingModelOutput(model_name, model_name)
        output.setChildId(child_id)
        output.setChildOutputName(out_name)
        output.setPosition(QPointF(x + 40, 330))
        model_outputs[model_name] = output
    child.setModelOutputs(model_outputs)
    model.addChildAlgorithm(child)


def spectral_workflow() -> QgsProcessingModelAlgorithm:
    from qgis.core import QgsProcessingParameterFile, QgsProcessingParameterRasterLayer

    m = QgsProcessingModelAlgorithm("Spectral library to mineral map", "Workflows", "workflows")
    m.setHelpContent({"ALG_DESC": "Trains the 1D CNN on a spectral library resampled to the cube's bands, then "
                                  "classifies the cube block by block. Outputs the class map and its confidence."})
    model_input(m, QgsProcessingParameterFile("library", "Spectral library (.sli or .csv)"), 40)
    model_input(m, QgsProcessingParameterRasterLayer("cube", "Hyperspectral cube"), 260)
    step(m, "train", "geoml:trainspectralclassifier", "Train spectral classifier",
         {"LIBRARY": Src.fromModelParameter("library"), "TARGET_CUBE": Src.fromModelParameter("cube"),
          "OUTPUT_MODEL": Src.fromStaticValue("TEMPORARY_OUTPUT")}, {"OUTPUT_MODEL": "Model"}, 120)
    step(m, "classify", "geoml:classifyhyperspectral", "Classify hyperspectral cube",
         {"INPUT": Src.fromModelParameter("cube"), "MODEL": Src.fromChildOutput("train", "OUTPUT_MODEL"),
          "MIN_CONFIDENCE": Src.fromStaticValue(0.0)},
         {"OUTPUT_CLASSES": "Mineral classes", "OUTPUT_CONFIDENCE": "Confidence"}, 420)
    return m


WORKFLOWS = {"spectral_library_to_mineral_map": spectral_workflow}


def main() -> int:
    app = QgsApplication([], False)
    app.initQgis()
    MODELS.mkdir(exist_ok=True)
    for stem, build in WORKFLOWS.items():
        model = build()
        path = MODELS / f"{stem}.model3"
        if not model.toFile(str(path)):
            print(f"could not write {path}", file=sys.stderr)
            return 1
        print(f"wrote {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
