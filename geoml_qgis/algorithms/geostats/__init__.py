"""Geostatistics: variogram fitting, ordinary kriging, cross-validation, kriged features (core/geostats)."""
