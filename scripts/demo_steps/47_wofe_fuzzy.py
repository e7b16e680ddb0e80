"""Demo: weights of evidence and fuzzy overlay on the Meuse data (zinc >= 500 ppm standing for a
'deposit', as in 40_prospectivity): a posterior probability map and its standard deviation, the
conditional-independence check, and a fuzzy gamma overlay, each scored at the same 155 points."""
from demo import Step
from geoml_qgis.core.io import read_points, write_points

GROUP = "Prospectivity — weights of evidence and fuzzy logic"


def wofe_and_fuzzy(demo):
    """Weights of evidence (posterior + sd) and fuzzy gamma overlay on Meuse, scored at the same points"""
    grids = demo.sample / "meuse" / "grids"
    pts = read_points(demo.sample / "meuse" / "meuse.gpkg")
    pts.attributes = pts.attributes.assign(occurrence=(pts.attributes["zinc"] >= 500).astype(int))
    labelled = demo.out / "wofe_meuse_points.gpkg"
    write_points(labelled, pts, columns=["zinc", "occurrence"])
    keep = pts.attributes["occurrence"].to_numpy() == 1
    pts.x, pts.y, pts.attributes = pts.x[keep], pts.y[keep], pts.attributes[keep].reset_index(drop=True)
    deposits = demo.out / "wofe_meuse_deposits.gpkg"
    write_points(deposits, pts, columns=["zinc"])
    post, report = demo.out / "wofe_posterior.tif", demo.out / "wofe_report.html"
    res = demo.run("geoml:weightsofevidence", EVIDENCE=[grids / "dist.tif", grids / "ffreq.tif", grids / "soil.tif"],
                   EVIDENCE_TYPES="ascending,categorical,categorical", DEPOSITS=deposits, UNIT_CELL_AREA=0.0016,
                   OUTPUT_POSTERIOR=post, OUTPUT_SD=demo.out / "wofe_posterior_sd.tif",
                   OUTPUT_WEIGHTS=demo.out / "wofe_weights.csv", OUTPUT_REPORT=report)
    demo.report("WofE conditional independence", f"n/T {res['CI_RATIO']:.2f}, Agterberg-Cheng p "
                f"{res['CI_P_VALUE']:.3f}", report)
    ev = demo.out / "wofe_evaluation.html"
    out = demo.run("geoml:evaluateprospectivity", PROBABILITY=post, VALIDATION=labelled, LABEL_FIELD="occurrence",
                   OUTPUT_REPORT=ev)
    demo.report("WofE posterior", f"ROC AUC {out['ROC_AUC']:.3f} (training points: optimistic)", ev)
    fuzzy = demo.out / "fuzzy_gamma.tif"
    fev, figures = demo.out / "fuzzy_evaluation.html", demo.out / "fuzzy_evaluation.csv"
    demo.run("geoml:Fuzzy membership to overlay to evaluation", continuous=grids / "dist.tif", low=0.5, high=0.0,
             categorical=grids / "ffreq.tif", class_memberships="1: 0.9, 2: 0.5, 3: 0.2", gamma=0.9,
             validation=labelled, label_field="occurrence", **{"overlay:Fuzzy overlay": fuzzy,
                                                              "evaluate:Evaluation report": fev,
                                                              "evaluate:Evaluation figures": figures})
    auc = demo.csv_figures(figures)["roc_auc"]
    demo.report("fuzzy gamma overlay", f"ROC AUC {auc:.3f} (expert memberships)", fev)


STEPS = [Step(wofe_and_fuzzy, samples=("meuse/meuse.gpkg", "meuse/grids/dist.tif", "meuse/grids/ffreq.tif",
                                        "meuse/grids/soil.tif"), outputs=(
    "wofe_meuse_points.gpkg", "wofe_meuse_deposits.gpkg", "wofe_posterior.tif", "wofe_posterior_sd.tif",
    "wofe_weights.csv", "wofe_report.html", "wofe_evaluation.html", "fuzzy_gamma.tif", "fuzzy_evaluation.html",
    "fuzzy_evaluation.csv"))]
