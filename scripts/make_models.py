"""Write the graphical-modeler workflows shipped in geoml_qgis/models/ (``.model3``).

The models are built here from code so they stay in step with the algorithms' parameter
names; run ``.venv/bin/python scripts/make_models.py`` after changing an algorithm's
parameters and commit the ``.model3`` files. The provider registers every file in that
folder, so the workflows appear in the toolbox under GeoML > Workflows.
"""
from __future__ import annotations

import sys
from pathlib import Path

from qgis.core import QgsApplication, QgsProcessingModelAlgorithm

from modeler import Src, model_input, step

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "geoml_qgis" / "models"


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


def prospectivity_workflow() -> QgsProcessingModelAlgorithm:
    from qgis.core import (
        QgsProcessing,
        QgsProcessingParameterFeatureSource,
        QgsProcessingParameterField,
        QgsProcessingParameterMultipleLayers,
        QgsProcessingParameterNumber,
        QgsProcessingParameterRasterLayer,
    )

    m = QgsProcessingModelAlgorithm("Kriging to drill targets", "Workflows", "workflows")
    m.setHelpContent({"ALG_DESC": (
        "Kriges a geochemical sample field onto the reference grid (estimate, variance, distance to the nearest "
        "sample, sample density), stacks those kriged features with the evidence rasters, trains a VAE ensemble "
        "on the occurrences (label field: 1 occurrence / 0 not), maps probability and total uncertainty, and "
        "ranks drill targets by risk-adjusted return (cost 1, value 3, 90 % confidence, 300 m apart).")})
    model_input(m, QgsProcessingParameterFeatureSource("samples", "Geochemical samples",
                                                       [QgsProcessing.TypeVectorPoint]), 20)
    model_input(m, QgsProcessingParameterField("value_field", "Value field", parentLayerParameterName="samples",
                                               type=QgsProcessingParameterField.Numeric), 160)
    model_input(m, QgsProcessingParameterRasterLayer("reference", "Reference grid"), 300)
    model_input(m, QgsProcessingParameterMultipleLayers("evidence", "Evidence rasters", QgsProcessing.TypeRaster), 440)
    model_input(m, QgsProcessingParameterFeatureSource("occurrences", "Occurrences (labelled points)",
                                                       [QgsProcessing.TypeVectorPoint]), 580)
    model_input(m, QgsProcessingParameterField("label_field", "Label field (1 / 0)",
                                               parentLayerParameterName="occurrences"), 720)
    model_input(m, QgsProcessingParameterNumber("members", "Ensemble members", QgsProcessingParameterNumber.Integer,
                                                10, minValue=2), 860)
    model_input(m, QgsProcessingParameterNumber("epochs", "Epochs", QgsProcessingParameterNumber.Integer,
                                                60, minValue=1), 1000)
    temp = Src.fromStaticValue("TEMPORARY_OUTPUT")
    step(m, "kriged", "geoml:krigedfeatures", "Kriged features",
         {"INPUT": Src.fromModelParameter("samples"), "FIELD": Src.fromModelParameter("value_field"),
          "REFERENCE": Src.fromModelParameter("reference"), "VARIOGRAM_MODEL": Src.fromStaticValue(0),
          "NEIGHBOURS": Src.fromStaticValue(32), "OUTPUT": temp}, {"OUTPUT": "Kriged features"}, 100)
    step(m, "stack", "geoml:buildfeaturestack", "Feature stack",
         {"INPUTS": [Src.fromModelParameter("evidence"), Src.fromChildOutput("kriged", "OUTPUT")],
          "REFERENCE": Src.fromModelParameter("reference"), "PCA_COMPONENTS": Src.fromStaticValue(0),
          "OUTPUT": temp}, {}, 300)
    step(m, "train", "geoml:trainprospectivity", "VAE ensemble",
         {"INPUT": Src.fromModelParameter("occurrences"), "LABEL_FIELD": Src.fromModelParameter("label_field"),
          "FEATURES": Src.fromChildOutput("stack", "OUTPUT"), "METHOD": Src.fromStaticValue(5),
          "MEMBERS": Src.fromModelParameter("members"), "EPOCHS": Src.fromModelParameter("epochs"),
          "LATENT_DIM": Src.fromStaticValue(4), "UNLABELLED": Src.fromStaticValue(2000),
          "FOLDS": Src.fromStaticValue(3), "OUTPUT_MODEL": temp}, {}, 500)
    step(m, "predict", "geoml:predictprospectivity", "Probability and uncertainty",
         {"MODEL": Src.fromChildOutput("train", "OUTPUT_MODEL"), "FEATURES": Src.fromChildOutput("stack", "OUTPUT"),
          "OUTPUT_PROBABILITY": temp, "OUTPUT_TOTAL": temp},
         {"OUTPUT_PROBABILITY": "Probability", "OUTPUT_TOTAL": "Total uncertainty"}, 700)
    step(m, "targets", "geoml:rankdrilltargets", "Drill targets",
         {"PROBABILITY": Src.fromChildOutput("predict", "OUTPUT_PROBABILITY"),
          "UNCERTAINTY": Src.fromChildOutput("predict", "OUTPUT_TOTAL"), "COST": Src.fromStaticValue(1.0),
          "VALUE": Src.fromStaticValue(3.0), "CONFIDENCE": Src.fromStaticValue(0.9),
          "N_TARGETS": Src.fromStaticValue(10), "MIN_SPACING": Src.fromStaticValue(300.0),
          "OUTPUT_TARGETS": temp, "OUTPUT_CATEGORIES": temp},
         {"OUTPUT_TARGETS": "Drill targets", "OUTPUT_CATEGORIES": "Risk-return categories"}, 900)
    return m


