# dicom.network -- build and test harness.
#
#   make test         what CI runs, stopping at the first failure: deps, sanity (2.19), sanity-2.16,
#                     sanity-2.21, units, integration, integration-2.16, integration-2.21, lint,
#                     changelog-lint, docs-lint, package-test, then demo once
#   make sanity       ansible-test sanity on ansible-core 2.19 / Python 3.11 (.venv); no
#                     tests/sanity/ignore-*.txt allowed, on any core
#   make sanity-2.16  the same on ansible-core 2.16 / Python 3.11 (.venv-2.16)
#   make sanity-2.21  the same on ansible-core 2.21 / Python 3.12 (.venv-2.21); SKIPPED, and says so,
#                     where the machine has no Python 3.12 (PYTHON_312=... points at one)
#   make units        ansible-test units
#   make integration  ansible-test integration  (real DCMTK / Orthanc peers on loopback)
#   make integration-2.16  the module and lookup integration targets on ansible-core 2.16 (.venv-2.16)
#   make integration-2.21  the same targets on ansible-core 2.21 / Python 3.12 (.venv-2.21); skipped as above
#   make lint         ansible-lint --profile production on roles/ and playbooks/
#   make changelog-lint  antsibull-changelog lint; CHANGELOG.md is what changelogs/changelog.yaml generates
#   make docs-lint    antsibull-docs lint-collection-docs, and the guides cover every option and outcome
#   make package-test build the tarball, install it into a fresh path, smoke-test it; ansible-builder create
#   make changelog    fold new changelog fragments into galaxy.yml's version, regenerate CHANGELOG.md
#   make demo         loopback SCPs + playbooks/demo.yml (pacs_verify, dicom_audit); reports in demo-output/
#   make deps         .venv, .venv-2.16, .venv-2.21, Debian packages, offline pip bootstrap for ansible-test
#   make clean        remove .build/ and tests/output/ (make distclean also removes the .venv* directories)
#
# Works from a fresh Debian/Ubuntu machine with Python >= 3.11 (and a Python 3.12 for ansible-core
# 2.21): everything it needs comes from PyPI and the distribution's apt repositories (README.md,
# "Commands").

# bash with errexit/pipefail for every recipe line: a failing command in a pipe must fail.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
# `make test` must run its steps in order and stop at the first failure, even under -j.
.NOTPARALLEL:
.DELETE_ON_ERROR:

ROOT := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

# ansible-test insists on running from .../ansible_collections/<namespace>/<name>
# (docs/dev/ansible-test-harness.md 1), but the repository root is the collection root: we test a copy,
# kept in sync by hacking/sync-build-tree.py (git-visible files only, stale files removed).
COLLECTION_NAMESPACE := dicom
COLLECTION_NAME := network
BUILD_DIR := $(ROOT)/.build
COLLECTION_DIR := $(BUILD_DIR)/ansible_collections/$(COLLECTION_NAMESPACE)/$(COLLECTION_NAME)

# The project's virtualenv: ansible-core (hence ansible-test), ansible-lint,
# antsibull-changelog, pytest and the runtime requirements.  Updated when a requirements
# file changes (the stamp is older than it).
VENV := $(ROOT)/.venv
VENV_PY := $(VENV)/bin/python
VENV_STAMP := $(VENV)/.installed
VENV_REQUIREMENTS := $(ROOT)/requirements.txt $(ROOT)/tests/requirements-dev.txt
# Python to create .venv with.  Empty: hacking/find-python.sh picks one (the pyenv 3.11.7
# build if present, else python3.11 / python3 from PATH; it must be >= 3.11).
PYTHON ?=

# Put the venv (and the pyenv 3.11.7 build, if any) ahead of pyenv's shims: ansible-test
# looks interpreters up on PATH, and a shim for a version pyenv has not selected exits 127
# (docs/dev/ansible-test-harness.md 4).  Other environment variables hardly matter: ansible-test strips
# them (c.7), so pip settings must live in pip.conf.
PYENV_311_BIN := $(wildcard /root/.pyenv/versions/3.11.7/bin)
export PATH := $(VENV)/bin$(if $(PYENV_311_BIN),:$(PYENV_311_BIN)):$(PATH)

