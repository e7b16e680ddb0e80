"""Hybrid kriging + deep-learning predictor: training and prediction (core/hybrid)."""
