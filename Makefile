# GeoML for QGIS — every set-up step lives here and is idempotent.
# Debian 12 + QGIS 3.22: QGIS's Python is /usr/bin/python3; the venv is made from it with
# --system-site-packages so tests, qgis_process and desktop QGIS import the same packages.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
SYSPY := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.geoml-installed
APT_PACKAGES := qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-venv python3-pip \
	python3-rasterio python3-geopandas python3-fiona python3-pyproj python3-shapely python3-sklearn \
	python3-pandas python3-scipy python3-openpyxl python3-matplotlib python3-boto3 python3-pytest \
	xvfb xauth r-base-core r-cran-gstat
# pip finds the torch CPU wheel that lies on this image's disk
PIP_FIND := $(if $(wildcard /opt/wheels),--find-links /opt/wheels,)

export PROJ_DATA := /usr/share/proj
export QT_QPA_PLATFORM := offscreen
export XDG_RUNTIME_DIR := $(CURDIR)/.runtime
export QGIS_CUSTOM_CONFIG_PATH := $(CURDIR)/.qgis-profile
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: setup sysdeps test test-core demo screenshot bench package clean

setup: $(STAMP)

sysdeps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml scripts/constraints.py Makefile | sysdeps
	@test -x $(PY) || $(SYSPY) -m venv --system-site-packages $(VENV)
	$(PY) scripts/constraints.py > $(VENV)/constraints.txt
	$(PY) -m pip install -q $(PIP_FIND) -c $(VENV)/constraints.txt -e '.[ml,dev]'
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	touch $(STAMP)

test: setup
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	$(PY) -m pytest -q -p no:cacheprovider tests

test-core: setup
	$(PY) -m pytest -q -p no:cacheprovider tests/core

demo: setup
	$(PY) scripts/demo.py

# real desktop QGIS under Xvfb, the plugin enabled, the demo project open, GeoML toolbox expanded
screenshot: setup
	@test -f demo_output/geoml_demo.qgz || $(PY) scripts/demo.py
	scripts/qgis-desktop demo_output/desktop_status.json demo_output/desktop_screenshot.png demo_output/geoml_demo.qgz
	@cat demo_output/desktop_status.json; echo; echo "screenshot: demo_output/desktop_screenshot.png"

bench: setup
	$(PY) bench/run_all.py

package:
	@rm -rf dist && mkdir -p dist
	zip -qr dist/geoml_qgis-$$(sed -n 's/^version=//p' geoml_qgis/metadata.txt).zip geoml_qgis -x '*__pycache__*'
	@ls dist/*.zip

clean:
	rm -rf $(VENV) .runtime .qgis-profile .qgis-plugins dist demo_output
