"""What a geologist meets in the dialogs: defaults that run, units in labels, warnings for models
that would be lost, backend settings out of the way."""
from __future__ import annotations

import functools

from .conftest import SAMPLE, recording_feedback

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
    params = {"INPUT": str(MEUSE), "FIELD": "zinc", "OUTPUT_REPORT": str(tmp_path / "v.html")}
    temporary = recording_feedback()
    res = run_alg("geoml:fitvariogram", {**params, "OUTPUT_MODEL": "TEMPORARY_OUTPUT"}, feedback=temporary)
    assert any("temporary file" in w and res["OUTPUT_MODEL"] in w for w in temporary.warnings), temporary.warnings
    kept = recording_feedback()
    run_alg("geoml:fitvariogram", {**params, "OUTPUT_MODEL": str(tmp_path / "v.json")}, feedback=kept)
    assert not any("temporary file" in w for w in kept.warnings)


@functools.lru_cache(maxsize=1)
def _all_algorithms():
    """Every algorithm, initialised once (and kept alive while its parameters are used)."""
    from geoml_qgis.algorithms import algorithm_classes

    algs = [cls() for cls in algorithm_classes()]
    for alg in algs:
        alg.initAlgorithm()
    return algs


def test_short_labels_and_a_help_for_every_parameter(qgis_app):
    problems = []
    algs = _all_algorithms()
    for alg in algs:
        for p in alg.parameterDefinitions():
            where = f"{alg.name()}.{p.name()}"
            if len(p.description()) > 45:
                problems.append(f"{where}: label over 45 characters: {p.description()!r}")
            words = p.help().strip()
            if len(words) < 20 or words.rstrip(".").lower() == p.description().lower():
                problems.append(f"{where}: no help (tooltip) beyond its label: {words!r}")
    assert not problems, "\n".join(problems)


RAW = {"mse", "svm", "gmm", "rnn", "gru", "lstm", "fcls", "nnls", "alr", "clr", "ilr", "kmeans"}  # names, not labels


def test_readable_options_and_names_still_accepted(run_alg, tmp_path):
    import re

    algs = _all_algorithms()
    raw = [f"{a.name()}.{p.name()}: {o!r}" for a in algs for p in a.parameterDefinitions() if p.type() == "enum"
           for o in p.options() if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", o) or o in RAW]
    assert not raw, raw  # no random_forest, vae_ensemble, mse...
    labels = {a.name(): a for a in algs}
    assert labels["trainprospectivity"].parameterDefinition("METHOD").options()[2] == "random forest"
    # a script passes the core name (or the label), on QGIS 3.22 as on later releases
    params = {"INPUT": str(MEUSE), "FIELD": "zinc", "OUTPUT_MODEL": str(tmp_path / "v.json"),
              "OUTPUT_REPORT": str(tmp_path / "v.html")}
    import json

    run_alg("geoml:fitvariogram", {**params, "VARIOGRAM_MODEL": "exponential"})
    assert json.loads((tmp_path / "v.json").read_text())["kind"] == "exponential"


def test_model_and_variogram_inputs_have_a_file_browser(qgis_app):
    algs = _all_algorithms()
    for alg in algs:
        for name in ("MODEL", "VARIOGRAM_FILE"):
            p = alg.parameterDefinition(name)
            assert p is None or p.type() == "file", (alg.name(), name, p.type())


def test_every_model_output_warns_when_temporary(qgis_app):
    """Each algorithm that writes a model or variogram asks the base class for its path (which warns
    about a temporary file) rather than reading the parameter itself."""
    import inspect

    for alg in _all_algorithms():
        if alg.parameterDefinition("OUTPUT_MODEL") is not None:
            source = inspect.getsource(type(alg))
            assert "self.model_output(" in source, f"{alg.name()}: use self.model_output for OUTPUT_MODEL"
            assert 'parameterAsFileOutput(parameters, "OUTPUT_MODEL"' not in source, alg.name()
