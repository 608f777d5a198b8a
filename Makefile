# The commands the README tells people to type. Each one sets up what it needs first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell sha256sum pyproject.toml | cut -c1-12)

.PHONY: run test unit integration chaos bench jars browser examples schemas catalogues install clean

## run: two nodes (es, ec) on the embedded broker, seeded with the demo federation, their
## gateways in development mode (GraphiQL); Ctrl-C stops it
run: install jars
	$(BIN)/coopbridge up --node es --node ec --demo --development

## test: every test (unit, integration on a real broker the tests start, end to end), in
## TEST_WORKERS processes (pytest-xdist; each its own broker; a test file stays in one; the
## production shape first: tests/conftest.py LONGEST_FIRST)
TEST_WORKERS ?= 2
test: install jars browser examples
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

## unit: the fast tests only, nothing running
unit: install
	$(BIN)/pytest tests/unit

## chaos: faults, abuse and privacy, at length (not part of make test); prints the figures.
## Two processes side by side, each with its own broker: the production shape (the longest,
## its output in .coopbridge/chaos/production-shape.log, shown at the end) and the rest
CHAOS_PYTEST := COOPBRIDGE_CHAOS_RUNS=25 $(BIN)/pytest -m '' --timeout 2700 $(CHAOS_ARGS)
chaos: install jars
	rm -f .coopbridge/chaos/figures.jsonl
	mkdir -p .coopbridge/chaos
	-$(CHAOS_PYTEST) tests/chaos/test_production_shape.py > .coopbridge/chaos/production-shape.log 2>&1 & \
	  $(CHAOS_PYTEST) tests/chaos --ignore tests/chaos/test_production_shape.py; \
	  wait; cat .coopbridge/chaos/production-shape.log
	$(BIN)/python -m tests.chaos.report

## bench: the benchmarks (not part of make test): a table of figures, each against a baseline of
## the same run, also written to .coopbridge/bench/results.json; BENCH_ARGS="--only query --quick"
bench: install jars
	$(BIN)/python -m tests.bench $(BENCH_ARGS)

## jars: fetch the Apache Kafka jars with Maven (cached; again only when the POM changes)
jars: install
	$(BIN)/coopbridge broker fetch

## browser: Debian's Chromium for the dashboard test (a test tool never downloads its own)
browser:
	@command -v chromium >/dev/null || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
	  $$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive \
	    apt-get install -y -qq chromium >/dev/null; }

## examples: the partner guide's JavaScript example's packages (pinned by its lock file)
EXAMPLES_JS := docs/examples/javascript
examples: $(EXAMPLES_JS)/node_modules/.installed

$(EXAMPLES_JS)/node_modules/.installed: $(EXAMPLES_JS)/package-lock.json
	cd $(EXAMPLES_JS) && npm ci --no-audit --no-fund --silent
	touch $@

## catalogues: the words marked in the gateway's code into gateway/locales/coopbridge.pot, and
## each language's .po brought up to it (new words come in empty, for their translators)
catalogues: install
	$(BIN)/python -m gateway.i18n.extract

## schemas: regenerate schemas/jsonschema, schema.graphql and the partner guide's tables after changing a contract or the API
schemas: install
	$(BIN)/python -m schemas.jsonschemas
	$(BIN)/coopbridge schema > schema.graphql.new && mv schema.graphql.new schema.graphql
	$(BIN)/python -m tests.partner_guide

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

clean:
	rm -rf $(VENV) .coopbridge *.egg-info
