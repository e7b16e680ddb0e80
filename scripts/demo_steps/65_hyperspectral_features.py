"""Demo: absorption features and abundances of the bundled SYNTHETIC SWIR scene (USGS splib07 spectra, known truth).

Minimum wavelength mapping gives the white-mica Al-OH position map (rainbow over 2120-2245 nm,
transparency from depth) and a histogram report; NNLS unmixing of the scene library gives one
abundance band per mineral plus an RMSE band, scored against the scene's dominant-class truth.
"""
import numpy as np
from osgeo import gdal

from demo import Step
from geoml_qgis.core.hyperspectral.unmix import METHODS as UNMIXING


def hyperspectral_features(demo):
    """Hyperspectral features: Al-OH minimum wavelength map and mineral abundances"""
    hs = demo.sample / "hyperspectral"
    cube, library, truth_path = hs / "synthetic_swir_cube.bil", hs / "usgs_scene_minerals.sli", hs / "synthetic_swir_truth.tif"
    features, position, report = (demo.out / "hyperspectral_features.tif", demo.out / "hyperspectral_aloh_position.tif",
                                  demo.out / "hyperspectral_features.html")
    res = demo.run("geoml:minimumwavelength", INPUT=cube, OUTPUT=features, OUTPUT_POSITION=position,
                   OUTPUT_REPORT=report)
    ds = gdal.Open(str(features))
    pos = ds.GetRasterBand(1).ReadAsArray()
    ok = pos != ds.GetRasterBand(1).GetNoDataValue()
    truth_ds = gdal.Open(str(truth_path))
    truth = truth_ds.ReadAsArray()
    classes = truth_ds.GetMetadataItem("GEOML_CLASSES").split(",")
    by_mineral = ", ".join(f"{m} {np.median(pos[ok & (truth == classes.index(m) + 1)]):.0f} nm"
                           for m in ("muscovite", "kaolinite", "montmorillonite") if (ok & (truth == classes.index(m) + 1)).any())
    demo.report("Al-OH position map", f"{res['FEATURE_PIXELS']} px with a feature; median by dominant mineral: "
                f"{by_mineral}", position)
    demo.report("minimum wavelength report", "position and depth histograms per window", report)
    abundances = demo.out / "hyperspectral_abundances.tif"
    demo.run("geoml:unmixabundances", INPUT=cube, LIBRARY=library, METHOD=UNMIXING.index("nnls"), OUTPUT=abundances)
    ab = gdal.Open(str(abundances)).ReadAsArray()
    agree = float(((ab[:-1].argmax(axis=0) + 1) == truth).mean())
    demo.report("abundance map (NNLS, synthetic truth)", f"largest abundance = dominant class in {agree:.1%} of pixels; "
                f"median RMSE {np.median(ab[-1]):.4f}", abundances)


HS = tuple(f"hyperspectral/{n}" for n in ("synthetic_swir_cube.bil", "usgs_scene_minerals.sli", "synthetic_swir_truth.tif"))
STEPS = [Step(hyperspectral_features, samples=HS, outputs=(
    "hyperspectral_features.tif", "hyperspectral_aloh_position.tif", "hyperspectral_features.html",
    "hyperspectral_abundances.tif"))]

GROUP = "Hyperspectral features (synthetic scene)"
