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

test: setup
	$(SWIFT) build --build-tests -j $(JOBS)
	$(SWIFT) test --skip-build

demo: release
	@bash scripts/demo.sh

bench: release
	@bash Benchmarks/run.sh

clean:
	rm -rf .build .build-*
