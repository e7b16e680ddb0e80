"""Mineral prospectivity: feature stack, training, prediction, evaluation, targets, sampling (core/prospectivity)."""
