# `make help` lists the targets. Every target installs what it needs first: exactly the
# versions in requirements/$(EXTRAS).lock (hashes checked), in a virtualenv of their own:
# `dev` (CPU: pipeline + tests, the default) in .venv/, `gpu` (`make repro EXTRAS=gpu` on
# a GPU box) in .venv-gpu/, `cluster` (SkyPilot, to launch sweeps) in .venv-cluster/: each
# keeps its own, so a GPU box runs `make repro EXTRAS=gpu` and `make test` side by side.

PYTHON ?= python3
EXTRAS ?= dev
VENV ?= $(if $(filter dev,$(EXTRAS)),.venv,.venv-$(EXTRAS))
BIN := $(abspath $(VENV))/bin
LOCK := requirements/$(EXTRAS).lock
# The stamp follows the content of the lock and pyproject.toml, not their times: a fresh
# clone, a checkout or a restored CI cache reinstalls only when what they pin changed.
STAMP := $(VENV)/.installed-$(shell cat $(LOCK) pyproject.toml 2>/dev/null | sha256sum | cut -c1-16)

# DVC runs each stage's `python -m stages.…` through the shell: use the venv's python.
export PATH := $(BIN):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help install lock repro cpu test test-unit demo lint report review sweep experiments \
	job collect bench models publish update results runs

help: ## list the targets
	@awk -F':.*## ' '/^[a-z][a-z-]*:.*## /{printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  Variables: EXTRAS=gpu|cluster, BASE=origin/main, SEEDS=\"0 1 2\", ARGS=\"-S key=value\", GPUS=\"0 1\", PER_GPU=2"

$(STAMP):
	@$(PYTHON) .ci/locks served $(EXTRAS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install -q --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP) ## create the virtualenv from the lock file (only when the lock changed)

# Refresh the lock files from pyproject.toml, then commit them. Universal locks: one file per
# extra serves every Python and platform .ci/locks lists (3.10–3.12; Linux x86-64 and
# aarch64 and macOS arm64 for the CPU stack, Linux x86-64 for the GPU one).
UV_COMPILE := UV_PYTHON_DOWNLOADS=never uv pip compile pyproject.toml --universal \
	--python-version 3.10 --generate-hashes --no-header
lock: install ## refresh requirements/*.lock from pyproject.toml (universal: .ci/locks)
	$(UV_COMPILE) --extra dev -o requirements/dev.lock
	$(UV_COMPILE) --extra gpu --extra s3 -o requirements/gpu.lock
	$(subst pyproject.toml,requirements/cluster.in,$(UV_COMPILE)) -o requirements/cluster.lock

repro: install ## `dvc repro`: the notebook's recipe (a GPU job: hours on a 2-core CPU, docs/benchmarks.md)
	@nvidia-smi -L >/dev/null 2>&1 || echo "repro: no GPU found. The recipe (BiLSTM(256), 20 \
	epochs) takes about 4 h on a 2-core CPU; Ctrl-C and run \`make cpu\` for the CPU preset \
	(about 4 min a run on 2 cores), or see docs/gpu.md." >&2
	dvc repro

# The scaled-down CPU preset: 3 seeds on both splits, as queued
# experiments. The README's rows used local copies of the data:
#   make cpu DATASET=../shared/data/imdb VECTORS=../shared/embeddings/word2vec-imdb-300
CPU_PRESET := -S train.units=32 -S train.epochs=2 -S train.batch_size=128 \
	-S train.learning_rate=0.001
DATASET ?= stanfordnlp/imdb
VECTORS ?= fse/word2vec-google-news-300
# params.yaml pins both Hub sources to a commit; a local folder has no revisions
SOURCES := -S prepare.dataset=$(DATASET) -S embed.vectors=$(VECTORS) \
	$(if $(filter stanfordnlp/imdb,$(DATASET)),,-S prepare.revision=null) \
	$(if $(filter fse/word2vec-google-news-300,$(VECTORS)),,-S embed.revision=null)
cpu: ## the README's CPU preset: 3 seeds x both splits as experiments, then the table
	$(MAKE) sweep SEEDS="$(SEEDS)" ARGS="$(CPU_PRESET) $(SOURCES) \
		-S prepare.split=random,official $(ARGS)"

