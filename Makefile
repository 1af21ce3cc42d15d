# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# Every supported Python, for make test-all
PYTHONS := 3.11 3.12 3.13

.PHONY: demo test test-all test-lowest $(addprefix test-py,$(PYTHONS)) lint typecheck pytest docs bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# The distribution was called `stars` before (a name taken on PyPI): drop the old install first.
$(VENV)/.installed-base: pyproject.toml src/stars/_version.py | $(BIN)/python
	-$(PIP) uninstall --quiet --yes stars 2>/dev/null
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml src/stars/_version.py | $(BIN)/python
	-$(PIP) uninstall --quiet --yes stars 2>/dev/null
	$(PIP) install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-base

$(VENV)/.installed-bench: pyproject.toml src/stars/_version.py | $(BIN)/python
	-$(PIP) uninstall --quiet --yes stars 2>/dev/null
	$(PIP) install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed-base

## make demo: install and run the main job on the bundled demo portfolio
demo: $(VENV)/.installed-base
	$(BIN)/stars demo

## make test: lint, strict type checks, docs build, and the test suite with coverage
test: $(VENV)/.installed-dev lint typecheck docs pytest

## make test-all: `make test`, then the suite on every other supported Python and once on the
## dependency floors, each in its own .venv-<name> (tools/test-on). `make -j2 -O test-all` runs two at once.
test-all: test $(addprefix test-py,$(PYTHONS)) test-lowest

# A static pattern rule: make applies no plain pattern rule to a .PHONY target.
$(addprefix test-py,$(PYTHONS)): test-py%: $(BIN)/python
	@if [ "$*" = "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" ]; then \
	  echo "== Python $*: the suite ran in make test"; else tools/test-on $*; fi

test-lowest:
	tools/test-on lowest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests tools mkdocs_hooks.py $(wildcard benchmarks)
	$(BIN)/ruff format --check src tests tools mkdocs_hooks.py $(wildcard benchmarks)

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy --strict src tests/typing

## make docs: build the site; any warning fails it (never add --quiet: it hides warnings from --strict)
docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(VENV)/site

pytest: $(VENV)/.installed-dev
	$(BIN)/python -m pytest --cov=stars --cov-report=term -q

bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks

bench-quick: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks --quick

clean:
	rm -rf $(VENV) .venv-3.* .venv-lowest site .coverage .mypy_cache .ruff_cache
