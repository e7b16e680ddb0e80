"""Installing GeoML's optional Python packages from inside QGIS (*Plugins › GeoML › Install
Python packages…*): ``pip`` finds the interpreter and runs pip safely, ``task`` runs it in the
background, ``dialog`` is the window."""
