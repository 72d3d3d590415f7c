# swift-tune: the two commands a newcomer needs are `make demo` and `make test`.
SWIFT ?= swift

.PHONY: demo test build deps bench bench-quick clean

## Install what is missing, build in release mode and run the demo: generated three-class data, then the staged recipe (tune search) on it.
demo: build
	.build/release/tune demo --out .build/demo

## Install what is missing and run the test suite. The checkpoint tests cross-check files with Python's reference
## safetensors package; scripts/python.sh finds or installs it.
test: deps
	TUNE_PYTHON="$$(sh scripts/python.sh)" $(SWIFT) test

deps:
	@sh scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product tune

## Benchmarks against PyTorch (installed separately: pip install torch) and a C program calling cblas_sgemm.
bench: deps
	sh bench/run.sh

bench-quick: deps
	sh bench/run.sh --quick

clean:
	rm -rf .build
