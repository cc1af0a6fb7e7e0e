# posture: build, test and demo. `make help` lists the targets.
#
# Tests run against moto_server (the AWS emulator, Python package moto[server]).
# `make emulator` uses moto_server from PATH if its moto is 5.2.5 or later
# (older ones fail Step Functions executions), otherwise it installs or
# upgrades moto in ./.venv. MOTO_SERVER (exported to every recipe) is the
# executable the Go tests and the demo start; set it to use another one.
# `make tools` installs the Lambda Runtime Interface Emulator into .tools/
# (POSTURE_RIE, exported too); `make validate` checks the deployment templates.

SHELL   := bash
GO      ?= go
PYTHON  ?= python3
VENV    := $(CURDIR)/.venv
MOTO_MIN      := 5.2.5
MOTO_PIP_SPEC := moto[server]>=$(MOTO_MIN),<5.3
# MOTO_VERSION EXE prints the moto version behind a moto_server (pyenv shims,
# virtualenvs, symlinks); moto_ok tests it against MOTO_MIN.
MOTO_VERSION  := $(CURDIR)/.ci/moto-version
moto_ok = { v="$$($(MOTO_VERSION) "$(1)" 2>/dev/null)" && printf '%s\n%s\n' "$(MOTO_MIN)" "$$v" | sort -V -C; }

ifeq ($(strip $(MOTO_SERVER)),)
MOTO_ON_PATH := $(shell command -v moto_server 2>/dev/null)
MOTO_SERVER := $(shell if [ -n "$(MOTO_ON_PATH)" ] && $(call moto_ok,$(MOTO_ON_PATH)); then echo "$(MOTO_ON_PATH)"; else echo "$(VENV)/bin/moto_server"; fi)
endif
export MOTO_SERVER

# Tools the tests and `make validate` install under .tools/ (git-ignored).
TOOLS      := $(CURDIR)/.tools
RIE_MODULE := github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION := v0.0.0-20261030222936-bef5c4ba774d
POSTURE_RIE ?= $(TOOLS)/bin/aws-lambda-rie
export POSTURE_RIE
SAM_CLI_SPEC  := aws-sam-cli==1.170.0
SAM_VENV      := $(TOOLS)/sam-venv
ASL_VALIDATOR_VERSION := 4.0.0
ASL_VALIDATOR := $(TOOLS)/node/node_modules/.bin/asl-validator
CFN_LINT ?= $(shell command -v cfn-lint 2>/dev/null || echo $(SAM_VENV)/bin/cfn-lint)

.DEFAULT_GOAL := help
.PHONY: help build test demo bench bench-fanout sam-build lint emulator tools validate validate-tools clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# A fresh clone has no bin/posture: its first build compiles the AWS SDK,
# which takes a few minutes on a 2-core machine; say so before it starts.
FIRST_BUILD_NOTE = if [ ! -e bin/posture ]; then echo "$@: the first build compiles the AWS SDK and takes a few minutes (about 3 on 2 cores); later builds take seconds"; fi

build: ## build the CLI into bin/posture
	@$(FIRST_BUILD_NOTE)
	$(GO) build -o bin/posture ./cmd/posture

# The test output is summarised: one line per package, failing output, every
# skipped test with its reason, and a closing "N passed, N failed, N skipped".
test: emulator tools ## run all tests (integration tests use moto_server)
	@$(FIRST_BUILD_NOTE)
	set -o pipefail; $(GO) test -count=1 -timeout 20m -json ./... | $(GO) run ./internal/tools/testsummary

demo: emulator build ## run the demo scan on the emulator, output in demo-output/
	$(GO) run ./cmd/posture-demo -posture bin/posture -out demo-output

# BENCH_ACCOUNTS (default 10) accounts, each seeded with the demo account in
# two regions, scanned by one run; figures and their reading in BENCHMARKS.md.
bench: emulator ## scan BENCH_ACCOUNTS demo accounts on the emulator: time, API calls, memory
	$(GO) run ./internal/tools/bench

