"""Borehole geochemistry: assay clustering and the downhole sequence model (core/borehole)."""
