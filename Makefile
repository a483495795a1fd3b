# `make repro` for the pipeline, `make test` for the tests, `make demo` offline on a sample.
# EXTRAS picks the optional dependencies: `make repro EXTRAS=gpu` on a GPU box.

PYTHON ?= python3
VENV ?= .venv
EXTRAS ?= dev
BIN := $(abspath $(VENV))/bin
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

# DVC runs each stage's `python -m stages.…` through the shell: use the venv's python.
export PATH := $(BIN):$(PATH)

.PHONY: install repro test demo lint report seeds experiments bench

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

install: $(STAMP)

repro: install
	dvc repro

test: install
	python -m pytest

demo: install
	python -m sentiment.demo

lint: install
	ruff check .

# Markdown report of metric and param changes against BASE (default: main).
BASE ?= main
report: install
	python -m sentiment.report --base $(BASE)

# One configuration over several seeds, as queued DVC experiments (each starts from the
# committed params.yaml plus ARGS), run one after another; then `make experiments`.
#   make seeds SEEDS="0 1 2" ARGS="-S train.units=64"
SEEDS ?= 0 1 2
ARGS ?=
seeds: install
	for seed in $(SEEDS); do dvc exp run --queue -S train.seed=$$seed $(ARGS) || exit 1; done
	dvc exp run --run-all -j 1

# Markdown table of this commit's experiments: grouped by params (seed excluded), mean ± std.
experiments: install
	python -m sentiment.report --experiments

# Benchmarks (minutes; not part of the tests): writes benchmarks/results/*.json + summary.md.
bench: install
	python -m benchmarks.run_all
