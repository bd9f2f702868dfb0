# Every target makes its own virtual environment from nothing when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
NATIVE := $(wildcard src/auctioneer/*/*.c src/auctioneer/*/*.h)
SAN_VENV := .venv-sanitize
SAN_RT := $(shell gcc -print-file-name=libasan.so) $(shell gcc -print-file-name=libubsan.so)

.PHONY: run test lint bench sanitize clean docs fuzz scx-vm-test scx-vm-ivshmem cluster

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

# A three-node NATS JetStream cluster on loopback ports, in the foreground (Ctrl-C stops it);
# its stores under out/cluster. Then: auctioneer engine / auctioneer serve --nats <printed URLs>.
cluster: $(VENV)/.native
	$(BIN)/auctioneer cluster --dir out/cluster

test: $(VENV)/.native
	$(PY) -m pytest -q

# The native extensions' stubs (every src/auctioneer/**/_*.pyi) against the built modules.
NATIVE_STUBS = $(shell cd src && find auctioneer -name '_*.pyi' | sed 's,\.pyi$$,,; s,/,.,g' | sort)

lint: $(VENV)/.native
	$(BIN)/ruff check src tests tools
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(PY) -m mypy.stubtest --allowlist tools/stubtest-allowlist.txt $(NATIVE_STUBS)

bench: $(VENV)/.native
	$(BIN)/auctioneer bench tick --json out/bench-tick.json --plot out/bench-tick.png

# The native tests again, on a build with AddressSanitizer and UBSan.
sanitize:
	test -x $(SAN_VENV)/bin/python || $(PYTHON) -m venv $(SAN_VENV)
	$(SAN_VENV)/bin/python -m pip install -q --upgrade pip setuptools wheel
	$(SAN_VENV)/bin/python -m pip install -q '.[dev]'
	AUCTIONEER_SANITIZE=1 $(SAN_VENV)/bin/python -m pip install -q --force-reinstall --no-deps --no-build-isolation .
	AUCTIONEER_SANITIZE=1 LD_PRELOAD="$(SAN_RT)" ASAN_OPTIONS=detect_leaks=0 \
		$(SAN_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/tick tests/gpu tests/exchange/test_native.py tests/exchange/test_native_engine.py tests/exchange/test_native_replay.py tests/exchange/test_native_reserve.py tests/exchange/test_native_hash.py tests/exchange/test_native_aon.py tests/exchange/test_native_cross.py tests/exchange/test_price_native.py \
		tests/exchange/test_place_records.py tests/exchange/test_native_snapshot.py tests/exchange/test_native_restore.py tests/exchange/test_native_replay_cross.py tests/service/test_batchpath.py tests/service/test_fastbody.py tests/service/test_changes.py tests/exchange/test_native_fields.py -m native

# Every fuzz target (tests/fuzz/) for FUZZ_SECONDS each, one after the other; coverage-guided
# under atheris when it installs (else random inputs). A finding is saved under
# tests/fuzz/findings/ and stops the run. `make test` runs each for a few examples only.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := clearing_json clock_json scenario_yaml command_codec journal_reader \
	snapshot_reader http_api

fuzz: $(VENV)/.native
	$(PY) -c "import atheris" 2>/dev/null || $(PY) -m pip install -q 'atheris>=2.3' \
		|| echo "atheris did not install: random inputs instead"
	cd tests/fuzz && for target in $(FUZZ_TARGETS); do \
		../../$(PY) run.py $$target $(FUZZ_SECONDS) || exit 1; done

# The sched_ext scheduler on a real kernel: Debian's newest sched_ext kernel
# booted under QEMU (root; downloads cached in /var/cache/auctioneer/scx-vm).
scx-vm-test: $(VENV)/.native
	kernel/vm/run.sh test

# Bids from a guest process through QEMU's ivshmem-plain device into the
# host's ring (the same VM; not part of scx-vm-test, so it adds nothing there).
scx-vm-ivshmem: $(VENV)/.native
	kernel/vm/run.sh ivshmem

clean:
	rm -rf $(VENV) $(SAN_VENV) build src/*.egg-info src/auctioneer/*/*.so

# docs/design.md from docs/design.template.md: runs every command it quotes
# (JSON and PNG into docs/design/) and fails naming any that is missing.
docs: $(VENV)/.native
	$(PY) -m tools.docs build
