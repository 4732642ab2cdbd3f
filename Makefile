# Two commands do everything on a fresh machine:
#   make run   - set up the environment and execute the solution notebook on the real data
#   make test  - set up the environment and run the test suite
#   make test-fast - the same without the tests marked slow (end-to-end grading, notebook runs, browser, training),
#                    in two processes: under a minute
#   make bench - set up the environment and print the benchmarks (speed, time to quality, grading cost)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
BUDGET ?= auto
OUTPUT ?= output

.PHONY: run test test-fast bench env student-notebook data lint clean

# The venv is rebuilt when the requirements change; the stamp records the last good install.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 > /dev/null
	touch $@

env: $(VENV)/.installed

run: env
	mkdir -p $(OUTPUT)
	UNET_PROGRESS=text $(BIN)/papermill solutions/UNet_Assignment.ipynb $(OUTPUT)/UNet_Assignment.executed.ipynb \
		--cwd solutions -p BUDGET $(BUDGET) --log-output --no-progress-bar
	@echo "executed notebook: $(OUTPUT)/UNet_Assignment.executed.ipynb"

test: env
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-fast: env
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -m "not slow" --numprocesses 2

bench: env
	$(BIN)/python -m bench $(BENCH_ARGS)

student-notebook: env
	$(BIN)/python -m grader generate

data: env
	$(BIN)/python -m unet_kit.data

lint: env
	$(BIN)/ruff check .

clean:
	rm -rf $(OUTPUT) .pytest_cache
