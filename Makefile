# biotoets: two commands for a fresh machine.
#   make run   set up and serve the API and web pages on an embedded SQLite database
#   make test  set up and run every check (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint typecheck casebase bench clean services test-py312 chromium pango axe wrk

# durable-rules 2.0.28 is built from its sdist with the project's patches (patches/: a results-only call in its C
# binding), optimised (its setup.py drops CFLAGS; the script passes CPPFLAGS=-O2).
DURABLE := patches/install-durable-rules.sh $(wildcard patches/durable-rules-*.patch)

$(STAMP): pyproject.toml $(DURABLE)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	bash patches/install-durable-rules.sh $(VENV)
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install pango
	$(BIN)/biotoets serve

# The PDF receipt is laid out by WeasyPrint, which needs Pango and HarfBuzz's subsetter from the system (Debian's
# packages; WeasyPrint subsets the fonts it embeds).
pango:
	@{ ldconfig -p | grep -q libpangoft2-1.0 && ldconfig -p | grep -q libharfbuzz-subset; } || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; }

services:
	bash .ci/services.sh

# Browser tests drive Debian's Chromium with Playwright (Playwright's own browser download does not work here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The accessibility check injects axe-core (from its npm package, pinned) into every page the browser tests open.
AXE_VERSION := 4.10.3
AXE := build/axe/node_modules/axe-core/axe.min.js
$(AXE):
	npm install --prefix build/axe --no-audit --no-fund --no-save axe-core@$(AXE_VERSION)
axe: $(AXE)

lint: install
	$(BIN)/ruff check .
	$(BIN)/biotoets rules lint

# mypy cannot follow the editable install's import hook (pyproject's package-dir maps biotoets.engine to engine/ …),
# so it reads the package laid out as installed: links under build/typing (pyproject [tool.mypy] mypy_path).
TYPING := build/typing/biotoets
$(TYPING):
	mkdir -p $(TYPING)
	for p in engine api rules schemas casebase; do ln -sfn ../../../$$p $(TYPING)/$$p; done

typecheck: install $(TYPING)
	$(BIN)/mypy -p biotoets.engine -p biotoets.api

casebase: install
	$(BIN)/biotoets casebase run --coverage --quiet

test: install services chromium pango $(AXE) $(TYPING)
	$(BIN)/ruff check .
	$(BIN)/mypy -p biotoets.engine -p biotoets.api
	$(BIN)/python -m pytest -q
	$(BIN)/biotoets rules lint
	$(BIN)/biotoets casebase run --coverage --quiet
	$(MAKE) test-py312

# The engine must also work on Python 3.12: run its tests there when the interpreter exists.
PY312 := $(shell for p in python3.12 $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.12*/bin/python3.12 2>/dev/null); do \
	$$p -c 'import sys' >/dev/null 2>&1 && echo $$p && break; done)
test-py312:
ifdef PY312
	$(PY312) -m venv .venv312
	.venv312/bin/pip install -q --upgrade pip
	bash patches/install-durable-rules.sh .venv312
	.venv312/bin/pip install -q -e '.[test]'
	.venv312/bin/python -m pytest -q -p no:cacheprovider tests/engine/test_engine.py tests/engine/test_compiler.py tests/engine/test_loader.py tests/engine/test_casebase.py tests/engine/test_properties.py
else
	@echo "python3.12 not found: the Python 3.12 engine run is left out on this machine"
endif

# The API section loads the server with wrk (Debian's package).
wrk:
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

# Peer engines (zen-engine, regopy) and pyinstrument come with the bench extra.
bench: install wrk
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .mypy_cache .hypothesis
