# Two commands do all set-up on a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
# The CPU wheel of torch is pinned here: an unpinned torch pulls several GB of CUDA.
TORCH := torch==2.13.0
TRAIN_ARGS ?=
TEST_ARGS ?=

.PHONY: train test bench install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

$(VENV)/.installed: $(PY) setup.py
	$(PIP) install $(TORCH)
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(PIP) install -e '.[bench]' $(TORCH)
	touch $@

install: $(VENV)/.installed

train: $(VENV)/.installed
	$(VENV)/bin/pathzero train $(TRAIN_ARGS)

test: $(VENV)/.installed-test
	$(PY) -m pytest $(TEST_ARGS)

bench: $(VENV)/.installed-bench
	$(VENV)/bin/pathzero bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) runs
