# minsnr: every command sets itself up first (virtual environment, install, notebook export).
#   make run    the main job: execute the notebooks end to end (outputs under build/executed/)
#   make test   the test suite (every notebook's tests through nbdev_test, plus tests/)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.minsnr-installed

.PHONY: setup export run test clean
.DEFAULT_GOAL := run

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP) export

export: $(STAMP)
	$(BIN)/nbdev_export

run: setup
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
