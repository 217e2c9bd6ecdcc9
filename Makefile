# Newcomer's targets: install, demo, test, bench, lint, format.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PLUGINS = plugins/sync plugins/admin plugins/room plugins/role
SAMPLES = hello broken clash
STAMP   = $(VENV)/.installed

.PHONY: install samples demo test bench lint format docs clean

install: $(STAMP)

$(STAMP): pyproject.toml plugins/*/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	$(BIN)/python -m pip install -q --config-settings editable_mode=compat -e '.[dev]' $(foreach p,$(PLUGINS),-e $(p))
	touch $(STAMP)

demo: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/demo.sh

# The sample third-party plugins are installed with pip, each into its own target directory, so
# a test chooses which of them Python can see (PYTHONPATH); the dev venv itself stays clean.
samples: $(VENV)/samples/.installed
$(VENV)/samples/.installed: $(STAMP) $(wildcard tests/sample_plugins/*/pyproject.toml tests/sample_plugins/*/*/*.py)
	rm -rf $(VENV)/samples
	$(foreach s,$(SAMPLES),$(BIN)/python -m pip install -q --no-deps --no-build-isolation --target $(VENV)/samples/$(s) tests/sample_plugins/$(s) &&) true
	touch $@

test: install samples
	PATH="$(CURDIR)/$(BIN):$$PATH" SCAIWAVE_TEST_DATABASES="$${SCAIWAVE_TEST_DATABASES:-sqlite,mariadb}" \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	PATH="$(CURDIR)/$(BIN):$$PATH" bash scripts/bench.sh

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# The command reference, from every installed command's --help (tests/core/test_command_docs.py
# fails when it is stale).
docs: install
	$(BIN)/python scripts/gen_command_docs.py --output docs/commands.md

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info plugins/*/*.egg-info