# One pytest-xdist worker per core (and one TensorFlow op thread per process: conftest.py):
# on 2 cores a third worker only adds contention (in-tree, 2026-12-06: 475 s against 432 s).
# Tests go to whichever worker is free, in tests/conftest.py's order (--no-loadscope-reorder),
# but a module marked with an xdist_group (the review modules, whose module-scoped origin is
# costly) stays on one worker (--dist loadgroup): pytest 9.2 silently broke that
# (pytest-xdist#1386), so the lock pins 9.1 and tests/conftest.py refuses a split group.
TEST_JOBS ?= $(shell nproc)
test: install ## the test suite, in parallel (what CI runs)
	$(MAKE) -s install EXTRAS=cluster  # a test loads cluster/sweep.yaml with SkyPilot itself
	python -m pytest -n $(TEST_JOBS) --dist loadgroup --no-loadscope-reorder

test-unit: install ## the unit tests alone (about a minute): the inner loop, never instead of `make test`
	python -m pytest -n $(TEST_JOBS) --dist loadgroup tests/unit

results: install ## the research tables in docs/research.md and README.md, from results/
	python -m lab.results pair
	python -m lab.results render

demo: install ## the whole pipeline offline on a synthetic sample (about a minute)
	python -m lab.demo

lint: install ## ruff; zizmor, actionlint, shellcheck; every lock resolves on every target
	ruff check .
	python .ci/locks check $(BIN)/uv
	command -v shellcheck >/dev/null || { echo "lint: shellcheck missing" >&2; exit 1; }
	zizmor --offline --quiet .github/
	actionlint .github/workflows/*.yml
	shellcheck .ci/run .ci/changed-code .ci/post-comment .ci/fork-review benchmarks/*.sh

# BASE reaches commands as an environment variable, quoted by the shell ("$$BASE"), never
# pasted into the command line, and make does not expand it either ($(value …)): a branch
# named `x;touch${IFS}p;#` is just a name.
BASE ?= origin/main
override BASE := $(value BASE)
export BASE
report: install ## paired report of the workspace against the merge-base with BASE
	python -m lab.report --base "$$BASE"

SEEDS ?= 0 1 2
ARGS ?=
# A grid times seeds, one DVC queue worker per GPU slot (docs/sweeps.md); exits non-zero
# when a run failed. Without GPUS, as many CPU workers as give the most runs per hour.
#   make sweep GPUS="0 1 2 3" PER_GPU=2 SEEDS="0 1 2" ARGS="-S 'train.units=32,64'"
GPUS ?=
PER_GPU ?= 1
sweep: install ## queue the grid ARGS x SEEDS, run it on every GPU (GPUS="0 1", PER_GPU=2)
	python -m lab.sweep --gpus "$(GPUS)" --per-gpu $(PER_GPU) --seeds "$(SEEDS)" -- $(ARGS)

# A sweep over many machines (cluster/sweep.yaml, docs/sweeps.md): each job runs one
# experiment from a commit and pushes it; `make collect` gathers them where you review.
job: install ## one experiment of a cluster sweep (ARGS="-S train.seed=1"): run it, push it
	dvc exp run --pull --allow-missing $(ARGS)
	dvc exp push --run-cache origin

collect: install ## pull this commit's experiments from origin (not rerun) and print the table
	git fetch -q origin
	dvc exp pull origin
	python -m lab.report --experiments $(if $(MODEL),--model $(MODEL))

experiments: install ## this commit's experiments grouped by params, mean ± std over seeds (MODEL=name)
	python -m lab.report --experiments $(if $(MODEL),--model $(MODEL))

runs: install ## each experiment in a row: the params that vary, each model's accuracy (95% CI)
	python -m lab.report --runs

models: install ## every two models of dvc.yaml paired on the same reviews; a chart of all ROC curves
	python -m lab.report --models

review: install ## the pull-request check: pull, refuse stale results, write review/comment.md
	python -m lab.review --base "$$BASE" --out review

publish: install ## after `dvc repro`: dvc push --run-cache, stage dvc.lock, params, metrics
	python -m lab.branch publish

update: install ## merge BASE into this branch, re-lock (re-runs only what is stale), push
	python -m lab.branch update --base "$$BASE"

bench: install ## benchmarks (minutes): benchmarks/results/*.json + summary.md
	python -m benchmarks.run_all
