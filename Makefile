# Two commands on a fresh machine: `make demo` (the main job) and `make test` (the tests).
# Each does its own set-up: the virtual environment, the Python packages and, as root,
# the Debian graphviz package that renders diagrams and the chromium package the browser tests
# of `serve` drive.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
CMF    := $(VENV)/bin/cmf-config
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck check bench setup clean

$(STAMP): pyproject.toml
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || echo "warning: could not install graphviz; diagrams other than .dot will fail"; \
	  else echo "warning: graphviz (dot) is missing: install it (apt-get install graphviz) for .svg/.png diagrams"; fi; }
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the browser tests of serve will be skipped (failed under CI=true)"; \
	  else echo "warning: chromium is missing: install it (apt-get install chromium) for the browser tests of serve"; fi; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@# Bytecode, as pip writes it for a regular install: an editable one writes it on first
	@# import, which PYTHONDONTWRITEBYTECODE (set in some sandboxes) forbids.
	$(PY) -m compileall -q src/cmf_config
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	@mkdir -p out
	$(CMF) validate examples/*.yaml
	$(CMF) build examples/sedan.yaml --diagram out/sedan.svg -o out/sedan-bom.txt
	@cat out/sedan-bom.txt
	@echo "diagram written to out/sedan.svg"

# -n auto: one pytest-xdist worker per core (tests write only under tmp paths; goldens only
# under --update-goldens, one file per test).
test: $(STAMP)
	$(PY) -m pytest -q -n auto

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m ruff format --check src tests benchmarks

typecheck: $(STAMP)
	$(PY) -m mypy

check: lint typecheck test

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache .hypothesis
