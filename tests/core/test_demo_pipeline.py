"""The demo (scripts/demo.py) is a declared pipeline: every step names the files it reads and writes,
each input is an earlier step's output, and summary figures come from declared outputs or CSV/JSON
(no step reads report HTML). Checked without running anything."""
from __future__ import annotations

import ast
import sys

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def demo():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import demo

        yield demo
    finally:
        sys.path.remove(str(ROOT / "scripts"))


def test_every_step_input_is_an_earlier_output(demo):
    steps = [step for _, step in demo.load_steps()]
    assert len(steps) >= 15 and demo.check_pipeline(steps) == []
    # steps that read what others wrote say so (50 uses 40's stack, 90 uses 45's table)
    assert {"prospectivity_stack.tif", "yukon_pca.gpkg", "borehole_clusters.gpkg"} <= {i for s in steps for i in s.inputs}


def test_pipeline_check_names_what_does_not_chain(demo):
    def first(d):
        """First"""

    def second(d):
        """Second"""

    steps = [demo.Step(second, inputs=("a.tif",), outputs=("b.tif",), samples=("meuse/none.gpkg",)),
             demo.Step(first, outputs=("a.tif", "b.tif"))]
    assert demo.check_pipeline(steps) == [
        "Second: input a.tif is written by no earlier step", "Second: sample meuse/none.gpkg is not bundled",
        "First: output b.tif is already written by an earlier step"]


def test_no_step_reads_report_html():
    for path in sorted((ROOT / "scripts" / "demo_steps").glob("[0-9]*.py")):
        tree = ast.parse(path.read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
        reads = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "read_text"]
        assert "re" not in imported and not reads, f"{path.name} scrapes a file's text; read a declared output"
