"""The slow kinds of test and the marker each must carry (``make test-fast`` deselects them).

Markers are set at collection from what a test uses (see ``pytest_collection_modifyitems`` in
conftest.py); while a test runs, :func:`require` fails it if it starts one of the slow things
(a program of :data:`PROGRAMS`, a moto server) without the marker, so a new test cannot slip a
qgis_process run, R, moto or cfn-lint into the fast tier unnoticed.
"""
from __future__ import annotations

import os
import subprocess

#: marker -> what it means (pyproject.toml declares the same)
SLOW = {
    "qgis_process": "runs the qgis_process launcher as a subprocess",
    "desktop": "starts real desktop QGIS under Xvfb",
    "aws": "needs a moto server (S3, Batch) or cfn-lint",
    "gstat": "runs R (Rscript with gstat) as a reference",
    "slow": "one of the longest known-answer runs (listed in SLOW_TESTS)",
}
#: node-id prefixes of the tests that took longest in ``make test-fast`` (``--durations=25``, 30 November
#: 2026: 10 s or more each on a loaded machine, two thirds of the tier's time); ``make test`` runs them
SLOW_TESTS = (
    "tests/core/test_borehole_kselect.py::test_issue_like_inclined_holes_get_four_clusters",
    "tests/core/test_borehole_kselect.py::test_separation_finds_the_units_of_family_cases",
    "tests/core/test_borehole_kselect.py::test_separation_in_the_clustering_workflow_says_weak_evidence_on_one_blob",
    "tests/core/test_borehole_models.py::test_automatic_k_recovers_the_units_and_ari",
    "tests/core/test_borehole_models.py::test_gaussian_mixture_option_recovers_the_units",
    "tests/core/test_borehole_models.py::test_sequence_model_on_held_out_holes",
    "tests/core/test_geostats_kriging.py::test_equals_pykrige[1.0-0.0-32-spherical]",
    "tests/core/test_geostats_speed_paths.py::test_dense_grid_equals_pykrige[spherical-32-None]",
    "tests/core/test_hybrid.py::test_meuse_blocked_cv_not_worse_than_kriging",
    "tests/core/test_hyperspectral_features.py::test_positions_and_depths_agree_with_hylite",
    "tests/core/test_scaleout.py::test_local_backend_trains_every_member",
    "tests/qgis/test_bad_input.py::test_late_failure_leaves_every_existing_output[boreholeclustering-",
    "tests/qgis/test_bad_input_results.py::test_assay_code_minus_999_is_missing_not_a_detection_limit",
    "tests/qgis/test_bad_input_results.py::test_latin1_hole_names_survive",
    "tests/qgis/test_borehole.py::test_bad_input_messages_reach_the_user",
    "tests/qgis/test_borehole.py::test_clustering_then_sequence_model_on_synthetic_holes",
    "tests/qgis/test_installer.py::test_install_task_installs_from_the_index_and_refuses_to_replace_numpy",
    "tests/qgis/test_models.py::test_spectral_workflow_maps_the_synthetic_scene",
    "tests/qgis/test_package.py::test_plugin_repository_checker_accepts_the_zip",
    "tests/qgis/test_prospectivity_algs.py::test_stack_train_compare_predict_evaluate",
    "tests/qgis/test_train_ensemble_remote.py::test_local_backend_trains_vae_ensemble",
)
#: program names (as started) -> the marker a test that starts them must carry
PROGRAMS = {"geoml-qgis-process": "qgis_process", "qgis_process": "qgis_process", "qgis_process.bin": "qgis_process",
            "qgis-desktop": "desktop", "xvfb-run": "desktop", "Xvfb": "desktop", "cfn-lint": "aws",
            "Rscript": "gstat"}

_running = {"item": None}


def running(item) -> None:
    """Record the test now running (None between tests)."""
    _running["item"] = item


def require(marker: str, what: str) -> None:
    """Fail the running test if it lacks *marker* (it is about to do *what*)."""
    item = _running["item"]
    if item is not None and item.get_closest_marker(marker) is None:
        raise AssertionError(f"{item.nodeid} {what} but is not marked '{marker}' ({SLOW[marker]}); mark it "
                             f"(pytest.mark.{marker}) or teach conftest.py's collection hook to, so make "
                             f"test-fast leaves it out")


def watch_subprocesses() -> None:
    """Check every subprocess a test starts against :data:`PROGRAMS`."""
    original = subprocess.Popen.__init__
    if getattr(original, "geoml_watched", False):
        return

    def init(self, args, *rest, **kwargs):
        first = args if isinstance(args, (str, bytes, os.PathLike)) else (args[0] if args else "")
        name = os.path.basename(os.fsdecode(first).split()[0]) if os.fsdecode(first).strip() else ""
        if name in PROGRAMS:
            require(PROGRAMS[name], f"starts {name}")
        original(self, args, *rest, **kwargs)

    init.geoml_watched = True
    subprocess.Popen.__init__ = init