def fuzzy_workflow() -> QgsProcessingModelAlgorithm:
    from qgis.core import (
        QgsProcessing,
        QgsProcessingParameterFeatureSource,
        QgsProcessingParameterField,
        QgsProcessingParameterNumber,
        QgsProcessingParameterRasterLayer,
        QgsProcessingParameterString,
    )

    dbl = QgsProcessingParameterNumber.Type.Double
    m = QgsProcessingModelAlgorithm("Fuzzy membership to overlay to evaluation", "Workflows", "workflows")
    m.setHelpContent({"ALG_DESC": (
        "Knowledge-driven prospectivity: a continuous evidence raster gets a linear membership (0 at the low "
        "bound, 1 at the high bound; low > high for 'near is favourable', e.g. distance to a fault), a "
        "categorical raster gets a membership per class ('1: 0.9, 2: 0.5'), the two are combined by a fuzzy "
        "gamma overlay, and the map is scored against validation points (label field: 1 deposit / 0 not).")})
    model_input(m, QgsProcessingParameterRasterLayer("continuous", "Continuous evidence raster"), 20)
    model_input(m, QgsProcessingParameterNumber("low", "Low bound (membership 0)", dbl, 0.0), 160)
    model_input(m, QgsProcessingParameterNumber("high", "High bound (membership 1)", dbl, 1.0), 300)
    model_input(m, QgsProcessingParameterRasterLayer("categorical", "Categorical evidence raster"), 440)
    model_input(m, QgsProcessingParameterString("class_memberships", "Class memberships ('1: 0.9, 2: 0.5')"), 580)
    model_input(m, QgsProcessingParameterNumber("gamma", "Gamma", dbl, 0.9, minValue=0.0, maxValue=1.0), 720)
    model_input(m, QgsProcessingParameterFeatureSource("validation", "Validation points",
                                                       [QgsProcessing.SourceType.TypeVectorPoint]), 860)
    model_input(m, QgsProcessingParameterField("label_field", "Label field (1 / 0)",
                                               parentLayerParameterName="validation"), 1000)
    temp = Src.fromStaticValue("TEMPORARY_OUTPUT")
    step(m, "mu_continuous", "geoml:fuzzymembership", "Linear membership",
         {"INPUT": Src.fromModelParameter("continuous"), "BAND": Src.fromStaticValue(1),
          "FUNCTION": Src.fromStaticValue(0), "LOW": Src.fromModelParameter("low"),
          "HIGH": Src.fromModelParameter("high"), "OUTPUT": temp}, {}, 100)
    step(m, "mu_categorical", "geoml:fuzzymembership", "Class membership",
         {"INPUT": Src.fromModelParameter("categorical"), "BAND": Src.fromStaticValue(1),
          "FUNCTION": Src.fromStaticValue(6), "CLASS_MEMBERSHIPS": Src.fromModelParameter("class_memberships"),
          "OUTPUT": temp}, {}, 350)
    step(m, "overlay", "geoml:fuzzyoverlay", "Fuzzy gamma overlay",
         {"INPUTS": [Src.fromChildOutput("mu_continuous", "OUTPUT"), Src.fromChildOutput("mu_categorical", "OUTPUT")],
          "OPERATOR": Src.fromStaticValue(0), "GAMMA": Src.fromModelParameter("gamma"), "OUTPUT": temp},
         {"OUTPUT": "Fuzzy overlay"}, 600)
    step(m, "evaluate", "geoml:evaluateprospectivity", "Evaluation",
         {"PROBABILITY": Src.fromChildOutput("overlay", "OUTPUT"), "VALIDATION": Src.fromModelParameter("validation"),
          "LABEL_FIELD": Src.fromModelParameter("label_field"),
          "OUTPUT_REPORT": temp, "OUTPUT_CSV": temp},
         {"OUTPUT_REPORT": "Evaluation report", "OUTPUT_CSV": "Evaluation figures"}, 850)
    return m


WORKFLOWS = {"spectral_library_to_mineral_map": spectral_workflow, "kriging_to_drill_targets": prospectivity_workflow,
             "fuzzy_membership_overlay_evaluate": fuzzy_workflow}


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
