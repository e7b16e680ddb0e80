"""Every number, text or file an algorithm returns is a declared output.

The graphical modeler can wire only declared outputs, and ``qgis_process --json`` users can rely
only on them. Two checks: the ``run_alg`` and ``qgis_process`` fixtures (conftest) fail any test
whose algorithm run returns an undeclared key, and every algorithm is run by at least one test; a
scan of each algorithm's code also covers keys returned only on branches the tests do not take.
"""
from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

from .conftest import undeclared_outputs

TESTS = Path(__file__).resolve().parent
KEY = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _algorithms():
    from geoml_qgis.algorithms import algorithm_classes

    return algorithm_classes()


def returned_keys(cls) -> set[str]:
    """Literal keys of the dictionaries the methods of *cls* return (``return {...}``, or a name that
    is returned and filled by ``name = {...}``, ``name["KEY"] = ...`` or ``name.update({...})``)."""
    tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))
    keys: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ClassDef) and node.name == cls.__name__):
            continue
        for func in (n for n in node.body if isinstance(n, ast.FunctionDef)):
            returned = {r.value.id for r in ast.walk(func) if isinstance(r, ast.Return) and isinstance(r.value, ast.Name)}
            dicts = [r.value for r in ast.walk(func) if isinstance(r, ast.Return) and isinstance(r.value, ast.Dict)]
            for n in ast.walk(func):
                if isinstance(n, ast.Assign):
                    for t in n.targets:
                        if isinstance(t, ast.Name) and t.id in returned and isinstance(n.value, ast.Dict):
                            dicts.append(n.value)
                        if (isinstance(t, ast.Subscript) and isinstance(t.value, ast.Name) and t.value.id in returned
                                and isinstance(t.slice, ast.Constant)):
                            keys.add(t.slice.value)
                if (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "update"
                        and isinstance(n.func.value, ast.Name) and n.func.value.id in returned):
                    dicts.extend(a for a in n.args if isinstance(a, ast.Dict))
            for d in dicts:
                keys.update(k.value for k in d.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
    return {k for k in keys if KEY.match(k)}


def test_every_returned_key_is_declared(qgis_app):
    bad = {}
    for cls in _algorithms():
        alg = cls()
        alg.initAlgorithm()
        declared = {o.name() for o in alg.outputDefinitions()}
        keys = returned_keys(cls)
        assert keys, f"no returned keys found in {cls.__name__}: the scan is broken"
        if keys - declared:
            bad[cls.NAME] = sorted(keys - declared)
    assert not bad, f"undeclared outputs (add them with addOutput): {bad}"


def test_every_algorithm_is_run_by_a_test(qgis_app):
    """The fixtures check each run's result keys; every algorithm must be among the runs."""
    calls = re.compile(r"""(?:run_alg|qgis_process)\(\s*["']geoml:(\w+)["']""")
    run = set()
    for path in TESTS.glob("test_*.py"):
        run.update(calls.findall(path.read_text(encoding="utf-8")))
    missing = sorted({cls.NAME for cls in _algorithms()} - run)
    assert not missing, f"algorithms no test runs through run_alg/qgis_process: {missing}"


def test_undeclared_key_is_caught(qgis_app):
    assert undeclared_outputs("geoml:suggestsamples", {"OUTPUT": "x", "N_FOUND": 3}) == []
    assert undeclared_outputs("geoml:suggestsamples", {"OUTPUT": "x", "N_TOTAL": 3}) == ["N_TOTAL"]
    with pytest.raises(KeyError):
        undeclared_outputs("geoml:nosuchalgorithm", {})


def test_scan_reads_return_dicts(qgis_app):
    from geoml_qgis.algorithms.prospectivity.rank_drill_targets import RankDrillTargets
    from geoml_qgis.algorithms.prospectivity.train_prospectivity import TrainProspectivity

    assert returned_keys(RankDrillTargets) == {"OUTPUT_TARGETS", "OUTPUT_CATEGORIES", "N_FOUND",
                                               "OUTPUT_REPORT"}
    assert returned_keys(TrainProspectivity) == {"OUTPUT_MODEL", "CV_ROC_AUC", "OUTPUT_REPORT", "OUTPUT_EXPLANATIONS"}
