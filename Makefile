# The course's two everyday commands:  make lab   and   make test
# Both create the virtual environment (.venv) on first use, from the lock (requirements/lock.txt).

# The Python to build .venv with: the newest 3.11-3.13 that really runs (tools/find_python.sh).
# Override: make PYTHON=/path/to/python3.12 lab
ifndef PYTHON
PYTHON := $(shell sh tools/find_python.sh 3.13 3.12 3.11)
endif
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements/lock.txt
# JupyterLab refuses to start as root unless told it may.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PORT ?= 8888
# pytest-xdist workers for `make test` (0: run everything in one process).
WORKERS ?= 2
# How every test run is set up: the smoke profile, warnings from the course's calls are errors.
TEST_ENV := COURSE_PROFILE=smoke COURSE_STRICT_WARNINGS=1 MPLBACKEND=Agg
PYTEST_FLAGS := --nbval-lax --nbval-current-env -n $(WORKERS) --dist loadgroup

# The Colab-like environment (CI's second environment): Colab's versions, requirements/colab.txt.
COLAB_VENV := .venv-colab
ifndef COLAB_PYTHON
COLAB_PYTHON := $(shell sh tools/find_python.sh 3.13)
endif

.PHONY: lab test lint venv clean-venv student instructor bench bench-smoke lock sync-links \
	colab-env test-colab

venv: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@[ -n "$(PYTHON)" ] || { echo "The course needs Python 3.11, 3.12 or 3.13 (TensorFlow has wheels for no other), and none was found. Install one (python.org, your package manager, or 'uv python install 3.13'), then run: make PYTHON=/path/to/python3.13 $(MAKECMDGOALS)"; exit 1; }
	@echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version)) from $(LOCK)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## Open the lessons in JupyterLab.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --port=$(PORT) $(ROOT_FLAG)

## Unit tests + every notebook re-executed by nbval in the smoke profile.
test: $(STAMP)
	$(TEST_ENV) $(BIN)/python -m pytest $(PYTEST_FLAGS) $(PYTEST_ARGS)

## The pre-commit checks on every file (nbstripout, ruff, whitespace, yaml/json).
lint: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pre-commit run --all-files --show-diff-on-failure

clean-venv:
	rm -rf $(VENV) $(COLAB_VENV)

## Rebuild the lock (and environment.yml from it) after changing a range in pyproject.toml.
lock: $(STAMP)
	$(BIN)/python tools/lock.py

## Rewrite the Colab cell and launch links in every lesson and the README from pyproject's URL.
sync-links: $(STAMP)
	$(BIN)/python tools/colab_cell.py write

## Colab-like environment: Colab's Python and versions, the course installed by the lessons'
## own Colab cell (from this checkout's last commit), plus the test tools (Colab's versions kept).
colab-env: $(COLAB_VENV)/.installed-stamp

$(COLAB_VENV)/.installed-stamp: requirements/colab.txt pyproject.toml $(LOCK) tools/colab_cell.py
	@[ -n "$(COLAB_PYTHON)" ] || { echo "The Colab-like environment needs Python 3.13 (Colab's), and none was found: make COLAB_PYTHON=/path/to/python3.13 $(MAKECMDGOALS)"; exit 1; }
	rm -rf $(COLAB_VENV)
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	$(COLAB_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(COLAB_VENV)/bin/python tools/colab_cell.py image $(COLAB_VENV)/bin/python
	$(COLAB_VENV)/bin/python tools/colab_cell.py run $(COLAB_VENV)/bin/python
	$(COLAB_VENV)/bin/python tools/colab_cell.py test-tools $(COLAB_VENV)/bin/python
	touch $@

## The smoke suite again, in the Colab-like environment.
test-colab: colab-env
	$(TEST_ENV) $(COLAB_VENV)/bin/python -m pytest $(PYTEST_FLAGS) $(PYTEST_ARGS)

## Instructor views: student copies (no outputs, solutions hidden) and answer keys.
student: $(STAMP)
	$(BIN)/python tools/export_views.py student build/student

instructor: $(STAMP)
	$(BIN)/python tools/export_views.py instructor build/instructor

## Budgets: every lesson in the workshop profile (wall time, peak memory, key metric).
bench: $(STAMP)
	$(BIN)/python benchmarks/notebooks.py --profile workshop

## Repeatability: every lesson twice in a row in the smoke profile, checked outputs compared.
bench-smoke: $(STAMP)
	$(BIN)/python benchmarks/notebooks.py --profile smoke --repeat 2
