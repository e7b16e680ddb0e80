"""Raster tools: aligning rasters into one stack (core/io)."""
