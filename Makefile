# lecturelib: two commands on a fresh machine.
#   make run   — set up, build the sample library from corpus/ into ./instance, serve it
#   make test  — set up and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOME_DIR ?= instance

.PHONY: run test setup library bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

library: setup
	$(BIN)/lecturelib --home $(HOME_DIR) ingest corpus/materials

run: library
	$(BIN)/lecturelib --home $(HOME_DIR) serve

test: setup
	bash scripts/ensure-browser.sh
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/ingest_reports.py

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache
