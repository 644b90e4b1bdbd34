# giupho: the commands the README gives. Everything runs from a local virtualenv
# that these targets create, so a fresh machine needs only Python 3.11+ and pip.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SERVE  := $(VENV)/.installed-serve
DEV    := $(VENV)/.installed-dev
HOST   ?= 127.0.0.1
PORT   ?= 5000
PYTEST_ARGS ?= -n auto

.PHONY: run test bench lint venv clean catalogues

# What serving needs and nothing more: `make run` installs only this.
$(SERVE): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $(SERVE)

# The tests, benchmarks and linter add their tools (pytest, Playwright, PostgreSQL's
# driver, gunicorn, ruff) on top.
$(DEV): $(SERVE)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,postgres,serve]'
	touch $(DEV)

venv: $(DEV)

## make run: create or upgrade the SQLite database, load the shipped forms and demo data, serve
run: $(SERVE)
	$(BIN)/giupho run --host $(HOST) --port $(PORT)

## make test: install what the tests need and run the whole suite
test: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## make bench: run the benchmarks and print one table
bench: $(DEV)
	$(BIN)/python bench/run.py

## make catalogues: bring every gettext catalogue up to date with the code and compile it
## (run it after changing a text in the code; translate the new entries; run it again)
PYBABEL := $(BIN)/pybabel
EXTRACT := extract -F babel.cfg --add-location=file --sort-output -c TRANSLATORS: \
           --copyright-holder=giupho
# $(call catalogue,project,domain,locale folder,package folder)
define catalogue
	$(PYBABEL) $(EXTRACT) --project=$(1) -o $(3)/$(2).pot $(4)
	$(PYBABEL) update --ignore-obsolete -D $(2) -i $(3)/$(2).pot -d $(3)
	$(PYBABEL) compile -D $(2) -d $(3)
endef

catalogues: $(DEV)
	$(call catalogue,giupho,messages,server/translations,server)
	$(call catalogue,giupho-sync,giupho_sync,sync/client/locale,sync/client)
	$(call catalogue,giupho-forms,giupho_forms,forms/locale,forms)

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check forms sync server tests bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
