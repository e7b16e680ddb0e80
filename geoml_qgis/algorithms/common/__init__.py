"""QGIS plumbing shared by every algorithm: the base class, layer and sink helpers, output styling."""
