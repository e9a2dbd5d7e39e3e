# The two commands a newcomer needs: `make run` and `make test`. Each installs what it needs.
SWIFT ?= swift
ARGS ?= serve

.PHONY: run test setup build release bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# Starts the gateway (`awsgw serve`; ARGS="..." runs another command).
run: build
	AWSGW_MODELS=$(CURDIR)/models $(SWIFT) run --skip-build awsgw $(ARGS)

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: release
	.build/release/awsgw-bench --models $(CURDIR)/models

clean:
	rm -rf .build
