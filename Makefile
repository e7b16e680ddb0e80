# GeoML for QGIS — every set-up step lives here and is idempotent.
# Debian 12 + QGIS 3.22: QGIS's Python is /usr/bin/python3; the venv is made from it with
# --system-site-packages so tests, qgis_process and desktop QGIS import the same packages.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
SYSPY := /usr/bin/python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.geoml-installed
VERSION := $(shell sed -n 's/^version=//p' geoml_qgis/metadata.txt)
# torch never comes from PyPI here (its Linux wheels there are CUDA builds, gigabytes of nvidia
# packages): the CPU wheel on this image's disk when one matches QGIS's Python, else Debian's.
PYTAG := $(shell $(SYSPY) -c 'import sys; print("cp%d%d" % sys.version_info[:2])' 2>/dev/null)
TORCH_WHEEL := $(firstword $(filter %_$(shell uname -m).whl,$(wildcard /opt/wheels/torch-*+cpu-$(PYTAG)-$(PYTAG)-*.whl)))
TORCH_APT := $(if $(TORCH_WHEEL),,python3-torch)
# libopenblas0-pthread: numpy's libblas.so.3 / liblapack.so.3 become OpenBLAS instead of the
# reference libraries (kriging 1.3x, SAM 12x faster: bench/blas.py, geoml_qgis/core/blas.py)
APT_PACKAGES := qgis python3-qgis qgis-providers gdal-bin python3-gdal python3-venv python3-pip \
	python3-rasterio python3-geopandas python3-fiona python3-pyproj python3-shapely python3-sklearn \
	python3-pandas python3-scipy python3-openpyxl python3-matplotlib python3-boto3 python3-pytest \
	ca-certificates xvfb xauth libopenblas0-pthread $(TORCH_APT)
# references for the tests, installed where this release's archive has them (Debian 13 has no
# r-cran-gstat): the tests that compare with R gstat skip, saying why, where they are missing
OPTIONAL_APT_PACKAGES := r-cran-gstat

export PROJ_DATA := /usr/share/proj
export QT_QPA_PLATFORM := offscreen
# where the runtime dir and the QGIS profile of the tests live (the matrix puts them in its chroots)
GEOML_STATE := $(CURDIR)
export XDG_RUNTIME_DIR := $(GEOML_STATE)/.runtime
export QGIS_CUSTOM_CONFIG_PATH := $(GEOML_STATE)/.qgis-profile
export PYTHONDONTWRITEBYTECODE := 1
# the launchers in scripts/ find the venv here (the matrix keeps it outside the checkout)
export GEOML_VENV := $(abspath $(VENV))
# TESTS=tests/qgis/test_x.py runs part of the suite
TESTS := tests

.PHONY: setup sysdeps test test-fast test-core test-matrix demo screenshot bench package clean print-apt-packages

setup: $(STAMP)

