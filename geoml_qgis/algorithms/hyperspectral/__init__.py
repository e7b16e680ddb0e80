"""Hyperspectral mapping: spectral angle mapper and the 1D CNN classifier (core/hyperspectral)."""
