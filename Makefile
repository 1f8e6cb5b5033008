# Shouhu (守护). `make run` sets up and starts the app; `make test` sets up, provisions and tests.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DEMO   := data/demo.gpkg
# When data/demo.gpkg was last brought up to the program's schema (see $(UPGRADED) below).
UPGRADED := build/demo-schema.stamp

.PHONY: run test bench setup provision vendor demo lint clean

run: setup $(UPGRADED)
	$(BIN)/shouhu user first-admin --store $(DEMO)
	$(BIN)/shouhu serve --store $(DEMO)

test: setup provision
	SHOUHU_REQUIRE_ALL=1 $(BIN)/python -m pytest

bench: setup provision
	$(BIN)/python scripts/bench.py $(BENCH_ARGS)
	$(BIN)/python scripts/bench_risk.py $(BENCH_RISK_ARGS)

setup: $(STAMP) vendor

$(BIN)/python:
	scripts/bootstrap.sh
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $(STAMP)

vendor:
	scripts/vendor_assets.sh

provision:
	scripts/provision.sh

$(DEMO): $(STAMP) layers/demo.py
	$(BIN)/shouhu demo --replace --out $(DEMO)

demo: $(DEMO)

# An existing data/demo.gpkg is brought up to the schema (a no-op when current) when the code
# that defines the schema changed since the last time, not on every start. The file itself is
# only an order-only prerequisite: the app's own writes keep it at the current schema.
$(UPGRADED): layers/store/gpkg.py layers/catalogue.py | $(DEMO)
	$(BIN)/shouhu db upgrade --store $(DEMO)
	mkdir -p $(dir $(UPGRADED)) && touch $(UPGRADED)

lint: setup
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) build app/static/vendor $(DEMO)
