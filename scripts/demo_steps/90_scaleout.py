"""Demo: the VAE prospectivity ensemble trained member by member through the scale-out worker (local backend),
on the Yukon table written by 45_yukon.py."""
from demo import Step


def scaleout_local(demo):
    """Ensemble members as separate worker processes (BACKEND local; AWS Batch runs the same worker)"""
    table = demo.out / "yukon_pca.gpkg"  # written by 45_yukon.py
    out = demo.out / "yukon_ensemble_scaleout.pt"
    demo.run("geoml:trainensembleremote", INPUT=table, LABEL_FIELD="DEP",
             FEATURE_FIELDS=[f"PC{i}" for i in range(1, 8)], MEMBERS=4, LATENT_DIM=2, EPOCHS=30, SEED=1,
             UNLABELLED=300, BACKEND=0,  # local
             MIN_MEMBERS=4, OUTPUT_MODEL=out)
    demo.report("scale-out ensemble", "4 members, each in its own worker process", out)


STEPS = [Step(scaleout_local, inputs=("yukon_pca.gpkg",), outputs=("yukon_ensemble_scaleout.pt",))]

GROUP = "Ensemble scale-out"
