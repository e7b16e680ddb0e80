"""Demo: Meuse zinc beyond ordinary kriging — kriging with external drift on sqrt(dist) (gstat's textbook
example) and P(zinc > 500 ppm) from indicator kriging and from 50 sequential Gaussian simulations."""
import numpy as np
from osgeo import gdal

from demo import Step
from geoml_qgis.core.geostats.drift import DRIFTS
from geoml_qgis.core.geostats.models import MODEL_CHOICES


def _sqrt_dist(demo):
    """sqrt(distance to the river) on the 40 m grid (the covariate of gstat's KED example)."""
    path = demo.out / "meuse_sqrt_dist.tif"
    src = gdal.Open(str(demo.sample / "meuse" / "grids" / "dist.tif"))
    a = src.GetRasterBand(1).ReadAsArray().astype(np.float32)
    ds = gdal.GetDriverByName("GTiff").CreateCopy(str(path), src)
    ds.GetRasterBand(1).WriteArray(np.where(a >= 0, np.sqrt(np.maximum(a, 0)), -1).astype(np.float32))
    ds = None
    return path


def _read(path, band=1):
    ds = gdal.Open(str(path))  # kept open while its band is read
    b = ds.GetRasterBand(band)
    return np.ma.masked_equal(b.ReadAsArray().astype(float), b.GetNoDataValue())


def meuse_external_drift(demo):
    """Meuse log(zinc): kriging with external drift on sqrt(dist)"""
    points = demo.out / "meuse_logzinc_ked.gpkg"
    demo.run("native:fieldcalculator", INPUT=demo.sample / "meuse" / "meuse.gpkg", FIELD_NAME="log_zinc",
             FIELD_TYPE=0, FIELD_LENGTH=12, FIELD_PRECISION=6, FORMULA='ln("zinc")', OUTPUT=points)
    cov = _sqrt_dist(demo)
    ked = demo.run("geoml:trendkriging", INPUT=points, FIELD="log_zinc", DRIFT=DRIFTS.index("constant"), COVARIATES=cov,
                   REFERENCE=cov, VARIOGRAM_MODEL=MODEL_CHOICES.index("exponential"), NEIGHBOURS=0,
                   CROSS_VALIDATION=1,  # leave-one-out
                   OUTPUT_ESTIMATE=demo.out / "meuse_logzinc_ked.tif", OUTPUT_VARIANCE=demo.out / "meuse_logzinc_kedvar.tif",
                   OUTPUT_REPORT=demo.out / "meuse_ked_variogram.html")
    demo.report("kriging with external drift sqrt(dist)", f"leave-one-out RMSE {ked['RMSE']:.3f}, MSDR {ked['MSDR']:.2f}",
                ked["OUTPUT_ESTIMATE"])


def meuse_exceedance(demo):
    """Meuse zinc: P(zinc > 500 ppm) from indicator kriging and from 50 simulations"""
    grid = demo.sample / "meuse" / "grids" / "dist.tif"
    zinc = demo.sample / "meuse" / "meuse.gpkg"
    ik = demo.run("geoml:indicatorkriging", INPUT=zinc, FIELD="zinc", CUTOFFS="200,500,1000",
                  VARIOGRAM_MODEL=MODEL_CHOICES.index("spherical"),
                  REFERENCE=grid, NEIGHBOURS=32, OUTPUT_EXCEEDANCE=demo.out / "meuse_zinc_ik_exceedance.tif",
                  OUTPUT_ETYPE=demo.out / "meuse_zinc_ik_etype.tif")
    sgs = demo.run("geoml:gaussiansimulation", INPUT=zinc, FIELD="zinc", REFERENCE=grid,
                   VARIOGRAM_MODEL=MODEL_CHOICES.index("spherical"),
                   REALISATIONS=50, SEED=1, NEIGHBOURS=12, NODE_NEIGHBOURS=12, CUTOFFS="500",
                   OUTPUT_ETYPE=demo.out / "meuse_zinc_sgs_etype.tif", OUTPUT_SD=demo.out / "meuse_zinc_sgs_sd.tif",
                   OUTPUT_EXCEEDANCE=demo.out / "meuse_zinc_sgs_p500.tif")
    p_ik, p_sgs = _read(ik["OUTPUT_EXCEEDANCE"], 2), _read(sgs["OUTPUT_EXCEEDANCE"])
    demo.report("P(zinc > 500): indicator kriging", f"{100 * (p_ik > 0.5).mean():.0f}% of cells above 0.5",
                ik["OUTPUT_EXCEEDANCE"])
    demo.report("P(zinc > 500): 50 simulations", f"{100 * (p_sgs > 0.5).mean():.0f}% of cells above 0.5; "
                f"mean |IK - SGS| {np.abs(p_ik - p_sgs).mean():.2f}", sgs["OUTPUT_EXCEEDANCE"])


STEPS = [
    Step(meuse_external_drift, samples=("meuse/meuse.gpkg", "meuse/grids/dist.tif"), outputs=(
        "meuse_logzinc_ked.gpkg", "meuse_sqrt_dist.tif", "meuse_logzinc_ked.tif", "meuse_logzinc_kedvar.tif",
        "meuse_ked_variogram.html")),
    Step(meuse_exceedance, samples=("meuse/meuse.gpkg", "meuse/grids/dist.tif"), outputs=(
        "meuse_zinc_ik_exceedance.tif", "meuse_zinc_ik_etype.tif", "meuse_zinc_sgs_etype.tif", "meuse_zinc_sgs_sd.tif",
        "meuse_zinc_sgs_p500.tif")),
]

GROUP = "Geostatistics beyond ordinary kriging — Meuse zinc"
