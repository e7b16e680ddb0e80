"""Borehole geochemistry: assay cleaning, clustering with automatic k, spatial continuity,
a downhole sequence model (torch, imported only by :mod:`.sequence`), reports and workbooks."""
