# The two commands of the README: `make demo` and `make test`.
# Each creates .venv when missing and installs what it needs (torch==2.13.0 first:
# that pin is the local CPU wheel; anything else would pull CUDA packages).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/demo.db
PORT   ?= 8501

.PHONY: demo test setup browser-deps ocr-deps bench clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[test]' -c constraints.txt
	touch $@

setup: $(VENV)/.installed

## Ingest and analyse the bundled demo corpus, then open the explorer on localhost.
demo: setup ocr-deps
	$(BIN)/systemfel build corpus --db $(DB)
	$(BIN)/systemfel app --db $(DB) --port $(PORT)

## Debian's Chromium and ChromeDriver for the end-to-end browser test (needs root or sudo).
browser-deps:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null \
	  || echo "Kunde inte installera chromium; webbläsartestet hoppas över."; \
	fi

## Debian's Tesseract with the Swedish and English models, for scanned reports (needs root or sudo).
ocr-deps:
	@if ! command -v tesseract >/dev/null || ! tesseract --list-langs 2>/dev/null | grep -qx swe; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq tesseract-ocr tesseract-ocr-swe tesseract-ocr-eng >/dev/null \
	  || echo "Kunde inte installera Tesseract; inskannade sidor läses inte (OCR-testerna hoppas över)."; \
	fi

## Run the whole test suite.
test: setup browser-deps ocr-deps
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -p no:cacheprovider --durations=25

bench: setup
	$(BIN)/python benchmarks/ingest_speed.py
	$(BIN)/python benchmarks/embed_search.py

## Pin the current environment's versions (after a deliberate upgrade, with the tests passing).
lock: setup
	{ sed -n '/^#/p' constraints.txt; $(BIN)/pip freeze --exclude-editable | grep -v -i -e '^torch==' -e '^systemfel'; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) data artifacts