# The nightly fan-out on the emulator: moto executes the state machine over
# FANOUT_ACCOUNTS member accounts (default 200), the real bootstrap under
# FANOUT_CONCURRENCY Runtime Interface Emulators; figures in BENCHMARKS.md.
FANOUT_ACCOUNTS    ?= 200
FANOUT_CONCURRENCY ?= 4
bench-fanout: emulator tools ## the nightly fan-out through Step Functions on the emulator: time, per-account duration and memory
	POSTURE_BENCH_ACCOUNTS=$(FANOUT_ACCOUNTS) POSTURE_BENCH_CONCURRENCY=$(FANOUT_CONCURRENCY) \
		$(GO) test -count=1 -run '^$$' -bench '^Benchmark(FanOut|SingleRunDemo)$$' -benchtime 1x -timeout 60m -v ./lambda

lint: ## fail on unformatted Go files, then go vet
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt -l: these files need gofmt -w:" >&2; echo "$$unformatted" >&2; exit 1; \
	fi
	$(GO) vet ./...

emulator: ## make sure moto_server (moto >= 5.2.5) exists: PATH, else .venv, else install into .venv
	@if [ "$(MOTO_SERVER)" != "$(VENV)/bin/moto_server" ]; then \
		if [ ! -x "$(MOTO_SERVER)" ] && ! command -v "$(MOTO_SERVER)" >/dev/null 2>&1; then \
			echo "emulator: MOTO_SERVER=$(MOTO_SERVER) is not an executable" >&2; exit 1; \
		fi; \
		if ! $(call moto_ok,$(MOTO_SERVER)); then \
			echo "emulator: warning: MOTO_SERVER=$(MOTO_SERVER) is moto $$($(MOTO_VERSION) "$(MOTO_SERVER)" 2>&1), older than $(MOTO_MIN): Step Functions executions after the first fail" >&2; \
		fi; \
		echo "emulator: using $(MOTO_SERVER) (moto $$($(MOTO_VERSION) "$(MOTO_SERVER)" 2>/dev/null))"; \
	elif [ -x "$(MOTO_SERVER)" ] && $(call moto_ok,$(MOTO_SERVER)); then \
		echo "emulator: using $(MOTO_SERVER) (moto $$($(MOTO_VERSION) "$(MOTO_SERVER)"))"; \
	else \
		if [ -n "$(MOTO_ON_PATH)" ]; then \
			echo "emulator: $(MOTO_ON_PATH) is moto $$($(MOTO_VERSION) "$(MOTO_ON_PATH)" 2>/dev/null || echo '(unknown version)'), older than $(MOTO_MIN)"; \
		fi; \
		if [ -x "$(VENV)/bin/pip" ]; then \
			echo "emulator: upgrading $(VENV) to $(MOTO_PIP_SPEC) (about a minute)"; \
		else \
			echo "emulator: installing $(MOTO_PIP_SPEC) into $(VENV) (about a minute)"; \
			if ! $(PYTHON) -m venv "$(VENV)"; then \
				rm -rf "$(VENV)"; \
				echo "emulator: '$(PYTHON) -m venv' failed: on Debian or Ubuntu install python3-venv (sudo apt-get install python3-venv), or put moto_server $(MOTO_MIN) or later on PATH" >&2; \
				exit 1; \
			fi; \
		fi; \
		"$(VENV)/bin/pip" install --disable-pip-version-check --progress-bar on --upgrade "$(MOTO_PIP_SPEC)" && \
		echo "emulator: using $(MOTO_SERVER) (moto $$($(MOTO_VERSION) "$(MOTO_SERVER)"))"; \
	fi

# The Lambda Runtime Interface Emulator runs the function's bootstrap on this
# machine (no Docker) in the nightly-run tests; `go version -m` tells whether
# the installed one is the pinned version.
tools: ## install the Lambda Runtime Interface Emulator into .tools/bin (POSTURE_RIE)
	@if [ "$(POSTURE_RIE)" != "$(TOOLS)/bin/aws-lambda-rie" ]; then \
		if [ -x "$(POSTURE_RIE)" ]; then echo "tools: using POSTURE_RIE=$(POSTURE_RIE)"; \
		else echo "tools: POSTURE_RIE=$(POSTURE_RIE) is not an executable" >&2; exit 1; fi; \
	elif [ -x "$(POSTURE_RIE)" ] && $(GO) version -m "$(POSTURE_RIE)" 2>/dev/null | grep -q "mod[[:space:]]*$(RIE_MODULE)[[:space:]]*$(RIE_VERSION)"; then \
		echo "tools: using $(POSTURE_RIE)"; \
	else \
		echo "tools: installing aws-lambda-rie $(RIE_VERSION) into $(TOOLS)/bin"; \
		GOBIN="$(TOOLS)/bin" $(GO) install "$(RIE_MODULE)/cmd/aws-lambda-rie@$(RIE_VERSION)"; \
	fi

