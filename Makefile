# The two commands a new user needs: `make run` and `make test`.
VENV   ?= .venv
PY     := $(VENV)/bin/python
SOURCES := services tests $(wildcard bench)
STAMP  := $(VENV)/.installed

.PHONY: run test test-next-year image-test lock lint schema clean bench bench-data chaos browser-deps screenshots

$(PY):
	python3 -m venv $(VENV)

# Dependencies come from the lock file (exact versions, hashes); then Linli itself, editable.
$(STAMP): pyproject.toml requirements/dev.lock | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# After changing a dependency in pyproject.toml: pin everything again, for make, CI and the image
# (requirements/runtime.lock: what the image installs; dev.lock: that plus the dev and embedded
# extras). tests/test_locks.py fails while a lock misses or contradicts pyproject.toml.
UV_COMPILE = $(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 \
	--python-platform x86_64-manylinux_2_28 --generate-hashes --no-header --quiet
lock: $(STAMP)
	$(UV_COMPILE) -o requirements/runtime.lock
	$(UV_COMPILE) --extra dev --extra embedded -o requirements/dev.lock

run: $(STAMP) node_modules/.package-lock.json
	$(VENV)/bin/linli up --demo

lint: $(STAMP)
	$(VENV)/bin/ruff check $(SOURCES)
	$(VENV)/bin/ruff format --check $(SOURCES)
	$(VENV)/bin/mypy

test: lint browser-deps
	$(VENV)/bin/pytest -q

# The same suite with every clock of its processes (and of chromium) a year ahead, through
# libfaketime: it proves no test is bound to the calendar (tests/dates.py). Before a release.
test-next-year: lint browser-deps
	@command -v faketime >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null; } \
	  || { echo "!!! faketime is missing (as root: apt-get install -y faketime)"; exit 1; }
	faketime -f +365d $(VENV)/bin/pytest -q

# Build the real image with podman and start it as an operator would (infra/image-test.sh);
# optional, as root, with DATABASE_URL and REDIS_URL set. Not part of make test.
image-test:
	bash infra/image-test.sh

# The browser tests (tests/browser) drive Debian's chromium: playwright cannot download browsers
# here. A CJK font makes the screenshots legible. Without root or apt they are skipped, loudly.
browser-deps: node_modules/.package-lock.json
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) \
	      || echo "!!! could not install chromium: the browser tests will be SKIPPED"; \
	  else \
	    echo "!!! chromium is missing and this is not root: the browser tests will be SKIPPED" \
	         "(as root: apt-get install -y chromium fonts-wqy-microhei)"; \
	  fi; \
	fi

# The pages' npm packages (the scanner's QR decoder), served from node_modules; never committed.
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent; \
	else echo "!!! npm is missing: the scanner page's camera decoder is not installed (typing still works)"; fi

# Sign-up burst through the real processes vs raw SQL (bench/README.md); not part of `make test`.
# Smaller run: make bench BENCH_ARGS="--residents 1000 --seats 200"
bench: $(STAMP)
	$(PY) -m bench.signup_burst $(BENCH_ARGS)

# A city's worth of data (200,000 residents, 1,000,000 sign-ups, ...) seeded once into its own
# database (linli_city, kept for the next run), then the main reads timed on it and on an empty
# one (bench/README.md, "City-sized data"). Smaller: make bench-data DATA_ARGS="--scale 0.01"
bench-data: $(STAMP)
	$(PY) -m bench.city_reads $(DATA_ARGS)

# Fault drills during sign-up bursts: kill -9 the activities worker, restart Redis, restart
# PostgreSQL (bench/README.md, "Fault drills"); exits 1 if anything was lost or doubled.
# Smaller run: make chaos CHAOS_ARGS="--residents 1000 --seats 200"
chaos: $(STAMP)
	$(PY) -m bench.chaos $(CHAOS_ARGS)

# Refresh the README's screenshots (the browser tests take them at 360 and 1280 px).
screenshots: $(STAMP) browser-deps
	LINLI_SCREENSHOTS=docs $(VENV)/bin/pytest -q tests/browser

schema: $(STAMP)
	$(VENV)/bin/linli schema > schema/schema.graphql

clean:
	rm -rf $(VENV) .linli node_modules
