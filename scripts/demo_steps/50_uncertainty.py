"""Demo: VAE ensemble on the Meuse stand-in occurrences (zinc >= 500 ppm, see 40_prospectivity.py):
probability and aleatoric / epistemic / total uncertainty rasters, risk-return targets, suggested samples.

Uses the feature stack and occurrence layer written by 40_prospectivity.py.
"""
from demo import Step
from geoml_qgis.core.prospectivity.model import ENSEMBLE, METHODS


def uncertainty(demo):
    """Prospectivity with uncertainty: VAE ensemble, risk-return targets, suggested samples"""
    stack, occ = demo.out / "prospectivity_stack.tif", demo.out / "meuse_zinc_occurrences.gpkg"
    model, report = demo.out / "prospectivity_ensemble.pt", demo.out / "prospectivity_ensemble_cv.html"
    demo.run("geoml:trainprospectivity", INPUT=occ, LABEL_FIELD="occurrence", FEATURES=stack,
             METHOD=METHODS.index(ENSEMBLE), MEMBERS=10,
             LATENT_DIM=4, UNLABELLED=2000, EPOCHS=60, FOLDS=3, OUTPUT_MODEL=model, OUTPUT_REPORT=report)
    cv = demo.cv_summaries(model)[ENSEMBLE]
    demo.report("VAE ensemble CV", f"ROC AUC {cv['roc_auc_mean']:.3f} ± {cv['roc_auc_sd']:.3f}", report)
    outs = {f"OUTPUT_{k.upper()}": demo.out / f"prospectivity_ensemble_{k}.tif"
            for k in ("probability", "aleatoric", "epistemic", "total")}
    demo.run("geoml:predictprospectivity", MODEL=model, FEATURES=stack, **outs)
    demo.report("uncertainty rasters", "probability, aleatoric, epistemic, total", outs["OUTPUT_TOTAL"])
    res = demo.run("geoml:rankdrilltargets", PROBABILITY=outs["OUTPUT_PROBABILITY"], UNCERTAINTY=outs["OUTPUT_TOTAL"],
                   COST=1, VALUE=3, CONFIDENCE=0.9, N_TARGETS=10, MIN_SPACING=300,
                   OUTPUT_TARGETS=demo.out / "drill_targets.gpkg", OUTPUT_CATEGORIES=demo.out / "risk_return.tif",
                   OUTPUT_REPORT=demo.out / "drill_targets.html")
    demo.report("drill targets", f"{res['N_FOUND']} targets >= 300 m apart", demo.out / "drill_targets.html")
    res = demo.run("geoml:suggestsamples", MODEL=model, FEATURES=stack, N_TARGETS=8, MIN_SPACING=300,
                   OUTPUT=demo.out / "suggested_samples.gpkg")
    demo.report("suggested samples", f"{res['N_FOUND']} places of highest epistemic uncertainty",
                demo.out / "suggested_samples.gpkg")


STEPS = [Step(uncertainty, inputs=("prospectivity_stack.tif", "meuse_zinc_occurrences.gpkg"), outputs=(
    "prospectivity_ensemble.pt", "prospectivity_ensemble_cv.html", *(f"prospectivity_ensemble_{k}.tif" for k in (
        "probability", "aleatoric", "epistemic", "total")),
    "drill_targets.gpkg", "risk_return.tif", "drill_targets.html", "suggested_samples.gpkg"))]
