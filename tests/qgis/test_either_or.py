"""Inputs given in one of several ways: labels say so, and one check before any work names every combination."""
from __future__ import annotations

import re

import pytest

from .conftest import SAMPLE, initialised_algorithms


def test_either_or_parameters_say_what_they_go_with(qgis_app):
    algs = initialised_algorithms()
    rules = 0
    for alg in algs:
        for rule in alg.ONE_OF:
            rules += 1
            for name in rule.names():
                assert alg.parameterDefinition(name) is not None, f"{alg.name()}: ONE_OF names unknown {name}"
            for way in rule.ways:  # the first input of each way says what else is accepted
                name = way[0]
                if ":" in name:
                    continue  # the main layer itself; its points are one way
                label = alg.parameterDefinition(name).description()
                assert re.search(r"\((or|with|of) ", label), f"{alg.name()}.{name}: label {label!r} does not say"
    assert rules >= 12  # clustering, spectral training, evaluation, prediction, features, grids...


@pytest.mark.parametrize("alg_id, params, combinations", [
    ("geoml:boreholeclustering",
     {"INPUT": str(SAMPLE / "boreholes" / "synthetic_assays.csv"), "ELEMENT_FIELDS": ["Cu_ppm", "Zn_ppm"]},
     ["Collar table + From field + To field", "X field + Y field", "the points of the assay table"]),
    ("geoml:trainspectralclassifier", {},
     ["Spectral library", "Training cube + Training labels + Class field"]),
    ("geoml:evaluateprospectivity", {},
     ["Probability raster + Validation points", "Scored layer + Score field"]),
    ("geoml:ordinarykriging",
     {"INPUT": str(SAMPLE / "meuse" / "meuse.gpkg"), "FIELD": "zinc"},
     ["Reference raster", "Extent + Pixel size", "Target points"]),
])
def test_one_message_names_every_combination(run_alg, tmp_path, alg_id, params, combinations):
    from qgis.core import QgsProcessingException

    from geoml_qgis.algorithms import algorithm_classes

    alg = {cls.NAME: cls for cls in algorithm_classes()}[alg_id.split(":")[1]]()
    alg.initAlgorithm()
    outputs = {p.name(): str(tmp_path / f"{p.name().lower()}{p.defaultFileExtension() and '.' + p.defaultFileExtension()}")
               for p in alg.destinationParameterDefinitions()}
    with pytest.raises(QgsProcessingException) as info:
        run_alg(alg_id, {**params, **outputs})
    message = str(info.value)
    assert "in one of these ways" in message, message
    for combination in combinations:
        assert combination in message, message
    assert not any(tmp_path.iterdir()), "the check comes before any work"


def test_check_runs_before_execute_for_modeler_children(qgis_app):
    """A graphical-modeler child skips checkParameterValues: the same check runs before execute."""
    from qgis.core import QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback

    from geoml_qgis.algorithms import algorithm_classes

    alg = {cls.NAME: cls for cls in algorithm_classes()}["evaluateprospectivity"]()
    alg.initAlgorithm()
    with pytest.raises(QgsProcessingException, match="in one of these ways"):
        alg.processAlgorithm({"OUTPUT_REPORT": "TEMPORARY_OUTPUT"}, QgsProcessingContext(), QgsProcessingFeedback())
