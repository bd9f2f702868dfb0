# Every target makes its own virtual environment from nothing when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
NATIVE := $(wildcard src/auctioneer/*/*.c src/auctioneer/*/*.h)
SAN_VENV := .venv-sanitize
SAN_RT := $(shell gcc -print-file-name=libasan.so) $(shell gcc -print-file-name=libubsan.so)

.PHONY: run test lint bench sanitize clean docs

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip setuptools wheel
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

# The C core is rebuilt in place whenever a C source changes.
$(VENV)/.native: $(VENV)/.installed $(NATIVE) setup.py
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

run: $(VENV)/.native
	$(BIN)/auctioneer serve --demo --demo-trader --host 127.0.0.1 --port 8000

test: $(VENV)/.native
	$(PY) -m pytest -q

lint: $(VENV)/.native
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/lint-imports

bench: $(VENV)/.native
	$(BIN)/auctioneer bench tick --json out/bench-tick.json --plot out/bench-tick.png

# The native tests again, on a build with AddressSanitizer and UBSan.
sanitize:
	test -x $(SAN_VENV)/bin/python || $(PYTHON) -m venv $(SAN_VENV)
	$(SAN_VENV)/bin/python -m pip install -q --upgrade pip setuptools wheel
	$(SAN_VENV)/bin/python -m pip install -q '.[dev]'
	AUCTIONEER_SANITIZE=1 $(SAN_VENV)/bin/python -m pip install -q --force-reinstall --no-deps --no-build-isolation .
	AUCTIONEER_SANITIZE=1 LD_PRELOAD="$(SAN_RT)" ASAN_OPTIONS=detect_leaks=0 \
		$(SAN_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/tick tests/gpu -m native

clean:
	rm -rf $(VENV) $(SAN_VENV) build src/*.egg-info src/auctioneer/*/*.so

# docs/design.md from docs/design.template.md: runs every command it quotes
# (JSON and PNG into docs/design/) and fails naming any that is missing.
docs: $(VENV)/.native
	$(BIN)/auctioneer docs build
