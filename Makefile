# Two commands: `make bench` runs the benchmark, `make test` runs the tests.
# Each creates .venv/ here on first use and installs the project with the exact versions of
# constraints.txt (torch==2.13.0's CPU build among them). `make test-fast`: the unit tests only;
# `make lint`: ruff (lint and format) and mypy.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?= --quick

.PHONY: bench test test-fast lint install clean screenshot

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -c constraints.txt -e ".[all]"
	touch $@

bench: install
	$(BIN)/seqmnist-bench run $(ARGS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Unit tests only (no training, no asv, no browser): seconds to a couple of minutes.
test-fast: install
	$(BIN)/python -m pytest -m "not slow and not frameworks" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check bench impls tests docs/probes
	$(BIN)/ruff format --check bench impls tests docs/probes
	$(BIN)/mypy bench impls

clean:
	rm -rf $(VENV) .asv

# The committed results page's desktop screenshot (Debian: apt-get install -y chromium).
screenshot:
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1000 \
	  --host-resolver-rules="MAP * ~NOTFOUND" --screenshot=results/report/screenshot.png \
	  file://$(CURDIR)/results/report/index.html
