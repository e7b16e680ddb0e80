"""Geostatistics (see submodules)."""
