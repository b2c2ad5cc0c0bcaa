# vae-kit: `make grade` grades submissions, `make test` runs the kit's tests.
# Both create the virtual environment themselves. MNIST is read from $(MNIST_ROOT)/MNIST/raw/
# (downloaded there when missing).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MNIST_ROOT ?= data
# the assignment to grade, build or check (vae: Part 1, vae2d: Part 2, cvae: Part 3); empty: every assignment
ASSIGNMENT ?=
# (autograder.core.assignment.names(): the kit's own and those of $VAE_KIT_ASSIGNMENTS; standard library only, so that
# it runs before the venv exists)
ALL_ASSIGNMENTS := $(shell $(PYTHON) -c 'from autograder.core.assignment import names; print(*names())')
ASSIGNMENTS := $(if $(ASSIGNMENT),$(ASSIGNMENT),$(ALL_ASSIGNMENTS))
# default: the solution and the template of each assignment
SUBMISSIONS ?= $(shell $(PY) -c 'from autograder.core.assignment import load; \
	print(*[p for a in "$(ASSIGNMENTS)".split() for p in (load(a).solution_notebook, load(a).template_notebook)])')
# the digit classifier of the quality checks, kept next to the data (make classifier)
CLASSIFIER := $(MNIST_ROOT)/MNIST/classifier/digits-cnn.npz
# the assignments whose spec declares classifier_groups (their grading and zips need the classifier)
CLASSIFIED := $(shell $(PYTHON) -c 'from autograder.core.assignment import folder_of, names; \
	print(*[n for n in names() if "classifier_groups=" in (folder_of(n) / "spec.py").read_text()])')
# what grade and autograder need first: the classifier, when an assignment of theirs judges digits with it
NEEDS_CLASSIFIER := $(if $(filter $(CLASSIFIED),$(ASSIGNMENTS)),$(if $(VAE_KIT_CLASSIFIER),,$(CLASSIFIER)))
# the solution notebooks `make solution` runs (default: those of $(ASSIGNMENTS); or NOTEBOOK=solution/vae2d.ipynb)
NOTEBOOK ?= $(shell $(PY) -c 'from autograder.core.assignment import load; \
	print(*[load(a).solution_notebook for a in "$(ASSIGNMENTS)".split()])')
OUT ?= build/grades
JOBS ?= 2
# pytest-xdist workers for `make test`
TEST_JOBS ?= 2
# MathJax 3, for the formulas of the hand-grading PDFs (make mathjax): npm's tarball, checked against its sha256
MATHJAX_VERSION := 3.2.2
MATHJAX_SHA256 := 1b9c0a1c44df864e915690558e72adb9cc5203360daefd385084ced3b6c64c09
MATHJAX := build/mathjax/es5/tex-svg.js
export MNIST_ROOT

.PHONY: grade report similarity pdf class fake-export similarity-separation test test-all test-fast corpus \
	false-failures student check-agreement solution data classifier clean autograder bench mathjax

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

data: $(VENV)/.installed  ## download MNIST into $(MNIST_ROOT) when it is not there
	$(PY) -c "import vae_utils; vae_utils.download_mnist()"

mathjax: $(MATHJAX)  ## fetch MathJax $(MATHJAX_VERSION) (the PDFs' formulas) from the npm registry into build/mathjax/

$(MATHJAX):
	mkdir -p build/mathjax
	curl -fsSL --retry 3 -o build/mathjax/mathjax.tgz https://registry.npmjs.org/mathjax/-/mathjax-$(MATHJAX_VERSION).tgz
	echo "$(MATHJAX_SHA256)  build/mathjax/mathjax.tgz" | sha256sum --check --quiet
	tar -xzf build/mathjax/mathjax.tgz -C build/mathjax --strip-components=1 package/es5
	rm build/mathjax/mathjax.tgz
	touch $@