# The Python version ansible-test tests with, always passed explicitly (--python) so it
# never probes python3.8 ... python3.13 on PATH.  Defaults to the venv's own version
# (3.11).  A recursive variable: evaluated when a recipe runs, i.e. after .venv exists.
TEST_PYTHON = $(shell "$(VENV_PY)" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
ANSIBLE_TEST = "$(VENV)/bin/ansible-test"
# --venv: ansible-test builds its own virtualenvs from PyPI (pip bootstrapped offline, see
# offline-pip) instead of needing docker/podman or polluting .venv.
ANSIBLE_TEST_ARGS = --venv --python $(TEST_PYTHON) --color no
# Extra options, e.g.  make sanity SANITY_ARGS='--test pep8'   make units UNITS_ARGS='-v'
SANITY_ARGS ?=
UNITS_ARGS ?=
INTEGRATION_ARGS ?=

# Debian packages the tests need, as PACKAGE:BINARY[,BINARY...] (the binaries tell whether
# the package is installed; a bare package name is checked with dpkg-query).  Installed
# with apt-get when make runs as root (`make deps` does one apt-get update for all of
# them); otherwise make fails and says what to install.
#   shellcheck       without it ansible-test's "shellcheck" sanity test only warns and skips
#   dcmtk, orthanc   the real DICOM peers the integration tests talk to
#   openssh-client   ansible-test integration runs ssh-keygen ("FATAL: Required program
#                    "ssh-keygen" not found." on minimal images)
#   openssh-server   the dicom_echo_ssh target starts its own sshd on loopback (the package's
#                    service is kept from starting, see hacking/install-system-deps.sh)
#   prometheus       promtool checks the openmetrics reports (setup_dicom_reports/check_reports.py);
#                    the package's own server is kept from starting like sshd's
# EXTRA_APT_PACKAGES (same format) is for what the integration tests need next,
# e.g.  EXTRA_APT_PACKAGES := chromium:chromium
SANITY_APT_PACKAGES := shellcheck:shellcheck
INTEGRATION_APT_PACKAGES := dcmtk:storescp,echoscu,dcmqrscp orthanc:/usr/sbin/Orthanc openssh-client:ssh-keygen openssh-server:/usr/sbin/sshd prometheus:promtool
EXTRA_APT_PACKAGES ?= chromium:chromium
INSTALL_SYSTEM_DEPS := "$(ROOT)/hacking/install-system-deps.sh"
OFFLINE_PIP := "$(ROOT)/hacking/ansible-test-offline-pip.sh"

# What `make lint` lints (relative to the collection root).
LINT_PATHS := roles playbooks

.PHONY: help test deps venv system-deps offline-pip build-tree sanity units integration lint demo clean distclean \
	changelog changelog-lint docs-lint package-test

# The comment block at the top of this file, up to its first blank line.
help:
	@sed -n '3,/^$$/s/^# \{0,1\}//p' "$(firstword $(MAKEFILE_LIST))"

# The demo last: it is the main job a new user runs first, so a broken one must fail CI too.
# The matrix steps (sanity-2.16, sanity-2.21, integration-2.16, integration-2.21) follow the 2.19 step
# of the same kind; the last line repeats a skip of the 2.21 steps, so it cannot go unnoticed.
TEST_STEPS := deps sanity sanity-2.16 sanity-2.21 units integration integration-2.16 integration-2.21 \
	lint changelog-lint docs-lint package-test demo
test: $(TEST_STEPS)
	@echo "make test: $(TEST_STEPS) all passed"
	@if ! PYTHON="$(PYTHON_312)" "$(ROOT)/hacking/find-python.sh" --exact 3.12 >/dev/null 2>&1; then \
	    echo "make test: *** sanity-2.21 and integration-2.21 were SKIPPED: no Python 3.12 on this machine (ansible-core 2.21 untested)"; \
	fi

deps: venv venv-2.16 venv-2.21 system-deps offline-pip

venv: $(VENV_STAMP)

$(VENV_STAMP): $(VENV_REQUIREMENTS)
	@if [ ! -x "$(VENV_PY)" ]; then \
	    py=$$(PYTHON="$(PYTHON)" "$(ROOT)/hacking/find-python.sh"); \
	    echo "Creating $(VENV) with $$py ($$("$$py" --version 2>&1))"; \
	    "$$py" -m venv "$(VENV)"; \
	fi
	"$(VENV_PY)" -m pip install --quiet --disable-pip-version-check --upgrade pip
	"$(VENV_PY)" -m pip install --quiet --disable-pip-version-check $(addprefix -r ,$(VENV_REQUIREMENTS))
	@touch "$@"

system-deps:
	@$(INSTALL_SYSTEM_DEPS) $(SANITY_APT_PACKAGES) $(INTEGRATION_APT_PACKAGES) $(EXTRA_APT_PACKAGES)

# ansible-test bootstraps pip in each --venv virtualenv with a script downloaded from
# ci-files.testing.ansible.com, which is unreachable here (docs/dev/ansible-test-harness.md 2): install a
# stand-in into ~/.ansible/test/cache.
# Each core venv that exists adds the pip version its ansible-test bootstraps (the 2.21 steps run it
# again once .venv-2.21 exists).
offline-pip:
	@$(OFFLINE_PIP) "$(VENV)" "$(VENV_216)" "$(VENV_221)"

# Re-synced on every run (cheap: only changed files are copied, stale ones removed).
build-tree: venv
	@"$(VENV_PY)" "$(ROOT)/hacking/sync-build-tree.py" "$(ROOT)" "$(COLLECTION_DIR)"

# Findings are fixed, not ignored: no tests/sanity/ignore-*.txt (checked by sanity-prereqs, for
# every core of the matrix below).
sanity: venv offline-pip build-tree sanity-prereqs
	cd "$(COLLECTION_DIR)" && $(ANSIBLE_TEST) sanity $(ANSIBLE_TEST_ARGS) $(SANITY_ARGS)

sanity-prereqs:
	@$(INSTALL_SYSTEM_DEPS) $(SANITY_APT_PACKAGES)
	@if compgen -G "$(ROOT)/tests/sanity/ignore-*.txt" >/dev/null; then \
	    echo "ERROR: sanity ignore files are not allowed in this collection:" >&2; \
	    ls "$(ROOT)"/tests/sanity/ignore-*.txt >&2; \
	    exit 1; \
	fi

# With no unit tests at all, ansible-test prints "WARNING: All targets skipped." and
# exits 0, so there is nothing to special-case here.
units: venv offline-pip build-tree
	cd "$(COLLECTION_DIR)" && $(ANSIBLE_TEST) units $(ANSIBLE_TEST_ARGS) $(UNITS_ARGS)

# With no integration target at all ansible-test exits 1 with
#   FATAL: Cannot run integration tests without "roles/test/" or "tests/integration/targets/".
# That one case is reported and skipped; everything else is ansible-test's verdict.
integration: venv offline-pip build-tree
	@$(INSTALL_SYSTEM_DEPS) $(INTEGRATION_APT_PACKAGES) $(EXTRA_APT_PACKAGES)
	@if [ -z "$$(find "$(COLLECTION_DIR)/tests/integration/targets" -mindepth 2 -type f -print -quit 2>/dev/null)" ]; then \
	    echo "integration: no targets in tests/integration/targets/ yet -- nothing to run (skipped)"; \
	    exit 0; \
	fi; \
	cmd='$(ANSIBLE_TEST) integration $(ANSIBLE_TEST_ARGS) $(INTEGRATION_ARGS)'; \
	echo "cd $(COLLECTION_DIR) && $$cmd"; \
	cd "$(COLLECTION_DIR)" && eval "$$cmd"

# ---- The ansible-core matrix (docs/dev/ansible-test-harness.md 6) -------------------------------
# .venv holds ansible-core 2.19 on Python 3.11: `make sanity`, `units` and `integration` use it.
# Beside it, each in a virtualenv of its own (git-ignored), made and checked by hacking/core-venv.sh:
#   .venv-2.16  ansible-core 2.16, the oldest meta/runtime.yml admits, on the same Python as .venv
#               (ansible-test 2.16 wants a controller Python <= 3.12); it bootstraps pip 23.1.2.
#   .venv-2.21  ansible-core 2.21, the newest release, on Python 3.12 (2.20+ refuse 3.11): PYTHON_312
#               if set, else the newest pyenv 3.12.x build, else python3.12 from PATH
#               (hacking/find-python.sh --exact 3.12); it bootstraps pip 25.2.
# offline-pip provides the get-pip stand-in each of them asks for.  sanity-2.16 / sanity-2.21 run the
# whole sanity suite; integration-2.16 / integration-2.21 the targets that put the module and the
# lookup through each core's own value types (AnsibleUnicode on 2.16, tagged values on 2.19+),
# no_log_secrets included.  All four are part of `make test`.
#
# Failing loudly: a core release that cannot be installed (pip fails, or the venv holds another
# release) fails the step, and so `make deps` and `make test`.  The one skip: a machine without any
# Python 3.12 interpreter runs the 2.16 and 2.19 steps only; the 2.21 steps then print
# "*** <step>: SKIPPED ..." with what was tried, and `make test` repeats it in its last line.  A
# Python 3.12 that is there but unusable (no venv/ensurepip module, PYTHON_312 pointing at something
# else) fails.
VENV_216 := $(ROOT)/.venv-2.16
VENV_221 := $(ROOT)/.venv-2.21
PYTHON_312 ?=
CORE_VENV := "$(ROOT)/hacking/core-venv.sh"
INTEGRATION_216_TARGETS ?= dicom_echo dicom_echo_tls lookup_transfer_syntaxes no_log_secrets
INTEGRATION_221_TARGETS ?= $(INTEGRATION_216_TARGETS)
# The Python version of .venv-2.16 (recursive: read when a recipe runs, after venv-2.16).
TEST_PYTHON_216 = $(shell "$(VENV_216)/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

# Shell code that starts every 2.21 recipe: sets py to the Python 3.12 to use, or, where the machine
# has none, says that the step is skipped and why, and ends the recipe with success.
define PY312_OR_SKIP
rc=0; py=$$(PYTHON="$(PYTHON_312)" "$(ROOT)/hacking/find-python.sh" --exact 3.12 2>&1) || rc=$$?; \
if [ "$$rc" = 3 ]; then \
    echo "*** $@: SKIPPED -- ansible-core 2.21 needs a Python 3.12 controller: $$py."; \
    echo "*** $@: install one (pyenv install 3.12, or apt-get install python3.12 python3.12-venv) or set PYTHON_312=/path/to/python3.12"; \
    exit 0; \
elif [ "$$rc" != 0 ]; then \
    echo "$$py" >&2; exit "$$rc"; \
fi
endef

# The start of every 2.21 recipe: Python 3.12 or skip, .venv-2.21 made or checked, its pip stand-in.
define SETUP_221
$(PY312_OR_SKIP); \
$(CORE_VENV) "$(VENV_221)" "$$py" 2.21 "$(ROOT)/requirements.txt"; \
$(OFFLINE_PIP) "$(VENV_221)"
endef

# $(call CORE_ANSIBLE_TEST,VENV): the ansible-test of the core in VENV, run in the build tree.  VENV's
# bin/ goes first on PATH: there ansible-test finds its own ansible and the python3.X of --python.
define CORE_ANSIBLE_TEST
cd "$(COLLECTION_DIR)" && PATH="$(1)/bin:$$PATH" "$(1)/bin/ansible-test"
endef

.PHONY: venv-2.16 venv-2.21 sanity-prereqs sanity-2.16 sanity-2.21 integration-2.16 integration-2.21

venv-2.16:
	@py=$$(PYTHON="$(PYTHON)" "$(ROOT)/hacking/find-python.sh"); \
	$(CORE_VENV) "$(VENV_216)" "$$py" 2.16 "$(ROOT)/requirements.txt"

venv-2.21:
	@$(SETUP_221)

sanity-2.16: venv-2.16 offline-pip build-tree sanity-prereqs
	$(call CORE_ANSIBLE_TEST,$(VENV_216)) sanity --venv --python $(TEST_PYTHON_216) --color no $(SANITY_ARGS)

sanity-2.21: offline-pip build-tree sanity-prereqs
	@$(SETUP_221); \
	cmd='$(call CORE_ANSIBLE_TEST,$(VENV_221)) sanity --venv --python 3.12 --color no $(SANITY_ARGS)'; \
	echo "$$cmd"; eval "$$cmd"

integration-2.16: venv venv-2.16 offline-pip build-tree
	@$(INSTALL_SYSTEM_DEPS) $(INTEGRATION_APT_PACKAGES)
	$(call CORE_ANSIBLE_TEST,$(VENV_216)) integration --venv --python $(TEST_PYTHON_216) --color no \
	    $(INTEGRATION_ARGS) $(INTEGRATION_216_TARGETS)

integration-2.21: offline-pip build-tree
	@$(SETUP_221); \
	$(INSTALL_SYSTEM_DEPS) $(INTEGRATION_APT_PACKAGES); \
	cmd='$(call CORE_ANSIBLE_TEST,$(VENV_221)) integration --venv --python 3.12 --color no $(INTEGRATION_ARGS) $(INTEGRATION_221_TARGETS)'; \
	echo "$$cmd"; eval "$$cmd"

# ansible-lint, production profile (config: .ansible-lint), on roles/ and playbooks/ of the
# same copy ansible-test uses.  ANSIBLE_COLLECTIONS_PATH points at that copy so the
# collection's own dicom.network.* names resolve without ansible-lint installing anything
# (.ansible-lint sets offline: true).  Skipped, with a message, while both directories
# hold no YAML yet.
lint: venv build-tree
	@if [ -z "$$(cd "$(ROOT)" && find $(LINT_PATHS) -type f \( -name '*.yml' -o -name '*.yaml' \) -print -quit 2>/dev/null)" ]; then \
	    echo "lint: no YAML in $(LINT_PATHS) yet -- nothing to lint (skipped)"; \
	    exit 0; \
	fi; \
	cmd='ANSIBLE_COLLECTIONS_PATH="$(BUILD_DIR)" "$(VENV)/bin/ansible-lint" --profile production $(LINT_PATHS)'; \
	echo "cd $(COLLECTION_DIR) && $$cmd"; \
	cd "$(COLLECTION_DIR)" && eval "$$cmd"

# The changelog (changelogs/config.yaml): fragments stay in changelogs/fragments/ (keep_fragments),
# `make changelog` adds the ones not yet recorded to the release of galaxy.yml's version in
# changelogs/changelog.yaml (created the first time, its date kept afterwards) and regenerates
# CHANGELOG.md. antsibull-changelog reads the plugins' short descriptions with ansible-doc.
COLLECTION_VERSION = $(shell sed -n 's/^version: *//p' "$(ROOT)/galaxy.yml")
ANTSIBULL_CHANGELOG = "$(VENV)/bin/antsibull-changelog"

changelog: venv
	cd "$(ROOT)" && $(ANTSIBULL_CHANGELOG) release --version "$(COLLECTION_VERSION)"

# Fragments and changelog.yaml lint, and CHANGELOG.md must be exactly what changelog.yaml generates.
# Fragments not yet in a release are listed (they are normal between releases), not failed.
changelog-lint: venv
	cd "$(ROOT)" && $(ANTSIBULL_CHANGELOG) lint
	cd "$(ROOT)" && $(ANTSIBULL_CHANGELOG) lint-changelog-yaml changelogs/changelog.yaml
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	cd "$(ROOT)" && $(ANTSIBULL_CHANGELOG) generate --output "$$tmp/CHANGELOG.md" --output-format md; \
	if ! diff -u CHANGELOG.md "$$tmp/CHANGELOG.md"; then \
	    echo "ERROR: CHANGELOG.md is not what changelogs/changelog.yaml generates: run make changelog" >&2; \
	    exit 1; \
	fi; \
	unreleased=$$("$(VENV_PY)" -c 'import sys, yaml; known = {f for r in (yaml.safe_load(open("changelogs/changelog.yaml"))["releases"] or {}).values() for f in r.get("fragments", [])}; print(" ".join(sorted(a for a in sys.argv[1:] if a not in known)))' \
	    $$(cd changelogs/fragments && ls *.yml *.yaml 2>/dev/null)); \
	if [ -n "$$unreleased" ]; then \
	    echo "changelog-lint: fragments not yet in CHANGELOG.md (make changelog adds them to $(COLLECTION_VERSION)): $$unreleased"; \
	fi; \
	echo "changelog-lint: passed"

# antsibull-docs lint-collection-docs on the build tree (so ansible-doc finds the collection):
# docs/docsite/ (extra-docs.yml, links.yml, rst/, with rstcheck and the references in it) and the
# documentation of every plugin and role (schema, markup, references). Then tests/docs/check_docsite.py:
# the guides still cover every module option, echoscu option, outcome and audit variable the code has.
docs-lint: venv build-tree
	cd "$(COLLECTION_DIR)" && ANSIBLE_COLLECTIONS_PATH="$(BUILD_DIR)" "$(VENV)/bin/antsibull-docs" lint-collection-docs \
	    --plugin-docs --check-extra-docs-refs --validate-collection-refs all --disallow-unknown-collection-refs .
	"$(VENV_PY)" "$(ROOT)/tests/docs/check_docsite.py" "$(COLLECTION_DIR)"

# The collection as users get it (tests/package/package-test.sh): build the tarball, check what it
# holds, install it into an empty collections path, run tests/package/smoke.yml and the shipped
# playbooks from there against a storescp on loopback, ansible-doc every plugin and role, and
# `ansible-builder create` the execution environment of tests/ee/ with the tarball.
package-test: venv
	@$(INSTALL_SYSTEM_DEPS) $(INTEGRATION_APT_PACKAGES)
	"$(ROOT)/tests/package/package-test.sh" "$(VENV)/bin"

# The main job, on loopback only and without root: starts the demo SCPs (hacking/demo_scp.py),
# runs playbooks/demo.yml (pacs_verify, then dicom_audit twice around a simulated change), prints
# the summaries and the report paths (demo-output/), and stops the SCPs (hacking/demo.sh).
demo: venv
	@"$(ROOT)/hacking/demo.sh" "$(VENV_PY)"

clean:
	rm -rf "$(BUILD_DIR)" "$(ROOT)/tests/output"

distclean: clean
	rm -rf "$(VENV)" "$(VENV_216)" "$(VENV_221)"

# make fuzz: the differential fuzzer of tests/fuzz/ (docs/dev/fuzzing.md): a fake SCP plays generated and mutated
# answers to the engine and to DCMTK's echoscu at once; it fails if we report success where echoscu does not.
#   make fuzz                                   400 cases: seed 1 and a random seed (printed)
#   make fuzz FUZZ_ARGS='--cases 100000'        the long run (about 10 cases/s on 2 busy cores)
#   make fuzz FUZZ_ARGS='--replay SEED:INDEX'   one case in detail: its bytes, both transcripts
# The short run is also part of `make integration` (target fuzz_differential).
FUZZ_ARGS ?=
.PHONY: fuzz
fuzz: venv build-tree
	@$(INSTALL_SYSTEM_DEPS) $(INTEGRATION_APT_PACKAGES)
	cd "$(COLLECTION_DIR)" && PYTHONPATH="$(BUILD_DIR)" "$(VENV_PY)" -m ansible_collections.dicom.network.tests.fuzz $(FUZZ_ARGS)

# make hostile-load: tests/load/hostile_batch.py with 2,000 healthy Orthanc endpoints and the hostile ones in one
# dicom_echo batch (three module runs, several minutes); `make integration` runs it with 200 (target hostile_batch).
#   make hostile-load LOAD_ARGS='--healthy 5000 --json load.json'
LOAD_ARGS ?= --healthy 2000
.PHONY: hostile-load
hostile-load: venv build-tree
	@$(INSTALL_SYSTEM_DEPS) $(INTEGRATION_APT_PACKAGES)
	cd "$(COLLECTION_DIR)" && PYTHONPATH="$(BUILD_DIR)" "$(VENV_PY)" -m ansible_collections.dicom.network.tests.load.hostile_batch $(LOAD_ARGS)

# make bench: the benchmarks of bench/run.py (README.md, "Benchmarks"): the module with its default
# options and the engine alone vs DCMTK echoscu, ansible.builtin.ping and per-host command: echoscu,
# against storescp, Orthanc and the asyncio SCP of tests/peers/, all started on loopback by the
# script itself.  Prints one table with the load average of every step, writes
# bench/results/latest.json (git-ignored); 6 to 12 minutes on 2 shared cores, optional repetitions
# skipped past --budget (600 s).  Not a test: it fails only if a measurement could not be taken,
# never on a missed target.  BENCH_ARGS='--quick' takes fewer repetitions.
BENCH_ARGS ?=
.PHONY: bench
bench: venv
	@$(INSTALL_SYSTEM_DEPS) $(INTEGRATION_APT_PACKAGES)
	"$(VENV_PY)" "$(ROOT)/bench/run.py" $(BENCH_ARGS)
