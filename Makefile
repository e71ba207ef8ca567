# attendance-suite: `make demo` runs the main job on the embedded synthetic LA, `make test` runs the
# tests. Each creates .venv and installs what it needs on a fresh machine (Python 3.11, pip only).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_STORE := data/demo_store

.PHONY: demo demo-store demo-sample test test-all venv bench bench-reports lab lint clean-demo strip

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: demo-store
	@echo; echo "== LA summary (year to date) =="
	$(VENV)/bin/attendance summary --store $(DEMO_STORE) --level la
	@echo; echo "== School summary (year to date) =="
	$(VENV)/bin/attendance summary --store $(DEMO_STORE) --level school
	@echo; echo "== Early-warning model (trained on the earlier years as of the latest mark) =="
	$(VENV)/bin/attendance model train --store $(DEMO_STORE) --out data/demo_model \
	  --as-of $$($(PY) -c "from attendance_lib.store import Store; print(Store('$(DEMO_STORE)').latest_date())")
	@echo; echo "== Reports: schools, TSM packs, LA overview, data quality, early warning, impact =="
	$(VENV)/bin/attendance report --store $(DEMO_STORE) --out reports --workers 2 --model data/demo_model

# the synthetic LA (6,000 pupils, 3 years) generated and loaded into data/demo_store
demo-store: $(STAMP)
	rm -rf $(DEMO_STORE) data/synthetic data/demo_model
	$(VENV)/bin/attendance synth --out data/synthetic --pupils 6000 --years 3 --seed 2024
	$(VENV)/bin/attendance ingest --store $(DEMO_STORE) --marks data/synthetic/marks.parquet \
	  --pupils data/synthetic/pupils.csv --schools data/synthetic/schools.csv \
	  --interventions data/synthetic/interventions.csv

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

bench-reports: $(STAMP)
	$(PY) benchmarks/bench_reports.py --workers 2

# JupyterLab on notebooks/ with the project's kernel and the demo store (built if missing)
lab: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,lab]'
	@test -f $(DEMO_STORE)/store.json || $(MAKE) --no-print-directory demo-store
	$(PY) -c "from attendance_lib.reporting.kernel import ensure_kernel; print('kernel:', ensure_kernel())"
	ATTENDANCE_STORE=$(abspath $(DEMO_STORE)) $(VENV)/bin/jupyter lab notebooks/

lint: $(STAMP)
	$(VENV)/bin/ruff check attendance_lib tests benchmarks

strip: $(STAMP)
	$(VENV)/bin/nbstripout notebooks/*.ipynb

clean-demo:
	rm -rf $(DEMO_STORE)
