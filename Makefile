# swift-tune: the two commands a newcomer needs are `make demo` and `make test`.
SWIFT ?= swift

.PHONY: demo test build deps bench bench-quick report-check lint docs clean

## Install what is missing, build in release mode and run the demo: generated three-class data, then the staged recipe (tune search) on it.
demo: build
	.build/release/tune demo --out .build/demo

## Install what is missing and run the test suite. The checkpoint tests cross-check files with Python's reference
## safetensors package; scripts/python.sh finds or installs it.
test:
	@sh scripts/install-deps.sh --tests
	TUNE_PYTHON="$$(sh scripts/python.sh)" $(SWIFT) test

deps:
	@sh scripts/install-deps.sh

## The code's layout as .swift-format says (line length 120, four spaces); `swift format format -i -r Sources Tests bench`
## rewrites it so. Then the size limits: no file in Sources/ over 400 lines, no function over 60 (tools/lint/sizes.py).
lint:
	$(SWIFT) format lint --strict -r Sources Tests bench
	python3 tools/lint/sizes.py

## The DocC documentation of every library module, failing on any warning (a broken link, a missing article).
docs: deps
	sh scripts/docs.sh

build: deps
	$(SWIFT) build -c release --product tune

## Benchmarks against PyTorch (installed separately: pip install torch) and a C program calling cblas_sgemm.
bench: deps
	sh bench/run.sh

bench-quick: deps
	sh bench/run.sh --quick

## The report in a real browser: a small study's report.html rendered by headless Chromium (installed if missing) at
## 360 and 1200 px; fails unless both screenshots are written and not blank (a blank page's is under 20 kB; these are over 100 kB).
report-check: build
	rm -rf .build/report-check && mkdir -p .build/report-check
	.build/release/tune generate moons --rows 400 --seed 1 --out .build/report-check/moons.csv
	.build/release/tune search --data .build/report-check/moons.csv --target label --epochs 10 --members 2 --out .build/report-check/study > /dev/null
	test -s .build/report-check/study/report.html
	sh tools/report/screenshots.sh .build/report-check/study/report.html .build/report-check
	for w in 360 1200; do [ "$$(wc -c < .build/report-check/report-$$w.png)" -gt 50000 ] || { echo "report-$$w.png looks blank" >&2; exit 1; }; done

clean:
	rm -rf .build
