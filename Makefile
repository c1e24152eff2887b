# The two commands a new user needs: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
SOURCES := services tests $(wildcard bench)
STAMP  := $(VENV)/.installed

.PHONY: run test lint schema clean bench

$(PY):
	python3 -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/linli up --demo

lint: $(STAMP)
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check $(SOURCES)
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest -q

# Sign-up burst through the real processes vs raw SQL (bench/README.md); not part of `make test`.
# Smaller run: make bench BENCH_ARGS="--residents 1000 --seats 200"
bench: $(STAMP)
	$(PY) -m bench.signup_burst $(BENCH_ARGS)

schema: $(STAMP)
	$(VENV)/bin/linli schema > schema/schema.graphql

clean:
	rm -rf $(VENV) .linli
