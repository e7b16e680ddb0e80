"""Demo: Meuse log(zinc) — variogram, ordinary kriging onto the 40 m grid, cross-validation, kriged features."""
import json

from osgeo import gdal

from demo import Step
from geoml_qgis.core.geostats.models import MODEL_CHOICES


def meuse_kriging(demo):
    """Meuse log(zinc): variogram, kriging, cross-validation"""
    grids = demo.sample / "meuse" / "grids"
    points = demo.out / "meuse_logzinc.gpkg"
    demo.run("native:fieldcalculator", INPUT=demo.sample / "meuse" / "meuse.gpkg", FIELD_NAME="log_zinc",
             FIELD_TYPE=0, FIELD_LENGTH=12, FIELD_PRECISION=6, FORMULA='ln("zinc")', OUTPUT=points)
    fit = demo.run("geoml:fitvariogram", INPUT=points, FIELD="log_zinc", VARIOGRAM_MODEL=MODEL_CHOICES.index("auto"),
                   OUTPUT_MODEL=demo.out / "meuse_variogram.json", OUTPUT_REPORT=demo.out / "meuse_variogram.html")
    model = json.loads(open(fit["OUTPUT_MODEL"]).read())
    demo.report("variogram (auto fit)", f"{model['kind']}: nugget {model['nugget']:.3f}, sill {model['sill']:.3f}, "
                f"range {model['range']:.0f} m", fit["OUTPUT_REPORT"])
    ok = demo.run("geoml:ordinarykriging", INPUT=points, FIELD="log_zinc", REFERENCE=grids / "dist.tif",
                  VARIOGRAM_FILE=fit["OUTPUT_MODEL"], NEIGHBOURS=32,
                  OUTPUT_ESTIMATE=demo.out / "meuse_logzinc_ok.tif", OUTPUT_VARIANCE=demo.out / "meuse_logzinc_okvar.tif")
    ds = gdal.Open(ok["OUTPUT_ESTIMATE"])
    band = ds.GetRasterBand(1)
    lo, hi = band.ComputeRasterMinMax(False)
    demo.report("ordinary kriging", f"{ds.RasterXSize} x {ds.RasterYSize} cells, log(zinc) {lo:.2f}..{hi:.2f}",
                ok["OUTPUT_ESTIMATE"])
    cv = demo.run("geoml:krigingcrossvalidation", INPUT=points, FIELD="log_zinc", VARIOGRAM_FILE=fit["OUTPUT_MODEL"],
                  NEIGHBOURS=0, METHOD=0,  # leave-one-out
                  OUTPUT=demo.out / "meuse_cv.gpkg", OUTPUT_REPORT=demo.out / "meuse_cv.html")
    demo.report("kriging leave-one-out", f"RMSE {cv['RMSE']:.3f}, MSDR {cv['MSDR']:.2f}", cv["OUTPUT_REPORT"])
    feat = demo.run("geoml:krigedfeatures", INPUT=points, FIELD="log_zinc", REFERENCE=grids / "dist.tif",
                    VARIOGRAM_FILE=fit["OUTPUT_MODEL"], OUTPUT=demo.out / "meuse_kriged_features.tif")
    demo.report("kriged features", "estimate, variance, distance, density", feat["OUTPUT"])


STEPS = [Step(meuse_kriging, samples=("meuse/meuse.gpkg", "meuse/grids/dist.tif"), outputs=(
    "meuse_logzinc.gpkg", "meuse_variogram.json", "meuse_variogram.html", "meuse_logzinc_ok.tif", "meuse_logzinc_okvar.tif",
    "meuse_cv.gpkg", "meuse_cv.html", "meuse_kriged_features.tif"))]

GROUP = "Kriging — Meuse zinc"
