"""Hyperspectral mineral mapping: cubes, spectral libraries, band resampling, a 1D CNN and SAM.

Modules: :mod:`.cube` (ENVI/GeoTIFF cubes with wavelengths), :mod:`.library`
(``.sli``/CSV/labelled pixels/USGS npz), :mod:`.resample` (Gaussian SRF),
:mod:`.preprocess`, :mod:`.augment`, :mod:`.cnn` (needs torch), :mod:`.sam`, :mod:`.sff`,
:mod:`.train`, :mod:`.classify` (strip-wise class maps), :mod:`.labels`, :mod:`.metrics`,
:mod:`.report`, :mod:`.synthetic` (test scenes). Import the submodules directly;
this package imports nothing heavy.
"""
