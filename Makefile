# Ferry: the two commands a newcomer needs are `make demo` and `make test` (README.md).
SWIFT ?= swift
JOBS ?= 2

.PHONY: setup build release test demo bench clean

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build -j $(JOBS)

release: setup
	$(SWIFT) build -c release -j $(JOBS)

# The gRPC/protobuf-c suites and the 200x start/stop storm run a second time under AddressSanitizer + LeakSanitizer (own scratch path, so the
# normal build stays incremental); scripts/lsan-suppressions.txt lists the toolchain-library leaks only.
ASAN_FILTER ?= GRPCTransportTests|CSITests

test: setup
	$(SWIFT) build --build-tests -j $(JOBS)
	SWIFT=$(SWIFT) bash scripts/run-tests.sh
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan -j $(JOBS)
	LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt SWIFT=$(SWIFT) \
	  bash scripts/asan-step.sh '$(ASAN_FILTER)'
	# Issue 17's 200x start/stop cancellation storm, in its own process (it keeps the 2-thread pool busy).
	LSAN_OPTIONS=suppressions=$(CURDIR)/scripts/lsan-suppressions.txt SWIFT=$(SWIFT) \
	  bash scripts/asan-step.sh 'LifecycleStressTests'

demo: release
	@bash scripts/demo.sh

bench: release
	@bash Benchmarks/run.sh

clean:
	rm -rf .build .build-*
