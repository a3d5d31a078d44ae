# sinlod: every target sets up what it needs from the project's own files.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
STORE ?= var/store
HOST ?= 127.0.0.1
PORT ?= 8000

.DEFAULT_GOAL := help

.PHONY: help setup run publish test lint format clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install sinlod with its test tools

publish: $(STAMP) ## Convert, validate and publish the shipped dataset into var/store
	$(BIN)/sinlod publish data/records --store $(STORE)

run: publish ## Set up, publish the shipped dataset and serve it on http://127.0.0.1:8000
	$(BIN)/sinlod serve --store $(STORE) --host $(HOST) --port $(PORT)

test: $(STAMP) ## Set up and run the whole test suite
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff + mypy, as strict as CI
	$(BIN)/ruff check sinlod tests
	$(BIN)/ruff format --check sinlod tests
	$(BIN)/mypy

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff format sinlod tests
	$(BIN)/ruff check --fix sinlod tests

clean: ## Remove .venv, var/ and caches
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
