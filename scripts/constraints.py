"""Print pip constraints that pin the Debian-packaged scientific stack.

pip must never replace the packages QGIS and GDAL were built against (a newer
numpy, or the cryptography that moto pulls, breaks them), so every one that is
installed system-wide is pinned to its installed version. torch too: once the CPU build is in
place (the local wheel or Debian's python3-torch), nothing may swap it for PyPI's CUDA build.
"""
from importlib import metadata

PINNED = [
    "numpy", "scipy", "pandas", "scikit-learn", "geopandas", "rasterio", "fiona", "pyproj", "shapely",
    "matplotlib", "GDAL", "cryptography", "pyOpenSSL", "boto3", "botocore", "urllib3", "openpyxl",
    "pytest", "s3transfer", "requests", "Jinja2", "MarkupSafe", "Werkzeug", "PyYAML", "packaging",
    "python-dateutil", "pytz", "six", "idna", "certifi", "attrs", "torch",
]

for name in PINNED:
    try:
        print(f"{name}=={metadata.version(name)}")
    except metadata.PackageNotFoundError:
        pass
