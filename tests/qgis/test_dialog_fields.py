"""Field parameters find their field by name, in the dialog and at run time (never the first field, fid)."""
from __future__ import annotations

import pandas as pd

from .conftest import SAMPLE, recording_feedback

BOREHOLES = SAMPLE / "boreholes"


def _memory_layer(fields: str, name: str):
    from qgis.core import QgsProject, QgsVectorLayer

    layer = QgsVectorLayer(f"Point?crs=EPSG:32633&{fields}", name, "memory")
    QgsProject.instance().addMapLayer(layer)
    return layer


def _values(dialog, names):
    wrappers = dialog.mainWidget().wrappers
    return {n: wrappers[n].parameterValue() for n in names}


def test_match_field_knows_the_usual_names():
    from geoml_qgis.algorithms.common.fields import match_field

    names = ["fid", "HoleID", "Easting", "NORTH", "RL", "From_m", "Azi", "DEP", "Cu_ppm"]
    assert [match_field(r, names) for r in ("hole", "x", "y", "z", "from", "azimuth", "label")] == [
        "HoleID", "Easting", "NORTH", "RL", "From_m", "Azi", "DEP"]
    assert match_field("depth", names) is None and match_field("dip", names) is None
    assert match_field("hole", ["hole_id", "hole"]) == "hole"  # the canonical name wins
    assert match_field("x", ["X", "x_coord"]) == "X"  # letter case aside, in the role's order


def test_every_field_parameter_is_made_by_the_helper(qgis_app):
    from qgis.core import QgsProcessingParameterField

    from geoml_qgis.algorithms import algorithm_classes
    from geoml_qgis.algorithms.common.fields import ROLE_KEY, ROLES

    algs = [cls() for cls in algorithm_classes()]
    for alg in algs:
        alg.initAlgorithm()
        for p in alg.parameterDefinitions():
            if isinstance(p, QgsProcessingParameterField):
                role = p.metadata().get(ROLE_KEY)
                assert role is not None, f"{alg.name()}.{p.name()}: use common.fields.field_parameter"
                assert not role or p.defaultValue() == ROLES[role][0], (alg.name(), p.name())


def test_dialog_selects_fields_by_name_not_the_first(algorithm_dialog):
    _memory_layer("field=fid:integer&field=HOLE:string&field=from:double&field=To:double&field=x:double"
                  "&field=y:double&field=z:double&field=depth:double&field=Cu_ppm:double", "assays")
    dialog = algorithm_dialog("geoml:boreholeclustering")
    assert _values(dialog, ["HOLE_FIELD", "FROM_FIELD", "TO_FIELD", "X_FIELD", "Y_FIELD", "Z_FIELD", "DEPTH_FIELD"]) == {
        "HOLE_FIELD": "HOLE", "FROM_FIELD": "from", "TO_FIELD": "To", "X_FIELD": "x", "Y_FIELD": "y",
        "Z_FIELD": "z", "DEPTH_FIELD": "depth"}


def test_required_field_without_its_name_stays_empty(algorithm_dialog):
    # QGIS leaves the box empty, never on fid: the run then looks for the usual names or says what to choose
    _memory_layer("field=fid:integer&field=DEP:integer&field=PC1:double", "deposits")
    dialog = algorithm_dialog("geoml:trainprospectivity")
    assert _values(dialog, ["LABEL_FIELD"])["LABEL_FIELD"] in (None, "")


def test_run_finds_usual_names_and_says_so(run_alg, tmp_path):
    collars = pd.read_csv(BOREHOLES / "synthetic_collars.csv").rename(
        columns={"hole": "HoleID", "x": "Easting", "y": "Northing", "z": "RL", "azimuth": "Azi", "dip": "Dip"})
    collars.insert(0, "fid", range(1, len(collars) + 1))
    path = tmp_path / "collars.csv"
    collars.to_csv(path, index=False)

    feedback = recording_feedback()
    res = run_alg("geoml:desurveyholes", {"COLLARS": str(path), "CRS": "EPSG:28992",
                                          "OUTPUT": str(tmp_path / "traces.gpkg")}, feedback=feedback)
    assert res["N_HOLES"] == len(collars)
    assert any("HoleID" in i and "found by its name" in i for i in feedback.infos), feedback.infos
    assert any("RL" in i for i in feedback.infos)


def test_required_field_without_a_match_names_what_to_choose(run_alg, tmp_path):
    import pytest
    from qgis.core import QgsProcessingException

    path = tmp_path / "collars.csv"
    pd.DataFrame({"fid": [1], "name": ["A"], "x": [0.0], "y": [0.0], "z": [0.0]}).to_csv(path, index=False)
    with pytest.raises(QgsProcessingException, match="Collar hole id field"):
        run_alg("geoml:desurveyholes", {"COLLARS": str(path), "CRS": "EPSG:28992",
                                        "OUTPUT": str(tmp_path / "traces.gpkg")})


def test_value_field_is_chosen_not_fid(algorithm_dialog):
    from qgis.core import QgsProject, QgsVectorLayer

    layer = QgsVectorLayer(str(SAMPLE / "meuse" / "meuse.gpkg"), "meuse", "ogr")
    QgsProject.instance().addMapLayer(layer)
    assert layer.fields().names()[0] == "fid"
    dialog = algorithm_dialog("geoml:ordinarykriging")
    wrappers = dialog.mainWidget().wrappers
    from qgis.core import QgsProcessingContext

    wrappers["INPUT"].setParameterValue(layer.id(), QgsProcessingContext())
    assert _values(dialog, ["INPUT"])["INPUT"] == layer.id()
    assert _values(dialog, ["FIELD"])["FIELD"] in (None, "")  # the geologist picks zinc, cadmium...


def test_reference_blas_hint_is_logged_once_per_session(run_alg, tmp_path, monkeypatch):
    from geoml_qgis.algorithms.common import base

    monkeypatch.setattr(base, "_blas_noted", False)
    monkeypatch.setattr(base, "blas_hint", lambda: "numpy uses the system's reference BLAS: install libopenblas0-pthread")
    runs = []
    for i in range(2):
        runs.append(recording_feedback())
        run_alg("geoml:desurveyholes", {"COLLARS": str(BOREHOLES / "synthetic_collars.csv"), "CRS": "EPSG:28992",
                                        "OUTPUT": str(tmp_path / f"traces{i}.gpkg")}, feedback=runs[-1])
    assert [sum("libopenblas0-pthread" in t for t in fb.infos) for fb in runs] == [1, 0]
