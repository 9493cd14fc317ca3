# repo2desktop: `make help` lists the targets. Targets set up what they need (packages,
# Docker engine, base image), so a newcomer's first command works on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
# pip through the interpreter itself, not a pyenv shim: pyenv's rehash hook after `python -m pip`
# fails the whole install when an interrupted rehash elsewhere left its lock file behind.
PIP ?= $(shell $(PYTHON) -c 'import sys; print(sys.executable)') -m pip
PYTEST ?= $(PYTHON) -m pytest
BASE_IMAGE ?= repo2desktop/base:bookworm
EXAMPLE ?= tests/image/fixtures/apt-autostart
PORT ?= 8888
PYTEST_ARGS ?=
MUTATION_ARGS ?=
CHP_VERSION ?= 5.3.0
NODE_PREFIX ?= build/node
SERVE_IMAGE ?= repo2desktop-serve-demo
SERVE_PORT ?= 8000

export BASE_IMAGE
export REPO2DESKTOP_BASE_IMAGE := $(BASE_IMAGE)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z0-9_%/.-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  %-22s %s\n", $$1, $$2}'

.PHONY: deps
deps: deps-host deps-python deps-node ## install everything the tests and the demo need

.PHONY: deps-node
deps-node: ## configurable-http-proxy $(CHP_VERSION) with npm into $(NODE_PREFIX) (for serve)
	bash scripts/install-chp.bash $(NODE_PREFIX) $(CHP_VERSION)

.PHONY: deps-host
deps-host: ## Debian packages: desktop stack, chromium, docker.io, debootstrap
	bash scripts/install-host-packages.bash

.PHONY: deps-python
deps-python: viewer ## this package (editable) with its test dependencies
	$(PIP) install -q -e '.[test]'
	@# An editable install skips the package's data files: put the server extension's switch
	@# where a wheel installs it (<prefix>/etc/jupyter/jupyter_server_config.d).
	install -D -m 644 repo2desktop/jupyter/jupyter_server_config.d/repo2desktop.json \
	  "$$($(PYTHON) -c 'import sys; print(sys.prefix)')/etc/jupyter/jupyter_server_config.d/repo2desktop.json"
	@if command -v pyenv >/dev/null; then timeout 90 pyenv rehash || echo "deps-python: pyenv rehash failed (a stale lock?); new commands may lack their shims" >&2; fi

