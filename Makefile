# needsmodel: `make demo` runs the sample municipality, `make test` runs the tests.
# Both create .venv and install the package on first use (`make test` adds the dev tools).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
RUNTIME := $(VENV)/.installed

.PHONY: demo test test-fast lint typecheck bench sample notebook clean help report-screenshot

help:
	@echo "make demo       run the bundled sample municipality into reports/demo"
	@echo "make test       run the whole test suite (notebooks included)"
	@echo "make test-fast  run the tests not marked slow or notebook"
	@echo "make lint       ruff check and format check"
	@echo "make typecheck  mypy"
	@echo "make bench      run the benchmarks in benchmarks/"
	@echo "make sample     regenerate data/sample from its seed"
	@echo "make notebook   open JupyterLab on notebooks/"
	@echo "make report-screenshot  render the demo report in headless Chromium (reports/demo/report.png)"

# `make demo` installs the runtime dependencies only; the dev tools come with `make test`.
$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUNTIME)

$(STAMP): pyproject.toml $(RUNTIME)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(RUNTIME)
	$(BIN)/needsmodel demo

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not notebook"

lint: $(STAMP)
	$(BIN)/ruff check needsmodel tests benchmarks data/sample
	$(BIN)/ruff format --check needsmodel tests benchmarks data/sample

typecheck: $(STAMP)
	$(BIN)/mypy

# the peer (duckreg) needs Ibis' DuckDB backend, which runs on DuckDB 1.x only: own venv
BENCH_PEER := .venv-bench/bin/python

$(BENCH_PEER):
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet duckreg 'duckdb<2' pyfixest glum

bench: $(STAMP) $(BENCH_PEER)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

sample: $(STAMP)
	$(BIN)/python data/sample/generate.py

clean:
	rm -rf $(VENV) reports/demo .pytest_cache .mypy_cache .ruff_cache

notebook: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# A look at the demo report as a browser shows it: headless Chromium (Debian's package).
report-screenshot: $(RUNTIME)
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/needsmodel demo --quiet
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2400 \
		--screenshot=reports/demo/report.png file://$(CURDIR)/reports/demo/report.html
	@echo "reports/demo/report.png"
