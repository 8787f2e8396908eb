# biotoets: two commands for a fresh machine.
#   make run   set up and serve the API and web pages on an embedded SQLite database
#   make test  set up and run every check (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint casebase bench clean services

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# durable_rules ships only as an sdist; its setup.py drops CFLAGS, so optimise through CPPFLAGS.
	CPPFLAGS=-O2 $(BIN)/pip install -q --no-cache-dir --no-binary durable-rules durable-rules==2.0.28
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/biotoets serve

services:
	bash .ci/services.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/biotoets rules lint

casebase: install
	$(BIN)/biotoets casebase run --coverage --quiet

test: install services
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q
	$(BIN)/biotoets rules lint
	$(BIN)/biotoets casebase run --coverage --quiet

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache .hypothesis
