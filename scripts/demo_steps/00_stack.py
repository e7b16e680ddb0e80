"""Demo: the Meuse covariate grids aligned into one feature stack."""
from osgeo import gdal

from demo import Step

GROUP = "Feature stack"


def meuse_stack(demo):
    """Meuse covariates aligned into one stack"""
    grids = demo.sample / "meuse" / "grids"
    out = demo.out / "meuse_stack.tif"
    demo.run("geoml:alignrasters", INPUTS=[grids / f"{n}.tif" for n in ("dem", "dist", "ffreq", "soil", "twi")],
             RESAMPLING=0, OUTPUT=out)  # nearest: the categorical grids keep their classes
    ds = gdal.Open(str(out))
    demo.report("feature stack", f"{ds.RasterCount} bands, {ds.RasterXSize} x {ds.RasterYSize} cells", out)


STEPS = [Step(meuse_stack, outputs=("meuse_stack.tif",),
              samples=tuple(f"meuse/grids/{n}.tif" for n in ("dem", "dist", "ffreq", "soil", "twi")))]
