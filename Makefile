# The README's two commands: `make book` and `make test`.
# Both create the virtual environment .venv on first use and install the pinned
# dependencies into it; nothing has to be installed by hand.

# The book runs on Python 3.12 (what Colab has). `python3.12` on the PATH, else pyenv's
# 3.12 (its shim answers only for the versions pyenv has selected; pyenv's folder is
# found from the shim, so an empty HOME does not hide it); PYTHON= overrides it.
PYENV_VERSIONS := $(abspath $(dir $(realpath $(shell command -v python3.12 2>/dev/null)))../versions)
PYTHON ?= $(shell for p in python3.12 $(wildcard $(PYENV_VERSIONS)/3.12*/bin/python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3.12); do \
            $$p -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null && echo $$p && break; done)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BUILD_FLAGS := --warningiserror --nitpick --keep-going

.PHONY: book pdf answers test test-unit test-latest bench bench-mcmc mutation clean help

help:
	@echo "make book   build the site into _build/html (executes every lecture)"
	@echo "make pdf    the whole book as one PDF, printed from the build's pages by Chromium -> _build/pdf/book.pdf (and _build/html/book.pdf)"
	@echo "make answers  the exercises' answer key from the build's solutions -> lib/bayesbook/reference/answers.json"
	@echo "make test   ruff, unit tests, the executing book build (fails on any error or warning), nbval of every lecture notebook, browser checks"
	@echo "make test-latest  every lecture notebook in a fresh venv with pyproject.toml's ranges only (no pins) -> _build/latest/"
	@echo "make bench  cold build; per-lecture times, total time, peak memory -> bench/results.json"
	@echo "make bench-mcmc  chapter 3's NUTS grid, tutorial way vs the chapter's way -> bench/mcmc_results.json"
	@echo "make mutation  inject realistic bugs into the package one at a time; do its unit tests fail? -> bench/mutation_results.json"
	@echo "make clean  remove _build"

$(STAMP): requirements.txt constraints.txt pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.12 not found: install it, or name it with PYTHON=/path/to/python3.12"; exit 1; }
	@# a venv of another Python (an older checkout's 3.11) is made anew
	@test ! -x $(BIN)/python || $(BIN)/python -c 'import sys; assert sys.version_info[:2] == (3, 12)' 2>/dev/null || rm -rf $(VENV)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . $(BUILD_FLAGS)
	@echo
	@echo "The book is built. Open: file://$(CURDIR)/_build/html/index.html"

# The PDF is printed from a single-page build of the same executed notebooks (the
# jupyter-cache that `make book` filled): nothing is executed twice. Needs Debian's
# chromium, chromium-driver and poppler-utils (.ci/run installs them).
pdf: book
	$(BIN)/python _ext/book_pdf.py

# After a change to an exercise's solution: the key that `exercises.check` reads in Colab.
answers: book
	$(BIN)/python tests/reference/answer_key.py

test: $(STAMP)
	$(BIN)/ruff check lib tests _ext bench
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  echo "NOTE: no Chromium found: the browser checks of the built pages will be skipped (Debian: apt-get install chromium chromium-driver)"
	@command -v pdftotext >/dev/null || \
	  echo "NOTE: no pdftotext found: the checks of the book's PDF will be skipped (Debian: apt-get install poppler-utils)"
	$(BIN)/python -m pytest

test-unit: $(STAMP)
	$(BIN)/ruff check lib tests _ext bench
	$(BIN)/python -m pytest -m "not book"

# Not part of `make test`: a release upstream must not block a change here. Needs the
# published notebooks of a build (make book) and the book's venv for nbclient.
test-latest: book
	$(BIN)/python tests/book/latest_lane.py

bench: $(STAMP)
	$(BIN)/python bench/build_bench.py

bench-mcmc: $(STAMP)
	$(BIN)/python bench/mcmc_bench.py

mutation: $(STAMP)
	$(BIN)/python bench/mutation_check.py

clean:
	rm -rf _build
