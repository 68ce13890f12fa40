# Two commands: `make bench` runs the benchmark, `make test` runs the tests.
# Each creates .venv/ here on first use and installs the project with torch==2.13.0 pinned.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?= --quick

.PHONY: bench test install clean screenshot

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -e ".[all]"
	touch $@

bench: install
	$(BIN)/seqmnist-bench run $(ARGS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .asv

# The committed results page's desktop screenshot (Debian: apt-get install -y chromium).
screenshot:
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1000 \
	  --host-resolver-rules="MAP * ~NOTFOUND" --screenshot=results/report/screenshot.png \
	  file://$(CURDIR)/results/report/index.html
