# attendance-suite: `make demo` runs the main job on the embedded sample data, `make test` runs the
# tests. Each creates .venv and installs what it needs on a fresh machine (Python 3.11, pip only).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_STORE := data/demo_store

.PHONY: demo demo-sample test test-all venv bench lint clean-demo strip

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	rm -rf $(DEMO_STORE) data/synthetic
	$(VENV)/bin/attendance synth --out data/synthetic --pupils 6000 --years 3 --seed 2024
	$(VENV)/bin/attendance ingest --store $(DEMO_STORE) --marks data/synthetic/marks.parquet \
	  --pupils data/synthetic/pupils.csv --schools data/synthetic/schools.csv \
	  --interventions data/synthetic/interventions.csv
	@echo; echo "== LA summary (year to date) =="
	$(VENV)/bin/attendance summary --store $(DEMO_STORE) --level la
	@echo; echo "== School summary (year to date) =="
	$(VENV)/bin/attendance summary --store $(DEMO_STORE) --level school

demo-sample: $(STAMP)
	rm -rf data/sample_store
	$(VENV)/bin/attendance ingest --store data/sample_store \
	  --marks data/sample/marks.csv --pupils data/sample/pupils.csv --schools data/sample/schools.csv
	$(VENV)/bin/attendance summary --store data/sample_store --level school

test: $(STAMP)
	$(PY) -m pytest -n 2 -q

test-all: $(STAMP)
	$(PY) -m pytest -n 2 -q -m "slow or not slow"

bench: $(STAMP)
	$(PY) benchmarks/bench_metrics.py

lint: $(STAMP)
	$(VENV)/bin/ruff check attendance_lib tests benchmarks

strip: $(STAMP)
	$(VENV)/bin/nbstripout notebooks/*.ipynb

clean-demo:
	rm -rf $(DEMO_STORE)