# asl-validator (npm) into .tools/node, aws-sam-cli (PyPI, which brings its own
# cfn-lint) into .tools/sam-venv, apart from the emulator's .venv so that
# their dependencies never meet. About 1.5 minutes the first time.
validate-tools:
	@if [ -x "$(ASL_VALIDATOR)" ] && [ "$$($(ASL_VALIDATOR) --version)" = "$(ASL_VALIDATOR_VERSION)" ]; then :; else \
		command -v npm >/dev/null 2>&1 || { echo "validate: npm is missing (Debian: sudo apt-get install nodejs npm)" >&2; exit 1; }; \
		echo "validate: installing asl-validator@$(ASL_VALIDATOR_VERSION) into $(TOOLS)/node"; \
		npm install --prefix "$(TOOLS)/node" --no-audit --no-fund --loglevel=error "asl-validator@$(ASL_VALIDATOR_VERSION)"; \
	fi
	@if [ -x "$(SAM_VENV)/bin/sam" ] && "$(SAM_VENV)/bin/pip" show aws-sam-cli 2>/dev/null | grep -qx "Version: $(patsubst aws-sam-cli==%,%,$(SAM_CLI_SPEC))"; then :; else \
		echo "validate: installing $(SAM_CLI_SPEC) into $(SAM_VENV) (about 1.5 minutes)"; \
		{ [ -x "$(SAM_VENV)/bin/pip" ] || $(PYTHON) -m venv "$(SAM_VENV)"; } || \
			{ rm -rf "$(SAM_VENV)"; echo "validate: '$(PYTHON) -m venv' failed (Debian: sudo apt-get install python3-venv)" >&2; exit 1; }; \
		"$(SAM_VENV)/bin/pip" install --disable-pip-version-check --quiet "$(SAM_CLI_SPEC)"; \
	fi

# All offline: `sam validate --lint` runs cfn-lint on the transformed
# template and needs neither credentials nor a region (plain `sam validate`
# would call AWS). The ASL is validated as deployed: placeholders filled.
# What `sam deploy` uploads: `sam build` runs lambda/Makefile (a static
# linux/arm64 bootstrap, no Docker) into .aws-sam/build. Offline.
sam-build: validate-tools ## sam build: the deployable function (linux/arm64 bootstrap) into .aws-sam/build
	SAM_CLI_TELEMETRY=0 "$(SAM_VENV)/bin/sam" build --template-file template.yaml
	@file .aws-sam/build/PostureFunction/bootstrap 2>/dev/null || ls -l .aws-sam/build/PostureFunction/bootstrap

validate: validate-tools ## lint template.yaml and member-role.yaml (cfn-lint, sam validate --lint) and the state machine (asl-validator)
	$(CFN_LINT) template.yaml member-role.yaml
	$(GO) run ./internal/tools/aslrender -template template.yaml -o "$(TOOLS)/posture.asl.rendered.json"
	$(ASL_VALIDATOR) --json-path "$(TOOLS)/posture.asl.rendered.json"
	SAM_CLI_TELEMETRY=0 "$(SAM_VENV)/bin/sam" validate --lint --template-file template.yaml
	SAM_CLI_TELEMETRY=0 "$(SAM_VENV)/bin/sam" validate --lint --template-file member-role.yaml

clean: ## remove build output, demo output and coverage files (keeps .venv)
	rm -rf bin demo-output out coverage.out coverage.html cover.out .aws-sam

distclean: clean ## clean, and remove the .venv emulator install and .tools
	rm -rf "$(VENV)" "$(TOOLS)"
