# gepa-cli developer commands. `make run` and `make test` install what is missing first.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.gepa-installed

.PHONY: install run test test-slow check fmt bench bench-quality clean

install: $(STAMP)

$(STAMP): pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $(STAMP)

## The main job: optimize the quickstart prompt on the embedded local model.
run: install
	$(BIN)/gepa run configs/quickstart.yaml

## The test suite (fast unit tests + end-to-end tests on the embedded SmolLM2).
test: install
	$(BIN)/pytest

## The slow quality test on the embedded Qwen 1.5B (minutes of CPU).
test-slow: install
	$(BIN)/pytest -m slow

check: install
	$(BIN)/ruff check gepa_cli tests bench
	$(BIN)/ruff format --check gepa_cli tests bench
	$(BIN)/mypy gepa_cli bench
	$(BIN)/pytest

fmt: install
	$(BIN)/ruff format gepa_cli tests bench
	$(BIN)/ruff check --fix gepa_cli tests bench

## Benchmarks against the reference `gepa` package (installed only in .venv-bench); writes bench/RESULTS.md.
bench: install
	test -x .venv-bench/bin/python || python3 -m venv .venv-bench
	.venv-bench/bin/python -c "import importlib.metadata as m, gepa_cli; assert m.version('gepa') == '0.1.4'" 2>/dev/null \
		|| .venv-bench/bin/pip install --quiet --disable-pip-version-check -e . gepa==0.1.4
	.venv-bench/bin/python -m bench --product-python $(BIN)/python

## Quality benchmark on the embedded Qwen (resumable; reuses finished runs): writes bench/QUALITY.md.
bench-quality: install
	test -x .venv-bench/bin/python || python3 -m venv .venv-bench
	.venv-bench/bin/python -c "import importlib.metadata as m, gepa_cli; assert m.version('gepa') == '0.1.4'" 2>/dev/null \
		|| .venv-bench/bin/pip install --quiet --disable-pip-version-check -e . gepa==0.1.4
	GEPA_DATA=$${GEPA_DATA:-$$(cd .. && pwd)/shared/data} $(BIN)/python -m bench.quality $(BENCH_QUALITY_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
