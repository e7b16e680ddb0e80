"""Hyperspectral mapping: spectral angle mapper, the 1D CNN classifier, minimum wavelength mapping, abundance
unmixing and spectral feature fitting (core/hyperspectral)."""
