"""Demo: hybrid kriging + Conv1D + BiLSTM predictor of Meuse zinc, compared with kriging on the same folds."""
from demo import Step
from geoml_qgis.core.geostats.models import MODEL_CHOICES


def meuse_hybrid(demo):
    """Meuse zinc: hybrid predictor vs ordinary kriging"""
    grids = demo.sample / "meuse" / "grids"
    covs = [grids / "dist.tif", grids / "dem.tif"]
    res = demo.run("geoml:trainhybridpredictor", INPUT=demo.sample / "meuse" / "meuse.gpkg", FIELD="zinc",
                   COVARIATES=covs, NEIGHBOURS=16, TRANSFORM=1,  # log
                   EPOCHS=150, MEMBERS=3, VARIOGRAM_MODEL=MODEL_CHOICES.index("spherical"), FOLDS=5,
                   OUTPUT_MODEL=demo.out / "meuse_hybrid.pt", OUTPUT_REPORT=demo.out / "meuse_hybrid.html")
    demo.report("hybrid blocked CV (log zinc)", f"RMSE hybrid {res['HYBRID_RMSE']:.3f} vs kriging "
                f"{res['KRIGING_RMSE']:.3f}", res["OUTPUT_REPORT"])
    out = demo.run("geoml:predicthybrid", MODEL=res["OUTPUT_MODEL"], INPUT=demo.sample / "meuse" / "meuse.gpkg",
                   COVARIATES=covs, REFERENCE=grids / "dist.tif", OUTPUT_PREDICTION=demo.out / "meuse_hybrid_zinc.tif",
                   OUTPUT_UNCERTAINTY=demo.out / "meuse_hybrid_spread.tif")
    demo.report("hybrid zinc map", "prediction + ensemble spread (ppm)", out["OUTPUT_PREDICTION"])


STEPS = [Step(meuse_hybrid, samples=("meuse/meuse.gpkg", "meuse/grids/dist.tif", "meuse/grids/dem.tif"),
              outputs=("meuse_hybrid.pt", "meuse_hybrid.html", "meuse_hybrid_zinc.tif", "meuse_hybrid_spread.tif"))]

GROUP = "Hybrid predictor — Meuse zinc"
