# `make repro` for the pipeline, `make test` for the tests, `make demo` offline on a sample.
# Installs exactly the versions in requirements/$(EXTRAS).lock (hashes checked):
# `dev` (CPU: pipeline + tests, the default) or `gpu` (`make repro EXTRAS=gpu` on a GPU box).

PYTHON ?= python3
VENV ?= .venv
EXTRAS ?= dev
BIN := $(abspath $(VENV))/bin
LOCK := requirements/$(EXTRAS).lock
STAMP := $(VENV)/.installed-$(EXTRAS)

# DVC runs each stage's `python -m stages.…` through the shell: use the venv's python.
export PATH := $(BIN):$(PATH)

.PHONY: install lock repro test demo lint report review seeds experiments bench

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

# Refresh the lock files from pyproject.toml (Linux x86-64, Python 3.11), then commit them.
UV_COMPILE := uv pip compile pyproject.toml --generate-hashes --no-header \
	--python-version 3.11 --python-platform x86_64-manylinux_2_28
lock: install
	$(BIN)/python -m pip install -q uv
	$(UV_COMPILE) --extra dev -o requirements/dev.lock
	$(UV_COMPILE) --extra gpu --extra s3 -o requirements/gpu.lock

repro: install
	dvc repro

test: install
	python -m pytest

demo: install
	python -m sentiment.demo

lint: install
	ruff check .
	actionlint .github/workflows/*.yml

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

# The pull-request check (what the workflow runs): pull, refuse stale results, write
# review/comment.md with paired comparisons, diffs and plots. Never trains.
review: install
	python -m sentiment.review --base $(BASE) --out review

# Benchmarks (minutes; not part of the tests): writes benchmarks/results/*.json + summary.md.
bench: install
	python -m benchmarks.run_all
