# vae-kit: `make grade` grades submissions, `make test` runs the kit's tests.
# Both create the virtual environment themselves. MNIST is read from $(MNIST_ROOT)/MNIST/raw/
# (downloaded there when missing).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
MNIST_ROOT ?= data
SUBMISSIONS ?= solution/vae.ipynb student_template/vae.ipynb
# the solution notebook `make solution` runs (Part 2: NOTEBOOK=solution/vae2d.ipynb)
NOTEBOOK ?= solution/vae.ipynb
OUT ?= build/grades
JOBS ?= 2
# pytest-xdist workers for `make test`
TEST_JOBS ?= 2
export MNIST_ROOT

.PHONY: grade report similarity pdf class fake-export similarity-separation test test-fast corpus \
	false-failures student solution data classifier clean autograder bench

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

data: $(VENV)/.installed  ## download MNIST into $(MNIST_ROOT) when it is not there
	$(PY) -c "import vae_utils; vae_utils.download_mnist()"

classifier: data  ## train the digit classifier of Part 2's checks into $(MNIST_ROOT)/MNIST/classifier/, print its accuracy
	OMP_NUM_THREADS=1 $(PY) scripts/train_digit_classifier.py

grade: data  ## grade $(SUBMISSIONS) (files, folders, or Gradescope's export zip/folder; default: solution and template)
	$(PY) -m autograder grade-many $(SUBMISSIONS) --out $(OUT) --jobs $(JOBS)

report: $(VENV)/.installed  ## write $(OUT)/report.html from what `make grade` wrote into $(OUT)
	$(PY) -m autograder report $(OUT)

similarity: $(VENV)/.installed  ## print the most similar pairs of submissions graded into $(OUT)
	$(PY) -m autograder similarity $(OUT)

pdf: $(VENV)/.installed  ## a PDF of each graded notebook's figures and written answers, $(OUT)/<key>/submission.pdf
	$(PY) -m autograder pdf $(OUT)

class: grade  ## all of it for a class: grade $(SUBMISSIONS), then the report page and the PDFs
	$(PY) -m autograder report $(OUT)
	$(PY) -m autograder pdf $(OUT)

fake-export: $(VENV)/.installed  ## build/fake_export/: a Gradescope export of ~60 made-up students from tests/corpus
	$(PY) scripts/fake_export.py --out build/fake_export

similarity-separation: $(VENV)/.installed  ## how well the similarity check separates disguised copies (corpus)
	$(PY) scripts/similarity_separation.py

test: data  ## the kit's own tests, all of them, $(TEST_JOBS) at a time (what CI runs)
	$(PY) -m pytest -n $(TEST_JOBS)

test-fast: data  ## the kit's tests without the slow ones (corpus, hostile gradings, notebook runs)
	$(PY) -m pytest -n $(TEST_JOBS) -m "not slow"

corpus: data  ## grade every assignment's corpus in tests/corpus/<name>/; print case x method -> points lost, and the totals
	$(PY) scripts/grade_corpus.py --jobs $(JOBS)

false-failures: data  ## false-failure rate of the statistical checks for correct code, over 200 seeds
	$(PY) scripts/false_failures.py --seeds 200

student: $(VENV)/.installed  ## write student_template/ (Part 1's vae.ipynb, Part 2's vae2d.ipynb) from the solutions
	$(PY) -m autograder assign solution/vae.ipynb student_template/vae.ipynb
	$(PY) -m autograder assign solution/vae2d.ipynb student_template/vae2d.ipynb

solution: data  ## re-run the solution notebook $(NOTEBOOK) in place, saving its outputs
	$(PY) -m autograder execute $(NOTEBOOK)

autograder:  ## build build/autograder.zip for Gradescope (standard library only; see README, "Gradescope")
	$(PYTHON) -m autograder package --out build/autograder.zip

bench: data  ## measure grading time, memory, training speed and throughput on this machine (~15 min)
	$(PY) scripts/bench.py

clean:
	rm -rf build .pytest_cache
