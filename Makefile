# Everything runs from a virtual environment that this Makefile creates from pyproject.toml,
# so a clean clone needs only python3 (and, for `make e2e`, root on Debian).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_DIR ?= build/demo

.PHONY: help demo test e2e bench bench-results bench-submit results-example release clean

help:
	@echo "make demo   render the bundled example into $(DEMO_DIR): the tree, and an excerpt of one script"
	@echo "make test   run the test suite (everything but the real-SLURM tests)"
	@echo "make e2e    run the real-SLURM, real-inspect tests (root, Debian)"
	@echo "make bench  benchmark copier copy/update and collect_results.py at sweep scale"
	@echo "make bench-results   only collect_results.py on 1,040 cells (about 1 minute)"
	@echo "make bench-submit    only one submit_evals.sh pass on 1,040 cells (recorders on PATH)"
	@echo "make results-example regenerate the README's results table and docs/results_example.png"
	@echo "make release VERSION=x.y.z  tag a release (CHANGELOG.md and pyproject.toml must say x.y.z)"

# What rendering needs, and nothing else: Copier and the loader's libraries (pyproject.toml's
# dependencies), as a user installs them. make demo needs no more.
$(VENV)/.installed-runtime: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet .
	touch $@

$(VENV)/.installed-test: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet ".[test]"
	touch $@

# torch first, spelled exactly so: this machine kind has the CPU build of 2.13.0 on disk,
# and anything else downloads a multi-GB CUDA build.
$(VENV)/.installed-e2e: $(VENV)/.installed-test
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet ".[test,e2e]"
	touch $@

DEMO_SCRIPT = $(DEMO_DIR)/r8_lr1e-5/eval/capitalization_epoch0.slurm

# The example experiment rendered as a user renders theirs; then the tree, and of one script
# its #SBATCH header, its checkpoint, its task arguments and its inspect command.
demo: $(VENV)/.installed-runtime
	rm -rf $(DEMO_DIR)
	mkdir -p $(dir $(DEMO_DIR))
	cp -r examples/cap_1B_lora $(DEMO_DIR)
	$(VENV)/bin/copier copy --trust --defaults --quiet --vcs-ref HEAD $(CURDIR) $(DEMO_DIR)
	@echo
	@echo "Rendered into $(DEMO_DIR) (the input files are the example's):"
	@cd $(DEMO_DIR) && find . \( -name .copier-answers.yml -o -name submit_evals.sh -o -name collect_results.py \
	  -o -path '*/eval/*' ! -name .gitkeep \) -print | sort
	@echo
	@echo "An excerpt of $(DEMO_SCRIPT) ($$(wc -l < $(DEMO_SCRIPT)) lines):"
	@sed -n '1,10p' $(DEMO_SCRIPT)
	@echo "  ⋮"
	@grep -m1 '^MODEL_PATH=' $(DEMO_SCRIPT)
	@sed -n '/^cat > "$$TASK_CONFIG"/,/^TASK_ARGS$$/p' $(DEMO_SCRIPT)
	@echo "  ⋮"
	@sed -n '/^inspect eval/,/--task-config/p' $(DEMO_SCRIPT)
	@echo "  ⋮"

test: $(VENV)/.installed-test
	$(PY) -m pytest -m "not e2e"

e2e: $(VENV)/.installed-e2e
	bash tests/e2e/run.sh $(PY)

bench: $(VENV)/.installed-test
	$(PY) bench/run.py

bench-results: $(VENV)/.installed-test
	$(PY) bench/results.py

bench-submit: $(VENV)/.installed-test
	$(PY) bench/submit.py

results-example: $(VENV)/.installed-test
	$(PY) docs/results_example.py

# A release is an annotated tag vX.Y.Z: Copier takes the newest such tag when no --vcs-ref is
# given, and `copier update` moves projects to it. The tag names a committed tree whose
# CHANGELOG.md says what changed and whose pyproject.toml carries the same version.
release:
	@echo "$(VERSION)" | grep -Eqx '[0-9]+\.[0-9]+\.[0-9]+' \
	  || { echo "usage: make release VERSION=x.y.z (got '$(VERSION)')" >&2; exit 2; }
	@test -z "$$(git status --porcelain)" \
	  || { echo "error: the work tree has uncommitted changes: a release tags a commit, commit first" >&2; exit 1; }
	@grep -qx '## $(VERSION)' CHANGELOG.md \
	  || { echo "error: CHANGELOG.md has no '## $(VERSION)' section: say what changed, commit, retry" >&2; exit 1; }
	@grep -qx 'version = "$(VERSION)"' pyproject.toml \
	  || { echo "error: pyproject.toml's version is not $(VERSION): set it, commit, retry" >&2; exit 1; }
	@! git rev-parse -q --verify "refs/tags/v$(VERSION)" >/dev/null \
	  || { echo "error: the tag v$(VERSION) exists already" >&2; exit 1; }
	git tag -a "v$(VERSION)" -m "copier-inspect-slurm $(VERSION)"
	@echo "Tagged v$(VERSION). A tag reaches users only once pushed: git push origin HEAD v$(VERSION)"

clean:
	rm -rf build $(VENV) .pytest_cache
