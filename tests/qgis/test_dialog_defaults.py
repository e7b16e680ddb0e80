"""What a geologist meets in the dialogs: defaults that run, units in labels, warnings for models
that would be lost, backend settings out of the way."""
from __future__ import annotations

from .conftest import SAMPLE

MEUSE = SAMPLE / "meuse" / "meuse.gpkg"


def _alg(name):
    from geoml_qgis.algorithms import algorithm_classes

    alg = {cls.NAME: cls for cls in algorithm_classes()}[name]()
    alg.initAlgorithm()
    return alg


def test_predict_prospectivity_writes_by_default(qgis_app):
    alg = _alg("predictprospectivity")
    assert alg.parameterDefinition("OUTPUT_PROBABILITY").createByDefault()
    assert alg.parameterDefinition("OUTPUT").createByDefault()


def test_distances_say_their_units(qgis_app):
    for name, params in (("ordinarykriging", ("PIXEL_SIZE", "SEARCH_RADIUS", "RANGE", "Z_LEVEL")),
                         ("krigingcrossvalidation", ("BLOCK_SIZE",)), ("fitvariogram", ("MAX_LAG",)),
                         ("krigedfeatures", ("DENSITY_RADIUS",))):
        alg = _alg(name)
        for p in params:
            assert "map units" in alg.parameterDefinition(p).description(), (name, p)


def test_aws_settings_are_advanced(qgis_app):
    from geoml_qgis.compat import PARAMETER_ADVANCED

    alg = _alg("trainensembleremote")
    for p in ("BUCKET", "PREFIX", "JOB_QUEUE", "JOB_DEFINITION", "REGION"):
        assert alg.parameterDefinition(p).flags() & PARAMETER_ADVANCED, p
    assert not alg.parameterDefinition("MEMBERS").flags() & PARAMETER_ADVANCED


def test_model_in_a_temporary_file_is_warned_about(run_alg, tmp_path):
    from qgis.core import QgsProcessingFeedback

    class Feedback(QgsProcessingFeedback):
        def __init__(self):
            super().__init__()
            self.warnings = []

        def pushWarning(self, text):  # noqa: N802 - QGIS API
            self.warnings.append(text)

    params = {"INPUT": str(MEUSE), "FIELD": "zinc", "OUTPUT_REPORT": str(tmp_path / "v.html")}
    temporary = Feedback()
    res = run_alg("geoml:fitvariogram", {**params, "OUTPUT_MODEL": "TEMPORARY_OUTPUT"}, feedback=temporary)
    assert any("temporary file" in w and res["OUTPUT_MODEL"] in w for w in temporary.warnings), temporary.warnings
    kept = Feedback()
    run_alg("geoml:fitvariogram", {**params, "OUTPUT_MODEL": str(tmp_path / "v.json")}, feedback=kept)
    assert not any("temporary file" in w for w in kept.warnings)
