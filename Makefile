# The course's two everyday commands:  make lab   and   make test
# Both create the virtual environment (.venv) on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# JupyterLab refuses to start as root unless told it may.
ROOT_FLAG := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PORT ?= 8888
# pytest-xdist workers for `make test` (0: run everything in one process).
WORKERS ?= 2

.PHONY: lab test lint venv clean-venv student instructor bench bench-smoke

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "the course needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

## Open the lessons in JupyterLab.
lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir=notebooks --port=$(PORT) $(ROOT_FLAG)

## Unit tests + every notebook re-executed by nbval in the smoke profile.
test: $(STAMP)
	COURSE_PROFILE=smoke COURSE_STRICT_WARNINGS=1 TF_CPP_MIN_LOG_LEVEL=2 MPLBACKEND=Agg \
	  $(BIN)/python -m pytest --nbval-lax --nbval-current-env -n $(WORKERS) --dist loadgroup \
	  $(PYTEST_ARGS)

## The pre-commit checks on every file (nbstripout, ruff, whitespace, yaml/json).
lint: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pre-commit run --all-files --show-diff-on-failure

clean-venv:
	rm -rf $(VENV)

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
