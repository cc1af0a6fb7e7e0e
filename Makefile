# posture: build, test and demo. `make help` lists the targets.
#
# Tests run against moto_server (the AWS emulator, Python package moto[server]).
# `make emulator` uses moto_server from PATH if there is one, otherwise it
# installs moto into ./.venv. MOTO_SERVER (exported to every recipe) is the
# executable the Go tests and the demo start; set it to use another one.

SHELL   := bash
GO      ?= go
PYTHON  ?= python3
VENV    := $(CURDIR)/.venv
MOTO_PIP_SPEC := moto[server]>=5.2,<5.3

ifeq ($(strip $(MOTO_SERVER)),)
MOTO_SERVER := $(shell command -v moto_server 2>/dev/null || echo $(VENV)/bin/moto_server)
endif
export MOTO_SERVER

.DEFAULT_GOAL := help
.PHONY: help build test demo bench lint emulator clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# A fresh clone has no bin/posture: its first build compiles the AWS SDK,
# which takes a few minutes on a 2-core machine; say so before it starts.
FIRST_BUILD_NOTE = if [ ! -e bin/posture ]; then echo "$@: the first build compiles the AWS SDK and takes a few minutes (about 3 on 2 cores); later builds take seconds"; fi

build: ## build the CLI into bin/posture
	@$(FIRST_BUILD_NOTE)
	$(GO) build -o bin/posture ./cmd/posture

# The test output is summarised: one line per package, failing output, every
# skipped test with its reason, and a closing "N passed, N failed, N skipped".
test: emulator ## run all tests (integration tests use moto_server)
	@$(FIRST_BUILD_NOTE)
	set -o pipefail; $(GO) test -count=1 -timeout 20m -json ./... | $(GO) run ./internal/tools/testsummary

demo: emulator build ## run the demo scan on the emulator, output in demo-output/
	$(GO) run ./cmd/posture-demo -posture bin/posture -out demo-output

# BENCH_ACCOUNTS (default 10) accounts, each seeded with the demo account in
# two regions, scanned by one run; figures and their reading in BENCHMARKS.md.
bench: emulator ## scan BENCH_ACCOUNTS demo accounts on the emulator: time, API calls, memory
	$(GO) run ./internal/tools/bench

lint: ## fail on unformatted Go files, then go vet
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt -l: these files need gofmt -w:" >&2; echo "$$unformatted" >&2; exit 1; \
	fi
	$(GO) vet ./...

emulator: ## make sure moto_server exists (PATH, else .venv, else install into .venv)
	@if [ -x "$(MOTO_SERVER)" ]; then \
		echo "emulator: using $(MOTO_SERVER)"; \
	elif [ "$(MOTO_SERVER)" != "$(VENV)/bin/moto_server" ]; then \
		echo "emulator: MOTO_SERVER=$(MOTO_SERVER) is not an executable" >&2; exit 1; \
	else \
		echo "emulator: installing $(MOTO_PIP_SPEC) into $(VENV) (about a minute)"; \
		if ! $(PYTHON) -m venv "$(VENV)"; then \
			rm -rf "$(VENV)"; \
			echo "emulator: '$(PYTHON) -m venv' failed: on Debian or Ubuntu install python3-venv (sudo apt-get install python3-venv), or put moto_server on PATH" >&2; \
			exit 1; \
		fi; \
		"$(VENV)/bin/pip" install --disable-pip-version-check --progress-bar on "$(MOTO_PIP_SPEC)" && \
		echo "emulator: using $(MOTO_SERVER)"; \
	fi

clean: ## remove build output, demo output and coverage files (keeps .venv)
	rm -rf bin demo-output out coverage.out coverage.html cover.out

distclean: clean ## clean, and remove the .venv emulator install
	rm -rf "$(VENV)"
