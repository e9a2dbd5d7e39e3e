# The two commands a newcomer needs: `make run` and `make test`. Each installs what it needs.
SWIFT ?= swift
ARGS ?= models list

.PHONY: run test setup build release bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build

release: setup
	$(SWIFT) build -c release

# Starts awsgw (for now: whatever ARGS says, by default `models list`).
run: build
	AWSGW_MODELS=$(CURDIR)/models $(SWIFT) run --skip-build awsgw $(ARGS)

test: setup
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: release
	$(SWIFT) run -c release --skip-build awsgw-bench --models $(CURDIR)/models

clean:
	rm -rf .build
