"""Demo: mineral mapping of the bundled SYNTHETIC SWIR scene (USGS splib07 spectra, known truth).

A 1D CNN is trained on the USGS library alone, resampled from 1 nm onto the scene sensor's
99 bands, then classifies the cube; the Spectral Angle Mapper runs on the same cube as the
baseline; both maps are scored against the scene's truth.
"""
import numpy as np
from osgeo import gdal

from demo import Step
from geoml_qgis.core.hyperspectral.preprocess import METHODS as PREPROCESSING


def _scores(classes_path, truth_path, n_classes):
    """Overall accuracy and Cohen's kappa of a class map against the truth raster."""
    truth = gdal.Open(str(truth_path)).ReadAsArray().ravel().astype(int)
    pred = gdal.Open(str(classes_path)).ReadAsArray().ravel().astype(int)
    cm = np.zeros((n_classes + 1, n_classes + 1))
    np.add.at(cm, (truth, np.clip(pred, 0, n_classes)), 1)  # row/column 0: unclassified
    n = cm.sum()
    accuracy = np.trace(cm) / n
    expected = (cm.sum(axis=0) * cm.sum(axis=1)).sum() / n ** 2
    return accuracy, (accuracy - expected) / (1 - expected)


def hyperspectral(demo):
    """Hyperspectral mineral mapping: CNN trained on the USGS library vs SAM"""
    hs = demo.sample / "hyperspectral"
    cube, library, truth = hs / "synthetic_swir_cube.bil", hs / "usgs_scene_minerals.sli", hs / "synthetic_swir_truth.tif"
    model, report = demo.out / "hyperspectral_cnn.pt", demo.out / "hyperspectral_training.html"
    demo.run("geoml:trainspectralclassifier", LIBRARY=library, TARGET_CUBE=cube,
             PREPROCESSING=PREPROCESSING.index("brightness"), AUGMENT=True,
             EPOCHS=30, SEED=0, OUTPUT_MODEL=model, OUTPUT_REPORT=report)
    cnn_map, sam_map = demo.out / "hyperspectral_cnn_classes.tif", demo.out / "hyperspectral_sam_classes.tif"
    demo.run("geoml:classifyhyperspectral", INPUT=cube, MODEL=model, MIN_CONFIDENCE=0.0, OUTPUT_CLASSES=cnn_map,
             OUTPUT_CONFIDENCE=demo.out / "hyperspectral_cnn_confidence.tif")
    demo.run("geoml:spectralanglemapper", INPUT=cube, LIBRARY=library, MAX_ANGLE=0.5, OUTPUT_CLASSES=sam_map,
             OUTPUT_ANGLE=demo.out / "hyperspectral_sam_angle.tif")
    n_classes = len(gdal.Open(str(truth)).GetMetadataItem("GEOML_CLASSES").split(","))
    (cnn_oa, cnn_kappa), (sam_oa, sam_kappa) = _scores(cnn_map, truth, n_classes), _scores(sam_map, truth, n_classes)
    demo.report("training report", "held-out curves + confusion matrix", report)
    demo.report("CNN class map (synthetic truth)", f"OA {cnn_oa:.3f}, kappa {cnn_kappa:.3f}", cnn_map)
    demo.report("SAM class map (synthetic truth)", f"OA {sam_oa:.3f}, kappa {sam_kappa:.3f}", sam_map)


HS = tuple(f"hyperspectral/{n}" for n in ("synthetic_swir_cube.bil", "usgs_scene_minerals.sli", "synthetic_swir_truth.tif"))
STEPS = [Step(hyperspectral, samples=HS, outputs=(
    "hyperspectral_cnn.pt", "hyperspectral_training.html", "hyperspectral_cnn_classes.tif",
    "hyperspectral_cnn_confidence.tif", "hyperspectral_sam_classes.tif", "hyperspectral_sam_angle.tif"))]

GROUP = "Hyperspectral mapping (synthetic scene)"
