"""Demo: the Meuse covariate grids aligned into one feature stack."""
from osgeo import gdal

GROUP = "Feature stack"


def meuse_stack(demo):
    """Meuse covariates aligned into one stack"""
    grids = demo.sample / "meuse" / "grids"
    out = demo.out / "meuse_stack.tif"
    demo.run("geoml:alignrasters", INPUTS=[grids / f"{n}.tif" for n in ("dem", "dist", "ffreq", "soil", "twi")],
             RESAMPLING=0, OUTPUT=out)
    ds = gdal.Open(str(out))
    demo.report("feature stack", f"{ds.RasterCount} bands, {ds.RasterXSize} x {ds.RasterYSize} cells", out)


STEPS = [meuse_stack]
