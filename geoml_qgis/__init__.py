"""GeoML for QGIS: geoscience machine learning as QGIS Processing algorithms.

QGIS calls :func:`classFactory`; everything that needs qgis is imported lazily so
that ``geoml_qgis.core`` works as a plain Python library.
"""
__version__ = "0.1.0"


def classFactory(iface):  # noqa: N802 - name fixed by QGIS
    """Entry point used by QGIS to create the plugin."""
    from .plugin import GeoMLPlugin

    return GeoMLPlugin(iface)
