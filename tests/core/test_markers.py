"""A test that starts a slow kind of thing (qgis_process, desktop QGIS, R, moto, cfn-lint) must carry
its marker, or ``make test-fast`` would run it: tests/markers.py refuses it before it starts."""
from __future__ import annotations

import subprocess

import pytest


def test_an_unmarked_test_may_not_start_r():
    with pytest.raises(AssertionError, match=r"starts Rscript but is not marked 'gstat'"):
        subprocess.run(["Rscript", "-e", "1"], capture_output=True)


@pytest.mark.gstat
def test_a_marked_one_may():
    try:
        subprocess.run(["Rscript", "-e", "1"], capture_output=True, timeout=60)
    except FileNotFoundError:
        pass  # no R here: the point is that the marker check let it through


def test_tests_that_compare_with_gstat_are_marked(request):
    items = request.session.items
    gstat = [i for i in items if "run_gstat" in getattr(i.function, "__code__", compile("", "", "exec")).co_names]
    assert all(i.get_closest_marker("gstat") for i in gstat)


def test_every_listed_slow_test_exists():
    from tests.conftest import ROOT
    from tests.markers import SLOW_TESTS

    for entry in SLOW_TESTS:
        path, function = entry.split("::")
        name = function.split("[")[0]
        assert f"def {name}(" in (ROOT / path).read_text(), f"{entry} names no test; drop it from SLOW_TESTS"
