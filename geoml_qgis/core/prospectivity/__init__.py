"""Mineral prospectivity: feature stacks, transfer learning for scarce deposits, baselines, evaluation.

Modules: :mod:`.stack` (feature stacks and their transform), :mod:`.distance` (distance evidence),
:mod:`.sampling` (training data from points, background, pretext), :mod:`.networks` and
:mod:`.transfer` (dense networks, pretext pretraining, fine-tuning), :mod:`.baselines`
(scikit-learn), :mod:`.model` (one interface, save/load, block-wise prediction),
:mod:`.evaluation` (folds, AUCs, success-rate curves), :mod:`.report` (HTML).
Modules that need torch import it themselves; importing this package does not.
"""
