# The two commands a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HYPOTHESIS_PROFILE ?= ci
# test workers (pytest-xdist): one a core; each test file runs whole on one worker, in order
TEST_WORKERS ?= auto

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# (the optional compiled kernels are built here too: setup.py, src/mentormatch/_native)
$(STAMP): pyproject.toml setup.py $(wildcard src/mentormatch/_native/*.pyx src/mentormatch/_native/*.pxi src/mentormatch/_native/*.h) | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mentormatch demo --out out/demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider --hypothesis-profile=$(HYPOTHESIS_PROFILE) -n $(TEST_WORKERS) --dist loadfile

$(VENV)/.bench-installed: $(STAMP)
	$(BIN)/pip install --quiet -e ".[test,bench]"
	$(BIN)/pip install --quiet --no-deps --target $(VENV)/peers/mentor-match "mentor-match==7.0.1" "munkres==1.1.4"
	touch $(VENV)/.bench-installed

# run.py writes the headline and sections 1-5; `$(BIN)/python benchmarks/run.py --sections speed
# --write BENCHMARKS.md` refreshes one of them (and its headline lines) in a few minutes
bench: $(VENV)/.bench-installed
	$(BIN)/python benchmarks/run.py --write BENCHMARKS.md
	$(BIN)/python benchmarks/programmes.py 500x150 3000x1500 20000x5000@300 --time-limit 60 --peers 500x150 --write BENCHMARKS.md
	$(BIN)/python benchmarks/rounds.py --write BENCHMARKS.md
	$(BIN)/python benchmarks/ladder.py --write BENCHMARKS.md
	$(BIN)/python benchmarks/batch.py --quiet --write BENCHMARKS.md
	$(BIN)/python benchmarks/scoring_target.py --write BENCHMARKS.md

clean:
	rm -rf $(VENV) out