sysdeps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages: $$missing"; \
		apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
			--no-install-recommends $$missing >/dev/null; \
	fi
	@missing=$$(for p in $(OPTIONAL_APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		apt-cache policy $$missing 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null || apt-get update -qq; \
		available=$$(for p in $$missing; do apt-cache policy $$p 2>/dev/null | grep 'Candidate: [0-9]' >/dev/null && echo $$p; done; true); \
		if [ -n "$$available" ]; then \
			echo "Installing optional Debian packages: $$available"; \
			DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=900 install -y -qq \
				--no-install-recommends $$available >/dev/null; \
		fi; \
		for p in $$missing; do echo "$$available" | grep -qw $$p || echo "Not in this release's archive: $$p (the tests that need it skip)"; done; \
	fi

print-apt-packages:
	@echo $(APT_PACKAGES)

# torch first (the local CPU wheel, or Debian's already installed), then constraints that pin it
# and every Debian-packaged library, then the rest; --use-pep517 builds source-only packages
# (spectral) on Python 3.12+, where the legacy setup.py route has no distutils.
$(STAMP): pyproject.toml scripts/constraints.py Makefile | sysdeps
	@test -x $(PY) || $(SYSPY) -m venv --system-site-packages $(VENV)
	$(PY) scripts/constraints.py > $(VENV)/constraints.txt
	$(if $(TORCH_WHEEL),$(PY) -c 'import torch' 2>/dev/null || \
		$(PY) -m pip install -q -c $(VENV)/constraints.txt $(TORCH_WHEEL))
	@$(PY) -c 'import torch' || { echo "torch missing: install Debian's python3-torch"; exit 1; }
	$(PY) scripts/constraints.py > $(VENV)/constraints.txt
	$(PY) -m pip install -q --use-pep517 -c $(VENV)/constraints.txt -e '.[ml,dev]'
	@$(PY) -m pip install -q --use-pep517 -c $(VENV)/constraints.txt -e '.[ml,dev,reference]' || \
		echo "The reference packages (extra 'reference') do not install here: the tests that compare with them skip"
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	touch $(STAMP)

test: setup
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	$(PY) -m pytest -q -p no:cacheprovider $(TESTS)

# the inner loop: core and in-process QGIS tests (no qgis_process subprocess, desktop QGIS, moto,
# cfn-lint or R, nor the longest runs listed in tests/markers.py); tests/markers.py fails a test
# that starts one of those programs without its marker
test-fast: setup
	@mkdir -p -m 700 $(XDG_RUNTIME_DIR)
	$(PY) -m pytest -q -p no:cacheprovider -m "not qgis_process and not desktop and not aws and not gstat and not slow" tests

# the whole suite on QGIS 3.40 (bookworm-backports) and 3.44 (trixie-backports) in cached chroots
test-matrix:
	scripts/qgis-matrix qgis-3.40 qgis-3.44

test-core: setup
	$(PY) -m pytest -q -p no:cacheprovider tests/core

demo: setup
	$(PY) scripts/demo.py

# real desktop QGIS under Xvfb, the plugin enabled, the demo project open, GeoML toolbox expanded;
# then the dialogs of three algorithms on the sample data, saved to docs/images/dialog_*.png
screenshot: setup
	@test -f demo_output/geoml_demo.qgz || $(PY) scripts/demo.py
	scripts/qgis-desktop demo_output/desktop_status.json demo_output/desktop_screenshot.png demo_output/geoml_demo.qgz
	@cat demo_output/desktop_status.json; echo; echo "screenshot: demo_output/desktop_screenshot.png"
	GEOML_PROBE=$(CURDIR)/scripts/dialog_probe.py scripts/qgis-desktop demo_output/dialog_status.json docs/images
	@cat demo_output/dialog_status.json; echo; echo "dialog screenshots: docs/images/dialog_*.png"

bench: setup
	$(PY) bench/run_all.py

# the zip the QGIS plugin repository takes: the plugin folder as git tracks it (no caches, no
# build files) plus LICENSE inside it; DIST=folder writes it elsewhere
DIST := dist
package:
	@rm -rf $(DIST)/stage && mkdir -p $(DIST)/stage
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		git ls-files -z --cached geoml_qgis | while IFS= read -r -d '' f; do \
			[ -e "$$f" ] && printf '%s\0' "$$f"; done | xargs -0 cp --parents -t $(DIST)/stage; \
	else cp -r geoml_qgis $(DIST)/stage/; fi
	cp LICENSE $(DIST)/stage/geoml_qgis/LICENSE
	find $(DIST)/stage \( -name __pycache__ -o -name '*.pyc' -o -name '*.egg-info' \) -prune -exec rm -rf {} +
	cd $(DIST)/stage && rm -f ../geoml_qgis-$(VERSION).zip && $(SYSPY) -m zipfile -c ../geoml_qgis-$(VERSION).zip geoml_qgis
	@rm -rf $(DIST)/stage
	@echo $(DIST)/geoml_qgis-$(VERSION).zip

clean:
	rm -rf $(VENV) .runtime .qgis-profile .qgis-plugins dist demo_output
