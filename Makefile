# Two commands on a fresh clone: `make demo` and `make test`. Both set everything up themselves.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ganzoo-installed
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
PYTEST_WORKERS ?= 2

.PHONY: demo test test-slow setup data bench-throughput bench-toy bench-fmnist clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Editable install with dev extras; torch pinned through constraints.txt; the BEGAN plugin is
# installed like any third-party plugin, from its own folder.
$(STAMP): pyproject.toml constraints.txt plugins/ganzoo-began/pyproject.toml | $(BIN)/python
	rm -rf ganzoo.egg-info  # a stale copy here would shadow the installed entry points
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	$(BIN)/python -m pip install -q -c constraints.txt --no-deps -e plugins/ganzoo-began
	touch $@

# Fashion-MNIST (all 70k images, IDX) from Debian's dataset-fashion-mnist package.
data:
	@if [ -f $(FMNIST) ]; then exit 0; fi; \
	if command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Fashion-MNIST (Debian package dataset-fashion-mnist)"; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dataset-fashion-mnist >/dev/null; \
	else \
	  echo "Fashion-MNIST is not in /usr/share/datasets/fashion-mnist and apt-get is unavailable;" \
	       "ganzoo will try a torchvision download, or pass --data-dir"; \
	fi

demo: $(STAMP) data
	$(BIN)/python -m ganzoo.demo

test: $(STAMP) data
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --timeout 600

test-slow: $(STAMP) data
	$(BIN)/python -m pytest -q -m slow --timeout 3600

bench-throughput: $(STAMP) data
	$(BIN)/python benchmarks/throughput.py

bench-toy: $(STAMP)
	$(BIN)/python benchmarks/toy_losses.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
