# qnetai: two commands to get going.
#   make run   -> local virtual environment with every extra, then the main job (qnetai run)
#   make test  -> same set-up if needed, then lint and the whole test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JOBS   ?= 2

.PHONY: run test lint install bench clean

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	# torch first, pinned to the local CPU wheel, so nothing pulls the CUDA build
	$(BIN)/python -m pip install "torch==2.13.0"
	$(BIN)/python -m pip install -c constraints.txt -e ".[all,dev]"
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/qnetai run

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports
	$(BIN)/mypy src

test: $(STAMP) lint
	$(BIN)/python -m pytest -n $(JOBS) -q

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
