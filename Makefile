# reelcal: `make demo` writes a month offline; `make test` runs the test suite.
# Both create .venv when it is missing and install what they need.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
MONTH  ?= March 2026
TREND  ?= AI agents
OUT    ?= reelcal-output/demo-calendar.xlsx

# llama.cpp is compiled for a portable x86-64 (AVX2) target: a native build enables
# AMX/AVX-512 kernels that crash on some virtual machines (seen on this project's CI).
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON
# torch 2.13.0 resolves to a CPU build here; an unpinned torch pulls a multi-GB CUDA build.
TORCH_SPEC ?= torch==2.13.0

.PHONY: demo test test-all lint bench install install-dev index clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-local: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet "$(TORCH_SPEC)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/pip install --quiet "llama-cpp-python>=0.3.2"
	$(BIN)/pip install --quiet -e ".[local]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-local
	$(BIN)/pip install --quiet -e ".[local,dev]"
	touch $@

install: $(VENV)/.installed-local
install-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed-local
	$(BIN)/reelcal generate --month "$(MONTH)" --trend "$(TREND)" --trend "automation" \
		--niche "AI tools for creators" --out "$(OUT)"

# The notebooks share one offline run: the quickstart writes it under a run id and
# swap_and_reuse resumes the finished run (no model call). make test writes its first week
# (REELCAL_NOTEBOOK_DAYS=7); test-all writes a whole month in each.
# Two pytest-xdist workers: the unit tests split; the notebooks run in order in one worker
# (notebooks/conftest.py) while the integration tests run in the other.
LINTED := pipeline tests benchmarks

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest -n 2 -m "not slow" --disable-socket --allow-unix-socket tests/unit
	REELCAL_OUTPUT_DIR="$$(mktemp -d)" REELCAL_NOTEBOOK_RUN_ID="notebooks-$$(date +%s)" \
		REELCAL_NOTEBOOK_DAYS=7 \
		$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow" tests/integration notebooks \
		--nbmake --nbmake-timeout=2400 --durations=8

# test-all adds the slow tests: a month on the local model, in each notebook, and on a real
# llama_cpp.server (-rP prints its per-request line: prompt_tokens + max_tokens <= n_ctx).
test-all: lint
	$(BIN)/python -m pytest --disable-socket --allow-unix-socket tests/unit
	$(BIN)/python -m pytest -rP tests/integration notebooks --nbmake --nbmake-timeout=2400

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_retrieval.py

index: $(VENV)/.installed-local
	$(BIN)/python -m pipeline.knowledge.index --rebuild-bundled

clean:
	rm -rf $(VENV) build *.egg-info
