"""Mineral prospectivity: feature stacks, transfer learning for scarce deposits, baselines, evaluation,
and a VAE ensemble with uncertainty, calibration, risk-return targets and active learning.

Modules: :mod:`.stack` (feature stacks and their transform), :mod:`.distance` (distance evidence),
:mod:`.sampling` (training data from points, background, pretext), :mod:`.networks` and
:mod:`.transfer` (dense networks, pretext pretraining, fine-tuning), :mod:`.baselines`
(scikit-learn), :mod:`.vae` and :mod:`.ensemble` (batched VAE ensemble; ``train_member`` /
``assemble_ensemble`` for distributed training), :mod:`.model` (one interface, save/load, block-wise
prediction), :mod:`.evaluation` (folds, AUCs, success-rate curves), :mod:`.calibration` (ECE, NLL,
coverage), :mod:`.riskreturn` (categories, ranked targets), :mod:`.activelearning` (next samples),
:mod:`.report` (HTML), :mod:`.workflow` (the steps behind the Processing algorithms);
the classics: :mod:`.wofe` (weights of evidence: weights, generalisation), :mod:`.wofe_model` (posterior,
its variance, conditional-independence tests, table mode), :mod:`.wofe_raster` and :mod:`.wofe_table`
(runs on rasters and tables), :mod:`.wofe_report`, :mod:`.fuzzy` (memberships, overlay);
:mod:`.explain` (permutation importance and partial dependence of any model).
Modules that need torch import it themselves; importing this package does not.
"""
