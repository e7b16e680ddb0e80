"""Demo: mineral mapping of the bundled SYNTHETIC SWIR scene (USGS splib07 spectra, known truth).

A 1D CNN is trained on the USGS library alone, resampled from 1 nm onto the scene sensor's
99 bands, then classifies the cube; the Spectral Angle Mapper runs on the same cube as the
baseline; both maps are scored against the scene's truth.
"""
from osgeo import gdal


def _scores(classes_path, truth_path, names):
    from geoml_qgis.core.hyperspectral.metrics import scores

    return scores(gdal.Open(str(truth_path)).ReadAsArray(), gdal.Open(str(classes_path)).ReadAsArray(), names)


def hyperspectral(demo):
    """Hyperspectral mineral mapping: CNN trained on the USGS library vs SAM"""
    hs = demo.sample / "hyperspectral"
    cube, library, truth = hs / "synthetic_swir_cube.bil", hs / "usgs_scene_minerals.sli", hs / "synthetic_swir_truth.tif"
    model, report = demo.out / "hyperspectral_cnn.pt", demo.out / "hyperspectral_training.html"
    demo.run("geoml:trainspectralclassifier", LIBRARY=library, TARGET_CUBE=cube, PREPROCESSING=0, AUGMENT=True,
             EPOCHS=30, SEED=0, OUTPUT_MODEL=model, OUTPUT_REPORT=report)
    cnn_map, sam_map = demo.out / "hyperspectral_cnn_classes.tif", demo.out / "hyperspectral_sam_classes.tif"
    demo.run("geoml:classifyhyperspectral", INPUT=cube, MODEL=model, MIN_CONFIDENCE=0.0, OUTPUT_CLASSES=cnn_map,
             OUTPUT_CONFIDENCE=demo.out / "hyperspectral_cnn_confidence.tif")
    demo.run("geoml:spectralanglemapper", INPUT=cube, LIBRARY=library, MAX_ANGLE=0.5, OUTPUT_CLASSES=sam_map,
             OUTPUT_ANGLE=demo.out / "hyperspectral_sam_angle.tif")
    names = gdal.Open(str(truth)).GetMetadataItem("GEOML_CLASSES").split(",")
    cnn, sam = _scores(cnn_map, truth, names), _scores(sam_map, truth, names)
    demo.report("training report", "held-out curves + confusion matrix", report)
    demo.report("CNN class map (synthetic truth)", f"OA {cnn['accuracy']:.3f}, kappa {cnn['kappa']:.3f}", cnn_map)
    demo.report("SAM class map (synthetic truth)", f"OA {sam['accuracy']:.3f}, kappa {sam['kappa']:.3f}", sam_map)


STEPS = [hyperspectral]
