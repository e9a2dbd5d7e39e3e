# The two commands a newcomer needs: `make run` and `make test`. Each installs what it needs.
SWIFT ?= swift
ARGS ?= serve
PREFIX ?= /usr/local
# Executions per fuzz target for `make fuzz` (libFuzzer), and extra soak arguments.
FUZZ_RUNS ?= 2000000
SOAK_ARGS ?=

.PHONY: run test setup tools build release install bench bench-peer bench-pipeline fuzz fuzz-build soak clean

setup:
	@bash scripts/setup.sh

# Programs the tests drive (curl); installed from Debian's packages when missing.
tools:
	@bash scripts/install-tools.sh

build: setup
	$(SWIFT) build

# The release binary alone (the benchmarks and fuzz targets build their own products).
release: setup
	$(SWIFT) build -c release --product awsgw

# Starts the gateway (`awsgw serve`; ARGS="..." runs another command).
run: build
	AWSGW_MODELS=$(CURDIR)/models $(SWIFT) run --skip-build awsgw $(ARGS)

# The tests run with HOME and XDG_STATE_HOME in a fresh folder that must stay free of
# awsgw's state: a test that falls back to the user's folders (an audit log in
# ~/.local/state/awsgw) fails the run instead of writing there.
test: setup tools
	python3 scripts/check_imports.py
	$(SWIFT) build --build-tests
	bash scripts/run-tests.sh $(SWIFT)
	bash scripts/scan_secrets.sh .build/test-output.log

# The release binary in $(PREFIX)/bin and the pinned models in $(PREFIX)/share/awsgw/models,
# where the installed binary looks for them.
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/awsgw
	install -m 0755 .build/release/awsgw $(DESTDIR)$(PREFIX)/bin/awsgw
	rm -rf $(DESTDIR)$(PREFIX)/share/awsgw/models
	cp -R models $(DESTDIR)$(PREFIX)/share/awsgw/models

bench: setup
	$(SWIFT) build -c release --product awsgw-bench
	.build/release/awsgw-bench --models $(CURDIR)/models

# awsgw against aws-sigv4-proxy (built from a snapshot: AWS_SIGV4_PROXY_SRC) in front of nginx,
# driven by wrk (issue 14); and the in-process pipeline's instructions and allocations per call.
bench-peer: release
	bash scripts/install-bench-tools.sh
	python3 scripts/bench_peer.py --awsgw .build/release/awsgw --models $(CURDIR)/models --poll-levels 1,2,4,16

bench-pipeline: setup
	bash scripts/install-bench-tools.sh
	bash scripts/callgrind_pipeline.sh

# libFuzzer over every parser of outside input (not in CI; see docs/FUZZING.md).
fuzz-build: setup
	$(SWIFT) build -c release --sanitize fuzzer -Xswiftc -DFUZZING --scratch-path .build-fuzz --product awsgw-fuzz

fuzz: fuzz-build
	AWSGW_MODELS=$(CURDIR)/models FUZZ_RUNS=$(FUZZ_RUNS) bash scripts/fuzz.sh .build-fuzz/release/awsgw-fuzz

# Soak test (not in CI): 10 minutes at concurrency 64 against a stand-in for AWS; fails on
# RSS or descriptor growth, lost or duplicate answers, or an unhealthy gateway.
soak: release
	python3 scripts/soak.py --awsgw .build/release/awsgw --models $(CURDIR)/models $(SOAK_ARGS)

clean:
	rm -rf .build .build-fuzz
