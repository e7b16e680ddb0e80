"""Demo: mineral prospectivity on the Meuse data, with zinc >= 500 ppm standing for an 'occurrence'.

Meuse has no mineral deposits; the stand-in target is topsoil zinc of at least 500 ppm (57 of
155 points), the rest are non-occurrences. Evidence: elevation, distance to the river, wetness
index (continuous) and flood frequency class (one-hot); pretext task: the soil class of the
soil map at 1,000 random cells.
"""
from demo import Step
from geoml_qgis.core.io import read_points, write_points
from geoml_qgis.core.prospectivity.model import METHODS


def prospectivity_train(demo):
    """Prospectivity: feature stack, transfer vs baselines (CV), probability map, evaluation"""
    grids = demo.sample / "meuse" / "grids"
    pts = read_points(demo.sample / "meuse" / "meuse.gpkg")
    pts.attributes = pts.attributes.assign(occurrence=(pts.attributes["zinc"] >= 500).astype(int))
    occ = demo.out / "meuse_zinc_occurrences.gpkg"
    write_points(occ, pts, columns=["zinc", "occurrence"])
    stack = demo.out / "prospectivity_stack.tif"
    demo.run("geoml:buildfeaturestack", INPUTS=[grids / f"{n}.tif" for n in ("dem", "dist", "twi")],
             CATEGORICAL=[grids / "ffreq.tif"], PCA_COMPONENTS=0, OUTPUT=stack)
    model, report = demo.out / "prospectivity_transfer.pt", demo.out / "prospectivity_cv.html"
    demo.run("geoml:trainprospectivity", INPUT=occ, LABEL_FIELD="occurrence", FEATURES=stack,
             METHOD=METHODS.index("transfer"), PRETEXT_RASTER=grids / "soil.tif", PRETEXT_SAMPLES=1000, EPOCHS=60,
             COMPARE="true", SPATIAL_FOLDS="true", OUTPUT_MODEL=model, OUTPUT_REPORT=report)
    cv = demo.cv_summaries(model)
    demo.report("prospectivity CV (spatial)",
                "ROC AUC " + ", ".join(f"{m} {s['roc_auc_mean']:.3f}" for m, s in cv.items()), report)
    prob = demo.out / "prospectivity_probability.tif"
    demo.run("geoml:predictprospectivity", MODEL=model, FEATURES=stack, OUTPUT_PROBABILITY=prob)
    ev = demo.out / "prospectivity_evaluation.html"
    out = demo.run("geoml:evaluateprospectivity", PROBABILITY=prob, VALIDATION=occ, LABEL_FIELD="occurrence",
                   OUTPUT_REPORT=ev, OUTPUT_CSV=demo.out / "prospectivity_evaluation.csv")
    demo.report("prospectivity map", f"success-rate AUC {out['SUCCESS_RATE_AUC']:.3f} (training points: optimistic)", ev)


STEPS = [Step(prospectivity_train, samples=tuple(f"meuse/grids/{n}.tif" for n in ("dem", "dist", "twi", "ffreq", "soil"))
              + ("meuse/meuse.gpkg",), outputs=(
    "meuse_zinc_occurrences.gpkg", "prospectivity_stack.tif", "prospectivity_transfer.pt", "prospectivity_cv.html",
    "prospectivity_probability.tif", "prospectivity_evaluation.html", "prospectivity_evaluation.csv"))]