classifier: data  ## train the digit classifier of Parts 2 and 3's checks into $(MNIST_ROOT)/MNIST/classifier/, print its accuracy
	OMP_NUM_THREADS=1 $(PY) scripts/train_digit_classifier.py

$(CLASSIFIER):
	$(MAKE) classifier

grade: data $(NEEDS_CLASSIFIER)  ## grade $(SUBMISSIONS) as $(ASSIGNMENT) (default: each solution and template, each recognised)
	$(PY) -m autograder grade-many $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS) $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

report: $(VENV)/.installed  ## write $(OUT)/report.html and a feedback page per submission, $(OUT)/feedback/<key>.html
	$(PY) -m autograder report $(OUT)

similarity: $(VENV)/.installed  ## print the most similar pairs of submissions graded into $(OUT), and every flagged pair
	$(PY) -m autograder similarity $(OUT)

pdf: $(VENV)/.installed $(MATHJAX)  ## a PDF of each graded notebook's figures and written answers, $(OUT)/<key>/submission.pdf
	$(PY) -m autograder pdf $(OUT)

class: grade $(MATHJAX)  ## all of it for a class: grade $(SUBMISSIONS), then the report page and the PDFs
	$(PY) -m autograder report $(OUT)
	$(PY) -m autograder pdf $(OUT)

fake-export: $(VENV)/.installed  ## build/fake_export/: a Gradescope export of ~60 made-up students from tests/corpus
	$(PY) scripts/fake_export.py --out build/fake_export

similarity-separation: $(VENV)/.installed  ## how well the similarity check separates disguised copies, on every assignment's corpus (ASSIGNMENT=name for one)
	$(PY) scripts/similarity_separation.py $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

test: data $(MATHJAX)  ## the kit's own tests, $(TEST_JOBS) at a time (what CI runs): all but the extended ones
	$(PY) -m pytest -n $(TEST_JOBS) -m "not extended"

test-all: data $(MATHJAX)  ## every test, with Parts 2 and 3's twins of the hostile attacks on the engine alone
	$(PY) -m pytest -n $(TEST_JOBS)

test-fast: data $(MATHJAX)  ## the kit's tests without the slow ones (corpus, hostile gradings, notebook runs)
	$(PY) -m pytest -n $(TEST_JOBS) -m "not slow and not extended"

corpus: data  ## grade the corpus of $(ASSIGNMENT) (default every assignment's, tests/corpus/<name>/); print the tables
	$(PY) scripts/grade_corpus.py --jobs $(JOBS) $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

false-failures: data  ## false-failure rate of every assignment's statistical checks for correct code, over 200 seeds
	$(PY) scripts/false_failures.py --seeds 200 $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

student: data  ## write every student_template/<name>.ipynb, generated references and checks_<name>.npz (the notebooks' checks), from the solutions
	$(PY) -m autograder assign --all

check-agreement: data  ## do the notebooks' checks agree with the grader, test by test, on every corpus case? (ASSIGNMENT=name for one)
	$(PY) scripts/check_agreement.py $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) --jobs $(JOBS)

solution: data  ## re-run each solution notebook of $(NOTEBOOK) in place, saving its outputs (ASSIGNMENT=name for one)
	set -e; for notebook in $(NOTEBOOK); do $(PY) -m autograder execute $$notebook; done

autograder: $(NEEDS_CLASSIFIER)  ## build build/autograder-<name>.zip for Gradescope, one per assignment (README, "Gradescope")
	$(PYTHON) -m autograder package $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT)) --out 'build/autograder-{assignment}.zip'

bench: data $(NEEDS_CLASSIFIER)  ## measure grading against its floor for each assignment, Part 1's training speed and throughput (ASSIGNMENT=name for one; scripts/bench.py --quick checks that it runs)
	$(PY) scripts/bench.py $(if $(ASSIGNMENT),--assignment $(ASSIGNMENT))

clean:
	rm -rf build .pytest_cache