VIEWER := repo2desktop/viewer/dist/desktop.js
.PHONY: viewer
viewer: $(VIEWER) ## bundle the page's noVNC (npm @novnc/novnc, pinned) into one module
$(VIEWER): $(wildcard repo2desktop/viewer/*.js) $(addprefix repo2desktop/viewer/,package.json package-lock.json) scripts/build-viewer.bash
	bash scripts/build-viewer.bash

.PHONY: engine
engine: deps-host ## start dockerd (no systemd here) and wait until it answers
	bash scripts/start-dockerd.bash

.PHONY: base-image
base-image: engine ## build the local Debian base image (no registry to pull from)
	bash scripts/make-base-image.bash

.PHONY: test-unit
test-unit: deps-python ## fast tier: validation table, golden renders, properties (no Docker)
	$(PYTEST) tests/unit $(PYTEST_ARGS)

.PHONY: test-host
test-host: deps base-image ## real desktops on this host: up, restart, Jupyter + Chromium (the quick bench also builds one image)
	$(PYTEST) tests/host $(PYTEST_ARGS)

.PHONY: test-image
test-image: deps base-image ## real repo2docker builds of tests/image/fixtures, tested in containers
	$(PYTEST) tests/image $(PYTEST_ARGS)

.PHONY: test
test: deps base-image preflight ## everything: set up, then all tiers (the README's test command)
	$(PYTEST) tests $(PYTEST_ARGS)

.PHONY: preflight
preflight: ## check that every package, command and image the suite needs is here (one line each)
	PYTHON=$(PYTHON) bash scripts/check-test-prereqs.bash

.PHONY: test-serve
test-serve: deps base-image ## serve tier: the pool behind configurable-http-proxy, APIs, culling, security
	$(PYTEST) tests/serve $(PYTEST_ARGS)

.PHONY: update-golden
update-golden: deps-python ## rewrite tests/unit/golden (supervisord.conf, xinitrc, autostart.sh, bin/*.sh) deliberately (review the diff!)
	$(PYTEST) tests/unit/test_render_golden.py --update-golden

.PHONY: mutation
mutation: deps-python ## plant ten known bugs one at a time in a copy of the tree; show which tests catch each (unit + host tiers, minutes)
	$(PYTHON) scripts/mutation_check.py $(MUTATION_ARGS)

.PHONY: readme-keys
readme-keys: ## rewrite README.md's desktop.yml key reference from repo2desktop/config/schema.py
	$(PYTHON) -m repo2desktop.config.reference README.md

.PHONY: demo
demo: deps base-image ## main job: build $(EXAMPLE) with repo2desktop and run it, printing its URL
	bash scripts/demo.bash $(EXAMPLE) $(PORT)

.PHONY: serve-demo
serve-demo: deps base-image ## build $(EXAMPLE) and serve it to visitors on port $(SERVE_PORT) (Ctrl-C stops)
	$(PYTHON) -m repo2desktop build $(EXAMPLE) --no-run --image-name $(SERVE_IMAGE)
	PATH="$(CURDIR)/$(NODE_PREFIX)/node_modules/.bin:$$PATH" $(PYTHON) -m repo2desktop serve $(SERVE_IMAGE) \
	  --port $(SERVE_PORT) --pool-size 2 --max-containers 6

.PHONY: up
up: deps ## run the repository's own desktop.yml on this host (no image)
	$(PYTHON) -m repo2desktop up .

BENCH_SERVE_IMAGE ?= repo2desktop-bench-serve
BENCH_QUICK ?=
BENCH_ARGS ?=

.PHONY: bench-serve
bench-serve: deps base-image ## serve benchmarks: spawn -> desktop (1 and 20 visitors) vs cold docker run, idle cost; the JupyterHub path vs the plain container; visitor -> READY in Chromium: hub, hub + pool, serve, plain (BENCH_QUICK=1: CI size)
	$(PYTHON) -m repo2desktop build $(EXAMPLE) --no-run --image-name $(BENCH_SERVE_IMAGE)
	$(PYTHON) scripts/bench_serve.py --image $(BENCH_SERVE_IMAGE) $(if $(BENCH_QUICK),--quick)
	$(PYTHON) scripts/bench_hub.py --image $(BENCH_SERVE_IMAGE) $(if $(BENCH_QUICK),--rounds 1 --burst 5)

.PHONY: bench-using
bench-using: deps ## clipboard round trips and resize -> new frame, on this host (BENCH_QUICK=1: 3 rounds)
	$(PYTHON) scripts/bench_using.py $(if $(BENCH_QUICK),--rounds 3)

.PHONY: deps-bench
deps-bench: ## the peers' Debian packages for make bench's host rounds (Xvfb, PulseAudio)
	bash scripts/install-host-packages.bash --bench

.PHONY: bench-audio
bench-audio: deps base-image ## sound (audio: true): latency desktop -> page, bandwidth, encoder CPU, image growth -> build/bench/audio.json
	$(PYTHON) scripts/bench_audio.py $(if $(BENCH_QUICK),--rounds 5 --seconds 3)

.PHONY: bench
bench: deps deps-bench base-image bench-serve bench-using ## ours vs JRDP 3.0.1 and Selkies 2.1 side by side -> build/bench/ (BENCH_QUICK=1: every step once, ours only)
	$(PYTHON) scripts/bench.py $(if $(BENCH_QUICK),--quick) $(BENCH_ARGS)
	$(MAKE) bench-audio

.PHONY: clean
clean: ## remove build output
	rm -rf build dist *.egg-info
