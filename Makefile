# lecturelib: two commands on a fresh machine.
#   make run   — set up, build the sample library from corpus/ into ./instance (the first time
#                only), serve it on http://127.0.0.1:$(PORT)/ (make run PORT=8080 to choose)
#   make test  — set up, lint (ruff, import contracts) and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOME_DIR ?= instance
CORPUS ?= corpus/materials
HOST   ?= 127.0.0.1
PORT   ?= 5000
# Written once the sample library is in the home: a second `make run` starts at once.
# Delete it (or `make clean`) to import the corpus again.
LIBRARY_STAMP := $(HOME_DIR)/.sample-library

.PHONY: run test lint setup library bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(VENV)/.installed

# The sample library holds a recording: ffmpeg reads it (installed when missing, as root). A
# file that cannot be read is reported by name (exit 1) and the rest of the library is served;
# any other failure stops here.
$(LIBRARY_STAMP): | $(VENV)/.installed
	bash scripts/ensure-media.sh
	$(BIN)/lecturelib --home $(HOME_DIR) ingest -q $(CORPUS) || [ $$? -eq 1 ]
	touch $@

library: $(LIBRARY_STAMP)

run: library
	$(BIN)/lecturelib --home $(HOME_DIR) serve --host $(HOST) --port $(PORT)

# ruff (lint + format) and the layer contracts (import-linter), then the tests
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: setup lint
	bash scripts/ensure-browser.sh
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-media.sh
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python bench/ingest_reports.py

clean:
	rm -rf $(VENV) $(HOME_DIR) .pytest_cache
