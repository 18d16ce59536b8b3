# The two front-door commands. Each sets up .venv on first use (pip + venv; torch pinned to
# the CPU build first, so pip never pulls the multi-GB CUDA one), then does its job.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
# Stage commands in dvc.yaml call `python`: put the venv first on PATH.
RUN     := PATH="$(CURDIR)/$(VENV)/bin:$$PATH"
REAL    ?= ../shared/data/jigsaw-train-15k.csv.gz

.PHONY: setup repro test test-fast repro-real bench clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

repro: $(STAMP)
	$(RUN) dvc repro

test: $(STAMP)
	$(RUN) pytest

test-fast: $(STAMP)
	$(RUN) pytest -m "not slow"

clean-venv:
	rm -rf $(VENV)
