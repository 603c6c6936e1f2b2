# The two commands: `make run` (set up, ingest the samples, start the main job) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
DATA_DIR ?= data
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

# llama-cpp-python has no binary wheel: build it once for a portable x86-64 (AVX2) baseline.
# -march=native would pick AMX kernels that crash on hosts that advertise AMX without enabling
# it, and would make a wheel that cannot move to another CPU in the offline bundle.
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
WHEELS ?= $(HOME)/.cache/appliance-wheels
# A CUDA build when this host has both the CUDA compiler and a GPU (docs/models.md), kept in a
# wheel cache of its own; the CPU build otherwise, and as the fallback when the CUDA build fails.
GPU := $(shell command -v nvcc >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && echo cuda)
ifeq ($(GPU),cuda)
LLAMA_WHEELS := $(WHEELS)/cuda
LLAMA_BUILD_ARGS := $(LLAMA_CMAKE_ARGS) -DGGML_CUDA=on
else
LLAMA_WHEELS := $(WHEELS)
LLAMA_BUILD_ARGS := $(LLAMA_CMAKE_ARGS)
endif

.PHONY: run setup init ingest-samples test test-fast bench bundle clean

run: setup init ingest-samples
	$(VENV)/bin/appliance --data-dir $(DATA_DIR) serve

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1 || \
	  CMAKE_ARGS="$(LLAMA_BUILD_ARGS)" $(PIP) wheel --no-cache-dir --no-deps -w $(LLAMA_WHEELS) \
	    llama-cpp-python==$(LLAMA_VERSION) || \
	  { echo "the CUDA build of llama-cpp-python failed: building it for the CPU"; \
	    CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) wheel --no-cache-dir --no-deps -w $(WHEELS) \
	      llama-cpp-python==$(LLAMA_VERSION); }
	$(PIP) install -q $$(ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl 2>/dev/null \
	  || ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl)
	$(PIP) install -q -e '.[test]'
	touch $@

init: setup
	$(VENV)/bin/appliance --data-dir $(DATA_DIR) init

ingest-samples: init
	$(VENV)/bin/appliance --data-dir $(DATA_DIR) ingest samples/handbook

test: setup
	scripts/install-test-deps.sh
	scripts/ops-install-test-deps.sh
	$(PY) -m pytest -q

test-fast: setup
	scripts/install-test-deps.sh
	scripts/ops-install-test-deps.sh
	$(PY) -m pytest -q -m "not slow"

bench: setup
	$(PY) benchmarks/retrieval_quality.py
	$(PY) benchmarks/search_latency.py
	$(PY) benchmarks/ingest_throughput.py
	$(PY) benchmarks/generation.py

# The signed offline bundle (docs/operations.md): dist/bundle/ and dist/appliance-bundle-<version>.tar.gz.
# The signing key is made on first use at ~/.config/appliance/bundle-signing.key (0600).
bundle: setup
	$(PY) scripts/bundle.py fetch
	$(PY) scripts/bundle.py build

clean:
	rm -rf $(VENV) .pytest_cache
